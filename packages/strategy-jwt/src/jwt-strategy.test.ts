import { ConfigurationError, integerIdParser, type UserProtocol } from "@tessera/core";
import type { MemoryUser } from "@tessera/core/testing";
import { describe, expect, it } from "vitest";
import { JWTStrategy } from "./jwt-strategy.js";
import { JwtKeySet } from "./key-set.js";
import type { JwtKeyPairAlgorithm } from "./keys.js";
import {
  claimsFor,
  decode,
  keyPair,
  keyPairOptions,
  SECRET,
  setup,
  sign,
} from "./test-utils/fixtures.js";

describe("JWTStrategy round trip", () => {
  it("HS256 by default: a written token reads back as its user (ASVS 9.1.1)", async () => {
    const { strategy, manager, addUser } = setup();
    const user = await addUser();
    const token = await strategy.writeToken(user);
    expect(strategy.algorithm).toBe("HS256");
    expect(decode(token).header).toEqual({
      alg: "HS256",
      kid: strategy.keys.currentKid,
      typ: "JWT",
    });
    expect(await strategy.readToken(token, manager)).toEqual(user);
  });

  it.each<JwtKeyPairAlgorithm>(["RS256", "ES256", "EdDSA"])(
    "%s with a key pair: a written token reads back as its user (ASVS 9.1.1)",
    async (algorithm) => {
      const { strategy, manager, addUser } = setup(keyPairOptions(algorithm));
      const user = await addUser();
      const token = await strategy.writeToken(user);
      expect(decode(token).header.alg).toBe(algorithm);
      expect(decode(token).header.kid).toBe(strategy.keys.currentKid);
      expect(await strategy.readToken(token, manager)).toEqual(user);
    },
  );

  it("writes sub, aud, iat, exp, a random jti and a millisecond issue time", async () => {
    const { strategy, addUser } = setup();
    const user = await addUser();
    const before = Date.now();
    const { payload } = decode(await strategy.writeToken(user));
    expect(payload.sub).toBe(user.id);
    expect(payload.aud).toEqual(["tessera:auth"]);
    expect(payload.exp).toBe((payload.iat as number) + 3600);
    expect(payload.iat).toBe(Math.floor((payload.iat_ms as number) / 1000));
    expect(payload.iat_ms).toBeGreaterThanOrEqual(before);
    expect(payload.iss).toBeUndefined();
    // ≥ 128 bits of randomness (ASVS 5.0 7.2.3's floor for token ids).
    expect(Buffer.from(payload.jti as string, "base64url").byteLength).toBeGreaterThanOrEqual(16);
  });

  it("gives every token its own jti", async () => {
    const { strategy, addUser } = setup();
    const user = await addUser();
    const jtis = new Set<unknown>();
    for (let i = 0; i < 50; i++) jtis.add(decode(await strategy.writeToken(user)).payload.jti);
    expect(jtis.size).toBe(50);
  });

  it("honours lifetimeSeconds, audience and issuer", async () => {
    const { strategy, manager, addUser } = setup({
      secret: SECRET,
      lifetimeSeconds: 900,
      audience: "my-api",
      issuer: "https://auth.example.com",
    });
    const user = await addUser();
    const token = await strategy.writeToken(user);
    const { payload } = decode(token);
    expect(payload.exp).toBe((payload.iat as number) + 900);
    expect(payload.aud).toEqual(["my-api"]);
    expect(payload.iss).toBe("https://auth.example.com");
    expect(await strategy.readToken(token, manager)).toEqual(user);
  });

  it("uses idParser to write sub for non-string ids", async () => {
    const strategy = new JWTStrategy({ secret: SECRET, idParser: integerIdParser });
    const user = {
      id: 42,
      email: "a@b.c",
      hashedPassword: "x",
      isActive: true,
      isSuperuser: false,
      isVerified: true,
    };
    expect(decode(await strategy.writeToken(user)).payload.sub).toBe("42");
  });

  it("without idParser refuses ids it cannot turn into a string faithfully", async () => {
    const strategy = new JWTStrategy<UserProtocol<object>, object>({ secret: SECRET });
    const user = {
      id: {},
      email: "a@b.c",
      hashedPassword: "x",
      isActive: true,
      isSuperuser: false,
      isVerified: true,
    };
    await expect(strategy.writeToken(user)).rejects.toBeInstanceOf(ConfigurationError);
  });
});

