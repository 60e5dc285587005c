import { createHmac, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "./config.js";

/** One secret per purpose, so that a token made for one purpose is refused by every other. */
export interface Secrets {
  jwt: string;
  verify: string;
  reset: string;
  csrf: string;
  /** Tags the refresh tokens of the `refresh` and `refresh-cookie` backends. */
  refresh: string;
  /** Seals the OAuth `state` cookie of the "Sign in with …" flows. */
  oauthState: string;
  /** Encrypts the providers' access and refresh tokens kept in `oauth_accounts`. */
  oauthTokens: string;
  /** Encrypts the TOTP secrets at rest and seals the login's `mfa_token`s (the MFA keyring's key). */
  mfa: string;
  /** Keys the passkeys' user handles (an HMAC of the user id, not the id itself). */
  passkeyUserHandle: string;
}

/** Where the secrets came from, for the start-up log. */
export type SecretSource = "env" | "file" | "generated";

/** The file a generated secret is kept in, under `DATA_DIR`. */
export const SECRET_FILE = "secret";

/**
 * Derives the app's secrets from one master secret: HMAC-SHA256(master, label), so one
 * variable configures everything while each purpose still gets its own key.
 *
 * @example
 * const { jwt, verify } = deriveSecrets(process.env.TESSERA_SECRET!);
 */
export function deriveSecrets(master: string): Secrets {
  const derive = (label: string) =>
    createHmac("sha256", master).update(`tessera-example:${label}`).digest("base64url");
  return {
    jwt: derive("jwt"),
    verify: derive("verify"),
    reset: derive("reset"),
    csrf: derive("csrf"),
    refresh: derive("refresh"),
    oauthState: derive("oauth-state"),
    oauthTokens: derive("oauth-tokens"),
    mfa: derive("mfa"),
    passkeyUserHandle: derive("passkey-user-handle"),
  };
}

/**
 * The master secret: `TESSERA_SECRET` when set; otherwise the one stored in
 * `{dataDir}/secret`, generated (256 random bits, mode 0600) on the first start. A
 * generated secret survives restarts, so sessions and mailed links keep working.
 */
export function loadSecrets(
  envSecret: string | undefined,
  dataDir: string,
): { secrets: Secrets; source: SecretSource; file?: string } {
  if (envSecret !== undefined) {
    if (Buffer.byteLength(envSecret) < 32) {
      throw new ConfigError(
        "TESSERA_SECRET must be at least 32 bytes (try: openssl rand -base64 32)",
      );
    }
    return { secrets: deriveSecrets(envSecret), source: "env" };
  }
  const file = join(dataDir, SECRET_FILE);
  const stored = readIfExists(file)?.trim();
  if (stored) return { secrets: deriveSecrets(stored), source: "file", file };
  mkdirSync(dataDir, { recursive: true });
  const generated = randomBytes(32).toString("base64url");
  // "wx": if another process wrote it meanwhile, fail rather than overwrite its secret.
  writeFileSync(file, `${generated}\n`, { mode: 0o600, flag: "wx" });
  return { secrets: deriveSecrets(generated), source: "generated", file };
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}
