import { createHmac } from "node:crypto";
import { ConfigurationError, type Secret } from "@tessera/core";
import { safeEqual, secretKey } from "@tessera/core/internal";

/**
 * The WebAuthn user handle of a user: HMAC-SHA-256 of the user id under a configured key.
 * Opaque (not the email, not a guessable id), stable without storage, at most 64 bytes as
 * WebAuthn requires. Several keys: the first makes handles, all are accepted.
 */
export class UserHandles {
  readonly #keys: Uint8Array[];

  constructor(secrets: Secret | readonly Secret[]) {
    const list =
      typeof secrets === "string" || secrets instanceof Uint8Array ? [secrets] : [...secrets];
    if (list.length === 0)
      throw new ConfigurationError("passkeys: userHandleSecret needs at least one secret");
    this.#keys = list.map((secret) => secretKey(secret, "passkeys userHandleSecret"));
  }

  /** The handle for new credentials, as bytes. */
  current(userKey: string): Uint8Array {
    return handle(this.#keys[0] as Uint8Array, userKey);
  }

  /** True when `handle` (base64url) is this user's under any of the keys. */
  matches(userKey: string, candidate: string): boolean {
    let found = false;
    for (const key of this.#keys) {
      if (safeEqual(Buffer.from(handle(key, userKey)).toString("base64url"), candidate))
        found = true;
    }
    return found;
  }
}

function handle(key: Uint8Array, userKey: string): Uint8Array {
  return createHmac("sha256", key).update(`tessera passkey user handle\0${userKey}`).digest();
}