describe("JWTStrategy configuration", () => {
  it("refuses an HS256 secret shorter than 32 bytes, as text or bytes (ASVS 9.1.2)", () => {
    expect(() => new JWTStrategy({ secret: "too-short" })).toThrow(ConfigurationError);
    expect(() => new JWTStrategy({ secret: "too-short" })).toThrow(/at least 32 bytes \(got 9\)/);
    expect(() => new JWTStrategy({ secret: new Uint8Array(31) })).toThrow(ConfigurationError);
    expect(() => new JWTStrategy({ secret: new Uint8Array(32) })).not.toThrow();
  });

  it("counts secret length in UTF-8 bytes, not characters", () => {
    // 11 characters, 33 bytes.
    expect(() => new JWTStrategy({ secret: "ééééééééééé" })).toThrow(ConfigurationError);
    expect(() => new JWTStrategy({ secret: "éééééééééééééééé" })).not.toThrow();
  });

  it.each([
    ["no secret", {}],
    ["a key pair with HS256", { secret: SECRET, ...keyPairOptions("RS256"), algorithm: "HS256" }],
    ["a secret with RS256", { ...keyPairOptions("RS256"), secret: SECRET }],
    ["alg none", { algorithm: "none", secret: SECRET }],
    ["an unknown algorithm", { algorithm: "HS512", secret: SECRET }],
    ["a prototype key as algorithm", { algorithm: "constructor", privateKey: "", publicKey: "" }],
    ["lifetimeSeconds 0", { secret: SECRET, lifetimeSeconds: 0 }],
    ["a fractional lifetimeSeconds", { secret: SECRET, lifetimeSeconds: 1.5 }],
    ["an empty audience list", { secret: SECRET, audience: [] }],
    ["an empty audience", { secret: SECRET, audience: "" }],
    ["an empty issuer", { secret: SECRET, issuer: "" }],
  ])("refuses %s at construction", (_name, options) => {
    expect(() => new JWTStrategy(options as never)).toThrow(ConfigurationError);
  });
});

describe("JWTStrategy with a key set (keys that rotate)", () => {
  it("signs with the first key and writes its kid; reads tokens of every key (ASVS 9.1.1)", async () => {
    const previous = keyPair("EdDSA");
    const current = keyPair("ES256");
    const oldStrategy = setup({ algorithm: "EdDSA", ...previous }).strategy;
    const { strategy, manager, addUser } = setup({
      keys: [{ privateKey: current.privateKey }, { publicKey: previous.publicKey }],
    });
    const user = await addUser();
    const oldToken = await oldStrategy.writeToken(user);
    const newToken = await strategy.writeToken(user);
    expect(strategy.algorithm).toBe("ES256");
    expect(decode(newToken).header).toEqual({
      alg: "ES256",
      kid: strategy.keys.currentKid,
      typ: "JWT",
    });
    expect(strategy.keys.kids).toEqual([strategy.keys.currentKid, oldStrategy.keys.currentKid]);
    expect(await strategy.readToken(oldToken, manager)).toEqual(user);
    expect(await strategy.readToken(newToken, manager)).toEqual(user);
    // Once the previous key is dropped, its tokens are refused; the current key's are not.
    const dropped = new JWTStrategy<MemoryUser, string>({
      keys: [{ privateKey: current.privateKey }],
    });
    expect(await dropped.readToken(oldToken, manager)).toBeNull();
    expect(await dropped.readToken(newToken, manager)).toEqual(user);
  });

  it("an upgrade logs nobody out: a token of the previous release (no kid) still reads", async () => {
    const { strategy, manager, addUser } = setup();
    const user = await addUser();
    const legacy = await sign(claimsFor(user.id));
    expect(decode(legacy).header.kid).toBeUndefined();
    expect(await strategy.readToken(legacy, manager)).toEqual(user);
  });

  it("reissue re-signs a previous key's token with the current key, same jti and exp", async () => {
    const previous = keyPair("EdDSA");
    const oldStrategy = setup({ algorithm: "EdDSA", ...previous }).strategy;
    const { strategy, manager, addUser } = setup({
      keys: [{ secret: SECRET }, { publicKey: previous.publicKey }],
    });
    const user = await addUser();
    const oldToken = await oldStrategy.writeToken(user);
    const reissued = (await strategy.reissue(oldToken, { role: "admin" })) as string;
    expect(decode(reissued).header.kid).toBe(strategy.keys.currentKid);
    expect(decode(reissued).payload.jti).toBe(decode(oldToken).payload.jti);
    expect(decode(reissued).payload.exp).toBe(decode(oldToken).payload.exp);
    expect(await strategy.readToken(reissued, manager)).toEqual(user);
  });

  it("takes a JwtKeySet as it is and exposes it as strategy.keys", () => {
    const keys = new JwtKeySet([{ secret: SECRET }]);
    expect(new JWTStrategy({ keys }).keys).toBe(keys);
    // A secret or a key pair becomes a one-key set, so a JWKS route can publish any strategy.
    const pair = new JWTStrategy(keyPairOptions("ES256"));
    expect(pair.keys.publicJwks().keys).toHaveLength(1);
    expect(new JWTStrategy({ secret: SECRET }).keys.publicJwks().keys).toEqual([]);
  });

  it.each([
    ["keys and a secret", { keys: [{ secret: SECRET }], secret: SECRET }],
    ["keys and algorithm", { keys: [{ secret: SECRET }], algorithm: "HS256" }],
    ["keys and a key pair", { keys: [{ secret: SECRET }], ...keyPairOptions("ES256") }],
    ["an empty key list", { keys: [] }],
  ])("refuses %s at construction", (_name, options) => {
    expect(() => new JWTStrategy(options as never)).toThrow(ConfigurationError);
  });
});
