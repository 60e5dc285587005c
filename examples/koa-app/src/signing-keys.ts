import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigurationError } from "@tessera/core";
import { JwtKeySet } from "@tessera/strategy-jwt";
import { ConfigError } from "./config.js";
import type { SecretSource } from "./secrets.js";

/** The file the access tokens' signing keys are kept in, under `DATA_DIR`. */
export const SIGNING_KEYS_FILE = "jwks.json";

/**
 * The signing keys of the `refresh` and `refresh-cookie` backends, from the private JWK Set
 * `{dataDir}/jwks.json`: generated on the first start (one ES256 key, P-256, mode 0600) and
 * read on later ones. The first key signs; the others only verify, so a rotation is an edit
 * of this file (put a new key first, drop the old one once its tokens have expired) and a
 * restart. Their public halves are published at `/.well-known/jwks.json`.
 *
 * Asymmetric keys cannot be derived from `TESSERA_SECRET` as the other secrets are: every
 * instance of the app must be given the same file.
 */
export function loadSigningKeys(dataDir: string): {
  keys: JwtKeySet;
  source: Exclude<SecretSource, "env">;
  file: string;
} {
  const file = join(dataDir, SIGNING_KEYS_FILE);
  const stored = readIfExists(file);
  if (stored !== undefined) return { keys: parse(stored, file), source: "file", file };
  const jwks = generateJwks();
  mkdirSync(dataDir, { recursive: true });
  // "wx": if another process wrote it meanwhile, fail rather than overwrite its key.
  writeFileSync(file, `${JSON.stringify(jwks, null, 2)}\n`, { mode: 0o600, flag: "wx" });
  return { keys: parse(JSON.stringify(jwks), file), source: "generated", file };
}

/** A private JWK Set of one new ES256 key, its `kid` the RFC 7638 thumbprint. */
export function generateJwks(): { keys: Record<string, unknown>[] } {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = { ...privateKey.export({ format: "jwk" }), alg: "ES256", use: "sig" };
  // The key set names a JWK without `kid` by its thumbprint: written down, it stays stable.
  const kid = new JwtKeySet([{ privateKey: jwk }]).currentKid;
  return { keys: [{ kid, ...jwk }] };
}

function parse(text: string, file: string): JwtKeySet {
  try {
    return JwtKeySet.fromJwks(text);
  } catch (error) {
    if (error instanceof ConfigurationError) {
      throw new ConfigError(`${file}: not a usable JWK Set (${error.message})`);
    }
    throw error;
  }
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}
