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
  return withRetired(jwks, [key, ...jwks.keys], key, retire);
}

/**
 * The member `keys rotate --stage` adds to a staged key's JWK: the instant it was staged
 * (ISO 8601). `JwtKeySet` ignores it (it builds a key from the key material, `kid` and
 * `alg`), and it never reaches the public JWK Set; `keys promote` removes it.
 */
export const STAGED_MEMBER = "tessera_staged";

/** The kids of the staged keys of `jwks`, newest first (file order after the signing key). */
export function stagedKids(jwks: PrivateJwks): string[] {
  return jwks.keys
    .slice(1)
    .filter((k) => k[STAGED_MEMBER] !== undefined)
    .map((k) => String(k.kid));
}

/**
 * Throws a usage {@link CliError} (exit 2) when `retire` would drop the key being staged:
 * with `--stage`, the signing key and the new one come first, so N must be 2 or more.
 */
export function checkStageRetire(retire: number | undefined): void {
  if (retire !== undefined && retire < 2) {
    throw new CliError(
      ExitCode.USAGE,
      "--retire with --stage keeps the signing key and the staged one: 2 or more",
    );
  }
}

/**
 * `jwks` with a new key **staged**: put right after the current signing key, which keeps
 * signing, and marked with {@link STAGED_MEMBER}. Every instance that loads the file then
 * verifies the new key's tokens, so after the rolling restart {@link promoteJwks} can make it
 * the signing key without one instance refusing another's tokens. With `retire`, at most that
 * many keys are kept (2 or more: the signing key and the new one first); the oldest go.
 */
export function stageJwks(
  jwks: PrivateJwks,
  alg: JwtKeyPairAlgorithm,
  retire?: number,
  now: Date = new Date(),
): { jwks: PrivateJwks; added: string; retired: string[] } {
  checkStageRetire(retire);
  const key: Record<string, unknown> = {
    ...generateJwk(alg),
    [STAGED_MEMBER]: now.toISOString(),
  };
  const [signing, ...others] = jwks.keys as [Record<string, unknown>, ...Record<string, unknown>[]];
  return withRetired(jwks, [signing, key, ...others], key, retire);
}

/**
 * `jwks` with a staged key moved first, so it signs; the previous signing key stays right
 * after it to verify the tokens it signed, and the other keys keep their order. `kid` names
 * the staged key; by default the newest staged one. Throws a {@link CliError} (exit 1) when
 * there is no staged key, or `kid` is not one.
 */
export function promoteJwks(
  jwks: PrivateJwks,
  kid?: string,
): { jwks: PrivateJwks; promoted: string; previous: string } {
  const staged = stagedKids(jwks);
  const chosen = kid ?? staged[0];
  if (chosen === undefined) {
    throw new CliError(ExitCode.FAILED, "no staged key to promote: run keys rotate --stage first");
  }
  if (!staged.includes(chosen)) {
    const where = jwks.keys.findIndex((k) => k.kid === chosen);
    throw new CliError(
      ExitCode.FAILED,
      where === 0
        ? `key ${chosen} already signs`
        : where > 0
          ? `key ${chosen} is not a staged key (staged: ${staged.join(", ") || "none"})`
          : `no key ${chosen} in the set (staged: ${staged.join(", ") || "none"})`,
    );
  }
  const index = jwks.keys.findIndex((k) => k.kid === chosen);
  const { [STAGED_MEMBER]: _staged, ...key } = jwks.keys[index] as Record<string, unknown>;
  const keys = [key, ...jwks.keys.filter((_, i) => i !== index)];
  return {
    jwks: { ...jwks, keys },
    promoted: chosen,
    previous: String(jwks.keys[0]?.kid ?? "(no kid)"),
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

/** `jwks` with `keys`, of which the first `retire` are kept (all without `retire`). */
function withRetired(
  jwks: PrivateJwks,
  keys: Record<string, unknown>[],
  added: Record<string, unknown>,
  retire: number | undefined,
): { jwks: PrivateJwks; added: string; retired: string[] } {
  const kept = retire === undefined ? keys : keys.slice(0, retire);
  const retired = retire === undefined ? [] : keys.slice(retire);
  return {
    jwks: { ...jwks, keys: kept },
    added: String(added.kid),
    retired: retired.map((k) => String(k.kid ?? "(no kid)")),
  };
}
