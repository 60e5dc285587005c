import { availableParallelism } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import * as argon2 from "@node-rs/argon2";
import * as bcrypt from "@node-rs/bcrypt";
import { describe, expect, it } from "vitest";
import { PasswordHelper } from "./password-helper.js";

// Algorithm.Argon2id of @node-rs/argon2 (a const enum, which isolatedModules cannot inline).
const ARGON2ID = 2 as NonNullable<argon2.Options["algorithm"]>;
const ARGON2I = 1 as NonNullable<argon2.Options["algorithm"]>;

const helper = new PasswordHelper();
const PASSWORD = "correct horse battery staple";

describe("PasswordHelper.hash", () => {
  it("makes argon2id PHC hashes with m=19456,t=2,p=1 (ASVS 5.0 11.4.2, OWASP's argon2id floor)", async () => {
    const hash = await helper.hash(PASSWORD);
    expect(hash).toMatch(
      /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/,
    );
  });

  it("salts: the same password hashes differently each time", async () => {
    expect(await helper.hash(PASSWORD)).not.toBe(await helper.hash(PASSWORD));
  });

  it("uses stronger parameters when configured", async () => {
    const strong = new PasswordHelper({ memoryCost: 32768, timeCost: 3, parallelism: 2 });
    expect(await strong.hash(PASSWORD)).toMatch(/^\$argon2id\$v=19\$m=32768,t=3,p=2\$/);
  });
});

