import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JwtKeySet } from "@tessera/strategy-jwt";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CliError } from "./exit-codes.js";
import {
  checkJwks,
  currentAlgorithm,
  generateJwk,
  KEY_ALGORITHMS,
  promoteJwks,
  readJwksFile,
  rotateJwks,
  STAGED_MEMBER,
  stagedKids,
  stageJwks,
  writeJwksFile,
} from "./jwks.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "tessera-cli-jwks-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("generateJwk", () => {
  it.each(KEY_ALGORITHMS)(
    "makes a %s private key JwtKeySet signs with, named by its thumbprint",
    (alg) => {
      const key = generateJwk(alg);
      expect(key).toMatchObject({ alg, use: "sig" });
      expect(key.d).toEqual(expect.any(String));
      const set = JwtKeySet.fromJwks({ keys: [key] });
      expect(set.algorithm).toBe(alg);
      // The kid is the RFC 7638 thumbprint JwtKeySet gives a key without one.
      const { kid: _kid, ...unnamed } = key;
      expect(new JwtKeySet([{ privateKey: unnamed }]).currentKid).toBe(key.kid);
      expect(set.publicJwks().keys[0]).not.toHaveProperty("d");
    },
  );
});

describe("rotateJwks", () => {
  it("puts a new signing key first and keeps the old ones after it", () => {
    const old = { keys: [generateJwk("ES256"), generateJwk("ES256")] };
    const { jwks, added, retired } = rotateJwks(old, "EdDSA");
    expect(jwks.keys.map((k) => k.kid)).toEqual([added, old.keys[0]?.kid, old.keys[1]?.kid]);
    expect(retired).toEqual([]);
    const set = JwtKeySet.fromJwks(jwks as { keys: [] });
    expect(set.currentKid).toBe(added);
    expect(set.algorithms).toEqual(["EdDSA", "ES256"]);
  });

  it("with retire N keeps the first N keys, the new one included", () => {
    const old = { keys: [generateJwk("ES256"), generateJwk("ES256"), generateJwk("ES256")] };
    const { jwks, added, retired } = rotateJwks(old, "ES256", 2);
    expect(jwks.keys.map((k) => k.kid)).toEqual([added, old.keys[0]?.kid]);
    expect(retired).toEqual([old.keys[1]?.kid, old.keys[2]?.kid]);
    expect(rotateJwks(old, "ES256", 1).jwks.keys).toHaveLength(1);
  });

  it("keeps the file's other members", () => {
    const { jwks } = rotateJwks({ keys: [generateJwk("ES256")], note: "x" } as never, "ES256");
    expect(jwks).toMatchObject({ note: "x" });
  });

  it("reads the current algorithm from the first key", () => {
    expect(currentAlgorithm({ keys: [generateJwk("RS256"), generateJwk("ES256")] })).toBe("RS256");
    expect(currentAlgorithm({ keys: [{ kty: "oct", k: "x", alg: "HS256" }] })).toBeUndefined();
  });
});

