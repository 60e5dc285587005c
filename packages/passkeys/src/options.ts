import { ConfigurationError, type Secret } from "@tessera/core";
import type { ChallengeStore } from "./challenge-store.js";
import type { PasskeyDatabase } from "./database.js";

/** Whether the authenticator must verify the user (PIN, biometrics), as WebAuthn names it. */
export type PasskeyUserVerification = "required" | "preferred" | "discouraged";

/** Who registers a passkey: the logged-in user (any Tessera user has these fields). */
export interface PasskeyUser<ID = unknown> {
  id: ID;
  email: string;
}

/** Configuration of {@link PasskeyService}. Nothing here is read from a request. */
export interface PasskeyServiceOptions<ID = unknown> {
  /** Where passkeys are stored: any `MfaDatabase` from core, or just its passkey methods. */
  database: PasskeyDatabase<ID>;
  /**
   * The relying party id: the site's registrable domain or a host under it (`example.com`),
   * no scheme, port or path. Passkeys are bound to it; changing it orphans them.
   */
  rpId: string;
  /** The name authenticators show ("Example"). */
  rpName: string;
  /**
   * The exact origins the pages run at (`https://example.com`, `https://login.example.com`):
   * each must be https (or http on localhost) and on `rpId` or a subdomain of it.
   */
  origins: string | readonly string[];
  /**
   * The key the opaque user handle is derived from (HMAC-SHA-256 of the user id; at least 32
   * bytes). Passkeys keep the handle they were made with, so this must not be lost: to
   * rotate, list the new secret first and keep the old ones after it.
   */
  userHandleSecret: Secret | readonly Secret[];
  /**
   * User verification asked for and enforced. `"required"` makes a passkey login two
   * factors (the device and its PIN or biometrics); otherwise a response without the UV
   * flag is accepted.
   * @default "required"
   */
  userVerification?: PasskeyUserVerification;
  /**
   * How long the browser may take and a challenge lives, in seconds.
   * @default 300
   */
  timeoutSeconds?: number;
  /**
   * Where challenges wait between options and response. One instance: the default. Several:
   * a shared store (`RedisChallengeStore` of `@tessera/strategy-redis`).
   * @default new MemoryChallengeStore()
   */
  challengeStore?: ChallengeStore;
  /**
   * The account name authenticators show in their picker.
   * @default the user's email
   */
  userName?: (user: PasskeyUser<ID>) => string;
  /**
   * The user id as a string, for the user handle. Must be stable and one-to-one.
   * @default String
   */
  userIdToString?: (id: ID) => string;
  /** The clock, for tests. */
  now?: () => Date;
}

/** `origins` as a checked list: each an exact web origin on the RP ID. */
export function checkOrigins(rpId: string, origins: string | readonly string[]): string[] {
  const list = typeof origins === "string" ? [origins] : [...origins];
  if (list.length === 0)
    throw new ConfigurationError("passkeys: origins must name at least one origin");
  for (const origin of list) {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new ConfigurationError(`passkeys: origin ${JSON.stringify(origin)} is not a URL`);
    }
    if (url.origin !== origin) {
      throw new ConfigurationError(
        `passkeys: origin ${JSON.stringify(origin)} must be written exactly as ${JSON.stringify(url.origin)} (no path, no trailing slash)`,
      );
    }
    const local = url.hostname === "localhost";
    if (url.protocol !== "https:" && !(url.protocol === "http:" && local)) {
      throw new ConfigurationError(
        `passkeys: origin ${origin} must be https (http only on localhost)`,
      );
    }
    if (url.hostname !== rpId && !url.hostname.endsWith(`.${rpId}`)) {
      throw new ConfigurationError(
        `passkeys: origin ${origin} is not on the RP ID ${rpId} or a subdomain`,
      );
    }
  }
  return list;
}

/** The RP ID, checked: a lower-case host name without scheme, port or path. */
export function checkRpId(rpId: string): string {
  if (
    !/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(
      rpId,
    )
  ) {
    throw new ConfigurationError(
      `passkeys: rpId ${JSON.stringify(rpId)} must be a lower-case host name (no scheme, port or path)`,
    );
  }
  return rpId;
}
