import { generateKeyPairSync, randomBytes } from "node:crypto";
import { chmodSync, linkSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { ConfigurationError } from "@tessera/core";
import { type JwtKeyPairAlgorithm, JwtKeySet } from "@tessera/strategy-jwt";
import { CliError, ExitCode } from "./exit-codes.js";

/** The algorithms `keys generate` and `keys rotate` make keys for. */
export const KEY_ALGORITHMS = ["ES256", "EdDSA", "RS256"] as const satisfies JwtKeyPairAlgorithm[];

/** A private JWK Set as the example app keeps it in `DATA_DIR/jwks.json`. */
export interface PrivateJwks {
  keys: Record<string, unknown>[];
}

/**
 * A new private signing key as a JWK with `kid` (its RFC 7638 thumbprint, as `JwtKeySet`
 * names keys), `alg` and `use: "sig"`: P-256 for ES256, Ed25519 for EdDSA, RSA 2048 for RS256.
 */
export function generateJwk(alg: JwtKeyPairAlgorithm): Record<string, unknown> {
  const { privateKey } =
    alg === "ES256"
      ? generateKeyPairSync("ec", { namedCurve: "P-256" })
      : alg === "EdDSA"
        ? generateKeyPairSync("ed25519")
        : generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: "jwk" }), alg, use: "sig" };
  const kid = new JwtKeySet([{ privateKey: jwk }]).currentKid;
  return { kid, ...jwk };
}

/**
 * Checks that `jwks` is a private JWK Set `JwtKeySet.fromJwks` accepts (what the app will
 * load), and returns it. Throws a {@link CliError} naming `where` otherwise.
 */
export function checkJwks(jwks: unknown, where: string): PrivateJwks {
  try {
    JwtKeySet.fromJwks(jwks as { keys: [] });
  } catch (error) {
    if (error instanceof ConfigurationError || error instanceof TypeError) {
      throw new CliError(ExitCode.FAILED, `${where}: not a usable JWK Set (${error.message})`);
    }
    throw error;
  }
  return jwks as PrivateJwks;
}

/**
 * `jwks` with a new signing key first and every old key kept after it (they then only
 * verify the tokens they signed). With `retire`, at most that many keys are kept, the new
 * one included: the oldest go.
 */
export function rotateJwks(
  jwks: PrivateJwks,
  alg: JwtKeyPairAlgorithm,
  retire?: number,
): { jwks: PrivateJwks; added: string; retired: string[] } {
  const key = generateJwk(alg);
  let keys = [key, ...jwks.keys];
  let retired: Record<string, unknown>[] = [];
  if (retire !== undefined) {
    retired = keys.slice(retire);
    keys = keys.slice(0, retire);
  }
  return {
    jwks: { ...jwks, keys },
    added: String(key.kid),
    retired: retired.map((k) => String(k.kid ?? "(no kid)")),
  };
}

/** The algorithm of the set's signing (first) key, when it is one `keys` can make. */
export function currentAlgorithm(jwks: PrivateJwks): JwtKeyPairAlgorithm | undefined {
  const alg = jwks.keys[0]?.alg;
  return KEY_ALGORITHMS.find((a) => a === alg);
}

/** Reads and checks the private JWK Set in `file`. */
export function readJwksFile(file: string): PrivateJwks {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new CliError(ExitCode.FAILED, `${file}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(ExitCode.FAILED, `${file}: not JSON`);
  }
  return checkJwks(parsed, file);
}

/**
 * Writes `jwks` to `file`, mode 0600, through a temporary file in the same directory
 * renamed over it: a reader sees the old set or the new one, never half of one. Unless
 * `replace`, an existing file is refused (exit 1).
 */
export function writeJwksFile(file: string, jwks: PrivateJwks, replace: boolean): void {
  const temp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  writeFileSync(temp, `${JSON.stringify(jwks, null, 2)}\n`, { mode: 0o600, flag: "wx" });
  try {
    // The umask may have narrowed the mode, never widened it; set it exactly.
    chmodSync(temp, 0o600);
    if (replace) {
      renameSync(temp, file);
    } else {
      // A hard link fails when `file` exists: no other process's key is overwritten.
      linkSync(temp, file);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      throw new CliError(
        ExitCode.FAILED,
        `${file} exists; use keys rotate --file ${file}, or --force`,
      );
    }
    throw new CliError(ExitCode.FAILED, `${file}: ${(error as Error).message}`);
  } finally {
    rmSync(temp, { force: true });
  }
}