describe("stageJwks and promoteJwks", () => {
  const usageOrFailure = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(CliError);
      return { code: (error as CliError).code, message: (error as CliError).message };
    }
    throw new Error("did not throw");
  };

  it("stage puts the new key right after the signing key, marked; the set still signs with the old key", () => {
    const old = { keys: [generateJwk("ES256"), generateJwk("ES256")] };
    const at = new Date("2026-12-06T12:00:00Z");
    const { jwks, added, retired } = stageJwks(old, "EdDSA", undefined, at);
    expect(jwks.keys.map((k) => k.kid)).toEqual([old.keys[0]?.kid, added, old.keys[1]?.kid]);
    expect(jwks.keys[1]).toMatchObject({ alg: "EdDSA", [STAGED_MEMBER]: at.toISOString() });
    expect(retired).toEqual([]);
    expect(stagedKids(jwks)).toEqual([added]);
    // The marker is not key material: JwtKeySet loads the key and never publishes the member.
    const set = JwtKeySet.fromJwks(jwks as { keys: [] });
    expect(set.currentKid).toBe(old.keys[0]?.kid);
    expect(set.has(added)).toBe(true);
    expect(JSON.stringify(set.publicJwks())).not.toContain(STAGED_MEMBER);
    // The input is not modified.
    expect(old.keys).toHaveLength(2);
  });

  it("stage with retire N keeps the first N keys; fewer than 2 would drop the staged key (usage, 2)", () => {
    const old = { keys: [generateJwk("ES256"), generateJwk("ES256"), generateJwk("ES256")] };
    const { jwks, added, retired } = stageJwks(old, "ES256", 2);
    expect(jwks.keys.map((k) => k.kid)).toEqual([old.keys[0]?.kid, added]);
    expect(retired).toEqual([old.keys[1]?.kid, old.keys[2]?.kid]);
    expect(usageOrFailure(() => stageJwks(old, "ES256", 1))).toEqual({
      code: 2,
      message: "--retire with --stage keeps the signing key and the staged one: 2 or more",
    });
  });

  it("promote moves the newest staged key first, unmarked, the previous signing key right after it", () => {
    const signing = generateJwk("ES256");
    const retiring = generateJwk("ES256");
    const first = stageJwks({ keys: [signing, retiring] }, "ES256");
    const second = stageJwks(first.jwks, "RS256");
    expect(stagedKids(second.jwks)).toEqual([second.added, first.added]);
    const { jwks, promoted, previous } = promoteJwks(second.jwks);
    expect(promoted).toBe(second.added);
    expect(previous).toBe(signing.kid);
    expect(jwks.keys.map((k) => k.kid)).toEqual([
      second.added,
      signing.kid,
      first.added,
      retiring.kid,
    ]);
    expect(jwks.keys[0]).not.toHaveProperty(STAGED_MEMBER);
    expect(stagedKids(jwks)).toEqual([first.added]);
    const set = JwtKeySet.fromJwks(jwks as { keys: [] });
    expect(set.currentKid).toBe(second.added);
    expect(set.algorithm).toBe("RS256");
  });

  it("promote KID promotes that staged key", () => {
    const first = stageJwks({ keys: [generateJwk("ES256")] }, "ES256");
    const second = stageJwks(first.jwks, "ES256");
    const { jwks, promoted } = promoteJwks(second.jwks, first.added);
    expect(promoted).toBe(first.added);
    expect(jwks.keys.map((k) => k.kid)).toEqual([
      first.added,
      second.jwks.keys[0]?.kid,
      second.added,
    ]);
    expect(stagedKids(jwks)).toEqual([second.added]);
  });

  it("promote without a staged key, of the signing key, of an unstaged or unknown kid fails (1)", () => {
    const signing = generateJwk("ES256");
    const old = generateJwk("ES256");
    const plain = { keys: [signing, old] };
    expect(usageOrFailure(() => promoteJwks(plain))).toEqual({
      code: 1,
      message: "no staged key to promote: run keys rotate --stage first",
    });
    const staged = stageJwks(plain, "ES256");
    expect(usageOrFailure(() => promoteJwks(staged.jwks, String(signing.kid)))).toEqual({
      code: 1,
      message: `key ${String(signing.kid)} already signs`,
    });
    expect(usageOrFailure(() => promoteJwks(staged.jwks, String(old.kid)))).toEqual({
      code: 1,
      message: `key ${String(old.kid)} is not a staged key (staged: ${staged.added})`,
    });
    expect(usageOrFailure(() => promoteJwks(staged.jwks, "nope"))).toEqual({
      code: 1,
      message: `no key nope in the set (staged: ${staged.added})`,
    });
  });

  it("a plain rotate keeps a staged key staged, after the keys before it", () => {
    const staged = stageJwks({ keys: [generateJwk("ES256")] }, "ES256");
    const { jwks, added } = rotateJwks(staged.jwks, "ES256");
    expect(jwks.keys[0]?.kid).toBe(added);
    expect(stagedKids(jwks)).toEqual([staged.added]);
  });
});

describe("JWK Set files", () => {
  it("are written with mode 0600 and read back", () => {
    const file = join(dir, "jwks.json");
    const jwks = { keys: [generateJwk("ES256")] };
    writeJwksFile(file, jwks, false);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readJwksFile(file)).toEqual(jwks);
  });

  it("an existing file is refused unless replaced, and a replacement stays 0600", () => {
    const file = join(dir, "jwks.json");
    writeFileSync(file, "keep me", { mode: 0o644 });
    expect(() => writeJwksFile(file, { keys: [generateJwk("ES256")] }, false)).toThrow(
      /exists; use keys rotate/,
    );
    expect(readFileSync(file, "utf8")).toBe("keep me");
    writeJwksFile(file, { keys: [generateJwk("ES256")] }, true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // No temporary file is left beside it.
    expect(readFileSync(file, "utf8")).toContain('"keys"');
  });

  it("a missing, non-JSON or unusable file is a failed operation with the file's name", () => {
    const check = (file: string, message: RegExp) => {
      const error = (() => {
        try {
          readJwksFile(file);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(CliError);
      expect((error as CliError).code).toBe(1);
      expect((error as CliError).message).toMatch(message);
    };
    check(join(dir, "missing.json"), /missing\.json: ENOENT/);
    writeFileSync(join(dir, "bad.json"), "{");
    check(join(dir, "bad.json"), /bad\.json: not JSON/);
    writeFileSync(join(dir, "empty.json"), '{"keys":[]}');
    check(join(dir, "empty.json"), /empty\.json: not a usable JWK Set/);
    expect(() => checkJwks({ keys: [{ kty: "EC", use: "enc" }] }, "x")).toThrow(/x: not a usable/);
  });
});
