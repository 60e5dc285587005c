import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "./config.js";
import { loadSigningKeys, SIGNING_KEYS_FILE } from "./signing-keys.js";

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("signing keys", () => {
  it("generates a private ES256 JWK Set once, mode 0600, and reuses it", () => {
    dir = join(mkdtempSync(join(tmpdir(), "koa-app-keys-")), "data");
    const first = loadSigningKeys(dir);
    expect(first.source).toBe("generated");
    expect(first.file).toBe(join(dir, SIGNING_KEYS_FILE));
    expect(statSync(first.file).mode & 0o777).toBe(0o600);
    expect(first.keys.algorithm).toBe("ES256");
    const stored = JSON.parse(readFileSync(first.file, "utf8")) as {
      keys: Record<string, string>[];
    };
    expect(stored.keys).toHaveLength(1);
    expect(stored.keys[0]).toMatchObject({
      kty: "EC",
      crv: "P-256",
      alg: "ES256",
      use: "sig",
      kid: first.keys.currentKid,
      d: expect.any(String),
    });

    const second = loadSigningKeys(dir);
    expect(second.source).toBe("file");
    expect(second.keys.currentKid).toBe(first.keys.currentKid);
    // Only the public half is ever published.
    expect(second.keys.publicJwks().keys).toEqual([
      expect.not.objectContaining({ d: expect.anything() }),
    ]);
  });

  it("reads a rotated file: the first key signs, the previous one still verifies", () => {
    dir = join(mkdtempSync(join(tmpdir(), "koa-app-keys-")), "data");
    const old = loadSigningKeys(dir);
    const file = old.file;
    const previous = JSON.parse(readFileSync(file, "utf8")) as { keys: unknown[] };
    rmSync(file);
    const fresh = loadSigningKeys(dir);
    const current = JSON.parse(readFileSync(file, "utf8")) as { keys: unknown[] };
    writeFileSync(file, JSON.stringify({ keys: [...current.keys, ...previous.keys] }));
    const rotated = loadSigningKeys(dir).keys;
    expect(rotated.kids).toEqual([fresh.keys.currentKid, old.keys.currentKid]);
    expect(rotated.currentKid).toBe(fresh.keys.currentKid);
  });

  it("refuses a broken file with one line naming it", () => {
    dir = join(mkdtempSync(join(tmpdir(), "koa-app-keys-")), "data");
    loadSigningKeys(dir);
    const file = join(dir, SIGNING_KEYS_FILE);
    writeFileSync(file, "{not json");
    expect(() => loadSigningKeys(dir as string)).toThrow(ConfigError);
    // A public key alone cannot sign.
    const { keys } = loadSigningKeys(join(dir, "other")).keys.publicJwks();
    writeFileSync(file, JSON.stringify({ keys }));
    expect(() => loadSigningKeys(dir as string)).toThrow(
      new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: not a usable JWK Set`),
    );
  });
});