describe("PasswordHelper.verifyAndUpdate", () => {
  it("verifies the right password and needs no update at current parameters", async () => {
    const hash = await helper.hash(PASSWORD);
    expect(await helper.verifyAndUpdate(PASSWORD, hash)).toEqual({
      verified: true,
      updatedHash: null,
    });
  });

  it("rejects a wrong password without an update", async () => {
    const hash = await helper.hash(PASSWORD);
    expect(await helper.verifyAndUpdate(`${PASSWORD}!`, hash)).toEqual({
      verified: false,
      updatedHash: null,
    });
    expect(await helper.verifyAndUpdate("", hash)).toEqual({ verified: false, updatedHash: null });
  });

  it("verifies a legacy bcrypt hash and returns an argon2id replacement", async () => {
    const legacy = await bcrypt.hash(PASSWORD, { cost: 4 });
    expect(legacy).toMatch(/^\$2b\$04\$/);
    const result = await helper.verifyAndUpdate(PASSWORD, legacy);
    expect(result.verified).toBe(true);
    expect(result.updatedHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    // The replacement verifies the same password and is itself current.
    expect(await helper.verifyAndUpdate(PASSWORD, result.updatedHash as string)).toEqual({
      verified: true,
      updatedHash: null,
    });
  });

  it("rejects a wrong password against a bcrypt hash, without an update", async () => {
    const legacy = await bcrypt.hash(PASSWORD, { cost: 4 });
    expect(await helper.verifyAndUpdate("not the password", legacy)).toEqual({
      verified: false,
      updatedHash: null,
    });
  });

  it.each([
    ["lower memory", { memoryCost: 4096, timeCost: 2, parallelism: 1 }],
    ["fewer passes", { memoryCost: 19456, timeCost: 1, parallelism: 1 }],
  ])("returns an updated hash for argon2id with weaker parameters (%s)", async (_, options) => {
    const weak = await argon2.hash(PASSWORD, { ...options, algorithm: ARGON2ID });
    const result = await helper.verifyAndUpdate(PASSWORD, weak);
    expect(result.verified).toBe(true);
    expect(result.updatedHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it("returns an updated hash for another argon2 variant (argon2i) at current parameters", async () => {
    const argon2i = await argon2.hash(PASSWORD, {
      memoryCost: 19456,
      timeCost: 2,
      parallelism: 1,
      algorithm: ARGON2I,
    });
    const result = await helper.verifyAndUpdate(PASSWORD, argon2i);
    expect(result.verified).toBe(true);
    expect(result.updatedHash).toMatch(/^\$argon2id\$/);
  });

  it("keeps a hash stronger than the configured parameters (no downgrade)", async () => {
    const strong = await argon2.hash(PASSWORD, {
      memoryCost: 32768,
      timeCost: 3,
      parallelism: 1,
      algorithm: ARGON2ID,
    });
    expect(await helper.verifyAndUpdate(PASSWORD, strong)).toEqual({
      verified: true,
      updatedHash: null,
    });
  });

  it.each([
    ["empty", ""],
    ["garbage", "not a hash"],
    ["truncated argon2id", "$argon2id$v=19$m=19456,t=2,p=1$abc"],
    ["argon2 with bad params", "$argon2id$v=19$m=x,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo"],
    ["truncated bcrypt", "$2b$04$tooShort"],
    ["bcrypt with bad cost", `$2b$99$${"a".repeat(53)}`],
    ["plaintext password", PASSWORD],
  ])("answers false, never throws, for a corrupt stored hash (%s)", async (_, hash) => {
    await expect(helper.verifyAndUpdate(PASSWORD, hash)).resolves.toEqual({
      verified: false,
      updatedHash: null,
    });
  });

  it("answers false for a null or undefined stored hash (a user row without one)", async () => {
    for (const stored of [null, undefined]) {
      await expect(helper.verifyAndUpdate(PASSWORD, stored as unknown as string)).resolves.toEqual({
        verified: false,
        updatedHash: null,
      });
    }
  });

  it("does not truncate long passwords: 1000 chars and 1000 chars + 1 differ", async () => {
    const long = "a".repeat(1000);
    const hash = await helper.hash(long);
    expect((await helper.verifyAndUpdate(long, hash)).verified).toBe(true);
    expect((await helper.verifyAndUpdate(`${long}b`, hash)).verified).toBe(false);
    expect((await helper.verifyAndUpdate(long.slice(0, 999), hash)).verified).toBe(false);
    // bcrypt would have stopped at byte 72.
    expect((await helper.verifyAndUpdate(long.slice(0, 72), hash)).verified).toBe(false);
  });

  it("does not truncate or mangle Unicode passwords", async () => {
    const unicode = "пароль-密码-🔑🔑🔑-é"; // composed é
    const hash = await helper.hash(unicode);
    expect((await helper.verifyAndUpdate(unicode, hash)).verified).toBe(true);
    expect((await helper.verifyAndUpdate(`${unicode}🔑`, hash)).verified).toBe(false);
    expect((await helper.verifyAndUpdate(unicode.slice(0, -1), hash)).verified).toBe(false);
  });
});

describe("PasswordHelper.needsRehash", () => {
  it("is false for argon2id at the configured parameters and true for anything else", async () => {
    expect(helper.needsRehash(await helper.hash(PASSWORD))).toBe(false);
    expect(helper.needsRehash(await bcrypt.hash(PASSWORD, { cost: 4 }))).toBe(true);
    expect(helper.needsRehash("garbage")).toBe(true);
    expect(new PasswordHelper({ memoryCost: 65536 }).needsRehash(await helper.hash(PASSWORD))).toBe(
      true,
    );
  });
});

describe("PasswordHelper regressions", () => {
  // Bug: a user row without a usable hash (null, empty, foreign format) was answered at
  // once, while a real hash costs ~40 ms: login timing told that the email had an account.
  it("spends a hash on a stored hash it cannot verify (unknown-format hash timing leak)", async () => {
    let hashes = 0;
    const counting = new (class extends PasswordHelper {
      override hash(password: string): Promise<string> {
        hashes++;
        return super.hash(password);
      }
    })();
    for (const stored of ["", "not a hash", "$1$md5crypt$xyz"]) {
      expect(await counting.verifyAndUpdate(PASSWORD, stored)).toEqual({
        verified: false,
        updatedHash: null,
      });
    }
    expect(hashes).toBe(3);
  });

  // Bug: needsRehash looked only at m, t and p, so an argon2id 1.0 (v=16) hash at the
  // current costs was never upgraded.
  it("upgrades an argon2id version 1.0 (v=16) hash at current costs (argon2 version ignored)", async () => {
    const v10 = await argon2.hash(PASSWORD, {
      memoryCost: 19456,
      timeCost: 2,
      parallelism: 1,
      algorithm: ARGON2ID,
      version: 0 as NonNullable<argon2.Options["version"]>,
    });
    expect(v10).toMatch(/^\$argon2id\$v=16\$m=19456,t=2,p=1\$/);
    const result = await helper.verifyAndUpdate(PASSWORD, v10);
    expect(result.verified).toBe(true);
    expect(result.updatedHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it("upgrades an argon2id hash with a short output at current costs", async () => {
    const short = await argon2.hash(PASSWORD, {
      memoryCost: 19456,
      timeCost: 2,
      parallelism: 1,
      outputLen: 16,
      algorithm: ARGON2ID,
    });
    expect(helper.needsRehash(short)).toBe(true);
  });
});

describe("PasswordHelper.generate", () => {
  it("makes 256-bit base64url passwords, different each time", () => {
    const a = helper.generate();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(helper.generate()).not.toBe(a);
  });
});

describe("PasswordHelper and the event loop", () => {
  it("keeps the event loop responsive while 20 hashes run concurrently", async () => {
    const histogram = monitorEventLoopDelay({ resolution: 10 });
    histogram.enable();
    const hashes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => helper.hash(`${PASSWORD} ${i}`)),
    );
    histogram.disable();
    expect(new Set(hashes).size).toBe(20);
    // Generous bound (histogram values are nanoseconds): a synchronous hash of 20 × ~19 MiB
    // argon2id would block for well over a second; off-loop hashing stays near zero.
    expect(histogram.max / 1e6).toBeLessThan(200);
  });
});

describe("PasswordHelper concurrency (a login storm must not starve the event loop)", () => {
  it("leaves a core to the event loop by default, one limit shared by every helper", () => {
    const expected = Math.max(1, availableParallelism() - 1);
    expect(new PasswordHelper().concurrency).toBe(expected);
    expect(new PasswordHelper({ memoryCost: 32768 }).concurrency).toBe(expected);
  });

  it("queues hashes and verifications past the limit; every one completes", async () => {
    const one = new PasswordHelper({ concurrency: 1 });
    const hashes = await Promise.all(
      Array.from({ length: 4 }, (_, i) => one.hash(`${PASSWORD}${i}`)),
    );
    const results = await Promise.all(
      hashes.map((hash, i) => one.verifyAndUpdate(`${PASSWORD}${i}`, hash)),
    );
    expect(results.every((r) => r.verified)).toBe(true);
  });

  it("refuses a concurrency that is not a positive integer", () => {
    for (const concurrency of [0, -1, 1.5, Number.NaN]) {
      expect(() => new PasswordHelper({ concurrency })).toThrow(/concurrency/);
    }
  });
});
