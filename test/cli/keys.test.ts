// `tessera keys`: private JWK Sets in the example app's format (DATA_DIR/jwks.json), written
// mode 0600; rotation puts a new signing key first and keeps the old ones to verify, and the
// example app loads the result and signs with the new key. A staged rotation (rotate --stage,
// then promote) is checked with real JwtKeySets standing for instances of a rolling deploy.
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JwtKeySet } from "@tessera/strategy-jwt";
import { jwtVerify, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSigningKeys, SIGNING_KEYS_FILE } from "../../examples/koa-app/src/signing-keys.js";
import { tessera } from "./support.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "tessera-cli-keys-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Jwks = { keys: { kid: string; alg: string; d?: string }[] };
const read = (file: string) => JSON.parse(readFileSync(file, "utf8")) as Jwks;

describe("tessera keys", () => {
  it("generate prints a private JWK Set of one ES256 key to stdout", async () => {
    const run = await tessera(["keys", "generate"]);
    expect(run.code).toBe(0);
    const jwks = JSON.parse(run.stdout) as Jwks;
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ alg: "ES256", kty: "EC", crv: "P-256", use: "sig" });
    expect(JwtKeySet.fromJwks(jwks as never).currentKid).toBe(jwks.keys[0]?.kid);
  });

  it("generate --out writes the file mode 0600, refuses to overwrite it (exit 1) unless --force", async () => {
    const file = join(dir, "generated.json");
    const run = await tessera(["--json", "keys", "generate", "--alg", "EdDSA", "--out", file]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const { kid } = JSON.parse(run.stdout) as { kid: string };
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(read(file).keys.map((k) => [k.kid, k.alg])).toEqual([[kid, "EdDSA"]]);
    const again = await tessera(["keys", "generate", "--out", file]);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(
      `tessera: ${file} exists; use keys rotate --file ${file}, or --force\n`,
    );
    expect(read(file).keys[0]?.kid).toBe(kid);
    const forced = await tessera(["keys", "generate", "--out", file, "--force"]);
    expect(forced.code).toBe(0);
    expect(read(file).keys[0]?.kid).not.toBe(kid);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it("rotate puts a new key first, keeps the old ones after it, retires beyond N; the example app signs with the new key and verifies with the old", async () => {
    const dataDir = join(dir, "data");
    // The example app generates DATA_DIR/jwks.json on its first start.
    const first = loadSigningKeys(dataDir);
    const file = join(dataDir, SIGNING_KEYS_FILE);
    const original = first.keys.currentKid;

    const rotated = await tessera(["--json", "keys", "rotate", "--file", file]);
    expect(rotated.stderr).toBe("");
    expect(rotated.code).toBe(0);
    const one = JSON.parse(rotated.stdout) as { added: string; keys: string[]; alg: string };
    expect(one).toMatchObject({ alg: "ES256", keys: [one.added, original], retired: [] });
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const twice = await tessera(["keys", "rotate", "-f", file, "--alg", "RS256", "--retire", "2"]);
    expect(twice.code).toBe(0);
    const keys = read(file).keys;
    expect(keys.map((k) => k.alg)).toEqual(["RS256", "ES256"]);
    expect(keys[1]?.kid).toBe(one.added);
    expect(twice.stdout).toContain(`retired ${original}`);

    const loaded = loadSigningKeys(dataDir);
    expect(loaded.source).toBe("file");
    expect(loaded.keys.currentKid).toBe(keys[0]?.kid);
    expect(loaded.keys.algorithm).toBe("RS256");
    expect(loaded.keys.has(one.added)).toBe(true);
    expect(loaded.keys.has(original)).toBe(false);
  });

  it("rotate --stage, then promote: at every step each instance verifies the tokens the others sign (ASVS 5.0 9.1.1)", async () => {
    const dataDir = join(dir, "rolling");
    const file = join(dataDir, SIGNING_KEYS_FILE);
    const sign = (keys: JwtKeySet) =>
      keys.sign(new SignJWT({}).setSubject("user-1").setIssuedAt().setExpirationTime("15m"));
    const verifies = async (keys: JwtKeySet, token: string) =>
      jwtVerify(token, keys.resolve, { algorithms: [...keys.algorithms] }).then(
        ({ protectedHeader }) => protectedHeader.kid,
        () => false,
      );
    const kidOf = (token: string) =>
      (
        JSON.parse(Buffer.from(token.split(".")[0] ?? "", "base64url").toString()) as {
          kid: string;
        }
      ).kid;

    // An instance started on the original file.
    const before = loadSigningKeys(dataDir).keys;
    const original = before.currentKid;

    const staged = await tessera(["--json", "keys", "rotate", "--file", file, "--stage"]);
    expect(staged.stderr).toBe("");
    expect(staged.code).toBe(0);
    const { added } = JSON.parse(staged.stdout) as { added: string };
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(read(file).keys.map((k) => k.kid)).toEqual([original, added]);

    // An instance restarted on the staged file still signs with the old key (so the instances
    // not yet restarted accept its tokens) and already verifies the new key's.
    const stagedSet = loadSigningKeys(dataDir).keys;
    expect(stagedSet.currentKid).toBe(original);
    const fromStaged = await sign(stagedSet);
    expect(kidOf(fromStaged)).toBe(original);
    expect(await verifies(before, fromStaged)).toBe(original);
    expect(await verifies(stagedSet, await sign(before))).toBe(original);

    const promoted = await tessera(["--json", "keys", "promote", "--file", file]);
    expect(promoted.stderr).toBe("");
    expect(promoted.code).toBe(0);
    expect(JSON.parse(promoted.stdout)).toMatchObject({ promoted: added, previous: original });
    expect(statSync(file).mode & 0o777).toBe(0o600);

    // An instance restarted on the promoted file signs with the new key; the instances still
    // on the staged file verify its tokens, and it verifies theirs and the first ones.
    const after = loadSigningKeys(dataDir).keys;
    expect(after.currentKid).toBe(added);
    const fromPromoted = await sign(after);
    expect(kidOf(fromPromoted)).toBe(added);
    expect(await verifies(stagedSet, fromPromoted)).toBe(added);
    expect(await verifies(after, fromStaged)).toBe(original);
    expect(await verifies(after, await sign(before))).toBe(original);
    // What staging avoids: an instance that never loaded the new key refuses its tokens.
    expect(await verifies(before, fromPromoted)).toBe(false);
  });

  it("rotate of a missing or unusable file fails (exit 1) and leaves it alone", async () => {
    const missing = await tessera(["keys", "rotate", "--file", join(dir, "none.json")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/none\.json: ENOENT/);
    const generated = join(dir, "generated.json");
    const before = readFileSync(generated, "utf8");
    const { writeFileSync } = await import("node:fs");
    const bad = join(dir, "bad.json");
    writeFileSync(bad, '{"keys":[{"kty":"oct","k":"c2hvcnQ"}]}');
    const unusable = await tessera(["keys", "rotate", "--file", bad]);
    expect(unusable.code).toBe(1);
    expect(unusable.stderr).toMatch(/bad\.json: not a usable JWK Set/);
    expect(readFileSync(bad, "utf8")).toBe('{"keys":[{"kty":"oct","k":"c2hvcnQ"}]}');
    expect(readFileSync(generated, "utf8")).toBe(before);
  });
});
