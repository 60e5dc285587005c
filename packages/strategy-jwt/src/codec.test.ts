import { generateKeyPairSync } from "node:crypto";
import { ConfigurationError } from "@tessera/core";
import { describe, expect, it } from "vitest";
import { AccessTokenCodec, type AccessTokenContent } from "./codec.js";
import { JwtKeySet } from "./key-set.js";
import { claimsFor, decode, manualClock, SECRET, sign } from "./test-utils/fixtures.js";

const es256 = () => generateKeyPairSync("ec", { namedCurve: "P-256" });

function content(now: number, extra: Partial<AccessTokenContent> = {}): AccessTokenContent {
  return {
    sub: "user-1",
    jti: "jti-0123456789abcdef",
    issuedAt: now,
    exp: Math.floor(now / 1000) + 900,
    ...extra,
  };
}

describe("AccessTokenCodec", () => {
  it("signs with the current key's kid and reads back every claim", async () => {
    const time = manualClock();
    const codec = new AccessTokenCodec({
      keys: [{ privateKey: es256().privateKey }],
      audience: "my-api",
      issuer: "https://auth.example.com",
      clock: time.clock,
    });
    const now = time.clock();
    const token = await codec.sign(content(now, { ext: { role: "admin" } }));
    const { header, payload } = decode(token);
    expect(header).toEqual({ alg: "ES256", kid: codec.keys.currentKid, typ: "JWT" });
    expect(payload).toMatchObject({
      sub: "user-1",
      aud: ["my-api"],
      iss: "https://auth.example.com",
      iat: Math.floor(now / 1000),
      iat_ms: now,
      ext: { role: "admin" },
    });
    expect(payload.sid).toBeUndefined();
    const claims = await codec.verify(token);
    expect(claims).toMatchObject({ sub: "user-1", jti: "jti-0123456789abcdef", issuedAt: now });
    expect(claims?.ext).toEqual({ role: "admin" });
    expect(claims).not.toHaveProperty("sid");
  });

  it("carries the sid claim of a refresh-token session, and reads it from the cache too", async () => {
    const codec = new AccessTokenCodec({ keys: [{ secret: SECRET }] });
    const token = await codec.sign(content(Date.now(), { sid: "session-handle-1" }));
    expect(decode(token).payload.sid).toBe("session-handle-1");
    expect(codec.cached(token)).toBeUndefined();
    expect((await codec.verify(token))?.sid).toBe("session-handle-1");
    expect(codec.cached(token)?.sid).toBe("session-handle-1");
  });

  it.each([
    ["a numeric sid", 7],
    ["an empty sid", ""],
    ["an object sid", { $ne: null }],
  ])("refuses a token with %s", async (_name, sid) => {
    const codec = new AccessTokenCodec({ keys: [{ secret: SECRET }] });
    expect(await codec.verify(await sign({ ...claimsFor("user-1"), sid }))).toBeNull();
  });

  it("remembers a verified token: cached() answers it without verifying again", async () => {
    const codec = new AccessTokenCodec({ keys: [{ secret: SECRET }] });
    const token = await codec.sign(content(Date.now()));
    const verified = await codec.verify(token);
    expect(codec.cached(token)).toEqual(verified);
    const uncached = new AccessTokenCodec({
      keys: [{ secret: SECRET }],
      verifiedTokenCacheSize: 0,
    });
    expect(await uncached.verify(token)).toEqual(verified);
    expect(uncached.cached(token)).toBeUndefined();
  });

  it("shares keys with another codec: a second strategy verifies the first one's tokens", async () => {
    const keys = new JwtKeySet([{ privateKey: es256().privateKey }]);
    const first = new AccessTokenCodec({ keys });
    const second = new AccessTokenCodec({ keys });
    const token = await first.sign(content(Date.now(), { sid: "s" }));
    expect((await second.verify(token))?.sub).toBe("user-1");
    // Another audience is another service: refused.
    const other = new AccessTokenCodec({ keys, audience: "other" });
    expect(await other.verify(token)).toBeNull();
  });

  it("refuses a token once its key is rotated out, and keeps it while the key stays (ASVS 9.1.1)", async () => {
    const a = es256();
    const b = es256();
    const old = new AccessTokenCodec({ keys: [{ privateKey: a.privateKey }] });
    const rotated = new AccessTokenCodec({
      keys: [{ privateKey: b.privateKey }, { publicKey: a.publicKey }],
    });
    const dropped = new AccessTokenCodec({ keys: [{ privateKey: b.privateKey }] });
    const token = await old.sign(content(Date.now()));
    expect(await rotated.verify(token)).not.toBeNull();
    expect(await dropped.verify(token)).toBeNull();
    expect(decode(await rotated.sign(content(Date.now()))).header.kid).toBe(
      dropped.keys.currentKid,
    );
  });

  it.each([
    ["an empty audience", { audience: [] }],
    ["an empty issuer", { issuer: "" }],
    ["a negative cache size", { verifiedTokenCacheSize: -1 }],
    ["no keys", { keys: [] }],
  ])("refuses %s at construction, naming its user", (_name, options) => {
    const make = () =>
      new AccessTokenCodec({
        keys: [{ secret: SECRET }],
        name: "RefreshTokenStrategy",
        ...options,
      });
    expect(make).toThrow(ConfigurationError);
    if (!("keys" in options)) expect(make).toThrow(/^RefreshTokenStrategy: /);
  });
});
