import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { ConfigurationError } from "@tessera/core";
import {
  calculateJwkThumbprint,
  errors,
  type JWK,
  type JWSHeaderParameters,
  jwtVerify,
  SignJWT,
} from "jose";
import { describe, expect, it } from "vitest";
import { JwtKeySet, type JwtKeySpec } from "./key-set.js";
import { jwkThumbprint } from "./keys.js";
import { decode, SECRET } from "./test-utils/fixtures.js";

const es256 = () => generateKeyPairSync("ec", { namedCurve: "P-256" });
const ed25519 = () => generateKeyPairSync("ed25519");
const rsa = () => generateKeyPairSync("rsa", { modulusLength: 2048 });
const jwkOf = (key: KeyObject) => key.export({ format: "jwk" }) as JWK;
const pem = (key: KeyObject) =>
  key.export(
    key.type === "private" ? { type: "pkcs8", format: "pem" } : { type: "spki", format: "pem" },
  ) as string;

/** A token signed by `set`'s current key, verified by `verifier` the way the codec does. */
async function roundTrip(set: JwtKeySet, verifier: JwtKeySet): Promise<boolean> {
  const token = await set.sign(new SignJWT({ sub: "u" }).setExpirationTime("1h"));
  return verifies(token, verifier);
}

function verifies(token: string, verifier: JwtKeySet): Promise<boolean> {
  return jwtVerify(token, verifier.resolve, { algorithms: [...verifier.algorithms] }).then(
    () => true,
    () => false,
  );
}

describe("JwtKeySet kids", () => {
  it("a key without kid gets the RFC 7638 thumbprint of its public key, as jose computes it", async () => {
    for (const pair of [es256(), ed25519(), rsa()]) {
      const set = new JwtKeySet([{ privateKey: pair.privateKey }]);
      expect(set.currentKid).toBe(await calculateJwkThumbprint(jwkOf(pair.publicKey)));
    }
  });

  it("computes RFC 7638 §3.1's example thumbprint", () => {
    const jwk = {
      kty: "RSA",
      n:
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP" +
        "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2Qv" +
        "zqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6" +
        "WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
      e: "AQAB",
      alg: "RS256",
      kid: "2011-04-29",
    } as JWK;
    expect(jwkThumbprint(jwk)).toBe("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
  });

  it("keeps a JWK's own kid, and an explicit kid over both", () => {
    const pair = es256();
    const jwk = { ...jwkOf(pair.privateKey), kid: "2026-12" };
    expect(new JwtKeySet([{ privateKey: jwk }]).currentKid).toBe("2026-12");
    expect(new JwtKeySet([{ privateKey: jwk, kid: "mine" }]).currentKid).toBe("mine");
  });

  it("gives an HS256 secret a stable kid that does not contain the secret", () => {
    const set = new JwtKeySet([{ secret: SECRET }]);
    expect(set.currentKid).toBe(new JwtKeySet([{ secret: SECRET }]).currentKid);
    expect(set.currentKid).not.toBe(new JwtKeySet([{ secret: `${SECRET}x` }]).currentKid);
    const bytes = Buffer.from(SECRET);
    for (const encoding of ["utf8", "base64url", "base64", "hex"] as const) {
      // No 8-character run of the secret, in any common encoding, is part of the kid.
      const text = bytes.toString(encoding);
      for (let i = 0; i + 8 <= text.length; i++) {
        expect(set.currentKid).not.toContain(text.slice(i, i + 8));
      }
    }
    expect(set.currentKid).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it("refuses two keys with one kid, and an empty or non-string kid", () => {
    const pair = es256();
    expect(
      () => new JwtKeySet([{ privateKey: pair.privateKey }, { publicKey: pair.publicKey }]),
    ).toThrow(/two keys have the kid/);
    expect(() => new JwtKeySet([{ secret: SECRET, kid: "" }])).toThrow(ConfigurationError);
    expect(() => new JwtKeySet([{ secret: SECRET, kid: 7 as never }])).toThrow(ConfigurationError);
  });
});

describe("JwtKeySet keys", () => {
  it.each([
    ["KeyObject", (k: KeyObject) => k],
    ["PEM", pem],
    ["JWK", jwkOf],
  ])("reads %s keys and infers each algorithm from the key type", async (_form, convert) => {
    for (const [pair, algorithm] of [
      [rsa(), "RS256"],
      [es256(), "ES256"],
      [ed25519(), "EdDSA"],
    ] as const) {
      const set = new JwtKeySet([{ privateKey: convert(pair.privateKey) as never }]);
      expect(set.algorithm).toBe(algorithm);
      expect(await roundTrip(set, set)).toBe(true);
    }
  });

  it("reads a WebCrypto pair whose private key is not extractable", async () => {
    const keys = ed25519();
    const pair = {
      privateKey: keys.privateKey.toCryptoKey({ name: "Ed25519" }, false, ["sign"]),
      publicKey: keys.publicKey.toCryptoKey({ name: "Ed25519" }, true, ["verify"]),
    };
    const set = new JwtKeySet([{ privateKey: pair.privateKey, publicKey: pair.publicKey }]);
    expect(set.algorithm).toBe("EdDSA");
    expect(await roundTrip(set, set)).toBe(true);
    // Alone, its public half cannot be read: it says what to give.
    expect(() => new JwtKeySet([{ privateKey: pair.privateKey }])).toThrow(/give its publicKey/);
  });

  it.each<[string, () => JwtKeySpec[]]>([
    ["no keys", () => []],
    ["a verify-only first key", () => [{ publicKey: es256().publicKey }]],
    [
      "a P-384 key",
      () => [{ privateKey: generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey }],
    ],
    ["an RSA key pinned to ES256", () => [{ algorithm: "ES256", privateKey: rsa().privateKey }]],
    [
      "a JWK whose alg is RS384",
      () => [{ privateKey: { ...jwkOf(rsa().privateKey), alg: "RS384" } }],
    ],
    [
      "halves of two pairs",
      () => [{ privateKey: es256().privateKey, publicKey: es256().publicKey }],
    ],
    ["a short secret", () => [{ secret: "short" }]],
    [
      "a secret and a key pair",
      () => [{ secret: SECRET, privateKey: es256().privateKey } as never],
    ],
    ["a secret pinned to ES256", () => [{ secret: SECRET, algorithm: "ES256" } as never]],
    ["nothing in a key", () => [{}]],
  ])("refuses %s with a ConfigurationError", (_name, keys) => {
    expect(() => new JwtKeySet(keys())).toThrow(ConfigurationError);
  });

  it("mixes algorithms: each key verifies only tokens of its own algorithm", async () => {
    const hs = new JwtKeySet([{ secret: SECRET }]);
    const es = new JwtKeySet([{ privateKey: es256().privateKey }]);
    const both = new JwtKeySet([
      { privateKey: ed25519().privateKey },
      { secret: SECRET },
      { privateKey: es256().privateKey },
    ]);
    expect(both.algorithms).toEqual(["EdDSA", "HS256", "ES256"]);
    expect(await roundTrip(hs, both)).toBe(true);
    expect(await roundTrip(both, both)).toBe(true);
    expect(await roundTrip(es, both)).toBe(false); // an ES256 key, but not one of the set
  });
});

describe("JwtKeySet rotation (ASVS 9.1.1)", () => {
  const a = es256();
  const b = es256();
  const setA = new JwtKeySet([{ privateKey: a.privateKey }]);
  const setBA = new JwtKeySet([{ privateKey: b.privateKey }, { publicKey: a.publicKey }]);
  const setB = new JwtKeySet([{ privateKey: b.privateKey }]);

  it("a token signed by key A verifies with [B, A] and is refused by [B]", async () => {
    const token = await setA.sign(new SignJWT({ sub: "u" }));
    expect(decode(token).header.kid).toBe(setA.currentKid);
    expect(await verifies(token, setBA)).toBe(true);
    expect(await verifies(token, setB)).toBe(false);
  });

  it("new tokens carry B's kid once B is current", async () => {
    const token = await setBA.sign(new SignJWT({ sub: "u" }));
    expect(decode(token).header).toEqual({ alg: "ES256", kid: setB.currentKid, typ: "JWT" });
    expect(setBA.kids).toEqual([setB.currentKid, setA.currentKid]);
    expect(await verifies(token, setB)).toBe(true);
    expect(await verifies(token, setA)).toBe(false);
  });
});

describe("JwtKeySet.resolve refuses what it cannot vouch for (ASVS 9.1.1, 9.1.3)", () => {
  const pair = es256();
  const set = new JwtKeySet([{ privateKey: pair.privateKey }, { secret: SECRET }]);
  const hmacKid = set.kids[1] as string;
  const resolve = (header: JWSHeaderParameters) => () => set.resolve(header);

  it("an unknown kid", () => {
    expect(resolve({ alg: "ES256", kid: "nobody" })).toThrow(errors.JWKSNoMatchingKey);
    expect(resolve({ alg: "ES256", kid: 7 as never })).toThrow(errors.JWKSNoMatchingKey);
  });

  it("a kid naming a key of another algorithm", () => {
    expect(resolve({ alg: "ES256", kid: hmacKid })).toThrow(errors.JOSEAlgNotAllowed);
    expect(resolve({ alg: "HS256", kid: set.currentKid })).toThrow(errors.JOSEAlgNotAllowed);
  });

  it("no kid: the current key, and only for its algorithm (tokens of the previous release)", () => {
    expect(set.resolve({ alg: "ES256" }).type).toBe("public");
    expect(resolve({ alg: "HS256" })).toThrow(errors.JOSEAlgNotAllowed);
  });

  it.each(["jku", "x5u", "x5c", "jwk"])("a %s header, whatever the kid", (name) => {
    expect(resolve({ alg: "ES256", kid: set.currentKid, [name]: "x" })).toThrow(errors.JWSInvalid);
  });

  it("a token whose kid names a verify-only key of the set but is signed by another key", async () => {
    const attacker = es256();
    const forged = await new SignJWT({ sub: "u" })
      .setProtectedHeader({ alg: "ES256", kid: set.currentKid })
      .sign(attacker.privateKey);
    expect(await verifies(forged, set)).toBe(false);
  });
});

describe("JwtKeySet.publicJwks", () => {
  it("lists public keys only, current first, each with kid, alg and use: sig", () => {
    const ec = es256();
    const ed = ed25519();
    const set = new JwtKeySet([
      { privateKey: ec.privateKey },
      { secret: SECRET },
      { publicKey: ed.publicKey, kid: "old" },
    ]);
    const { keys } = set.publicJwks();
    expect(keys).toEqual([
      { ...jwkOf(ec.publicKey), kid: set.currentKid, alg: "ES256", use: "sig" },
      { ...jwkOf(ed.publicKey), kid: "old", alg: "EdDSA", use: "sig" },
    ]);
    for (const jwk of keys) {
      for (const secret of ["d", "p", "q", "dp", "dq", "qi", "k"])
        expect(jwk).not.toHaveProperty(secret);
    }
  });

  it("is empty for an HS256-only set", () => {
    expect(new JwtKeySet([{ secret: SECRET }]).publicJwks()).toEqual({ keys: [] });
  });

  it("hands out copies: editing one changes nothing", () => {
    const set = new JwtKeySet([{ privateKey: es256().privateKey }]);
    const first = set.publicJwks();
    (first.keys[0] as { kid: string }).kid = "edited";
    expect(set.publicJwks().keys[0]?.kid).toBe(set.currentKid);
  });
});

describe("JwtKeySet.fromJwks", () => {
  const current = { ...jwkOf(es256().privateKey), kid: "2026-12", alg: "ES256", use: "sig" };
  const previous = jwkOf(ed25519().publicKey);
  const secret = { kty: "oct", k: Buffer.from(SECRET).toString("base64url"), alg: "HS256" };

  it("reads a JWK Set object or its JSON text: first key current, kids kept or derived", async () => {
    for (const input of [
      { keys: [current, previous, secret] },
      JSON.stringify({ keys: [current, previous, secret] }),
    ]) {
      const set = JwtKeySet.fromJwks(input as never);
      expect(set.currentKid).toBe("2026-12");
      expect(set.kids[1]).toBe(await calculateJwkThumbprint(previous));
      expect(set.kids[2]).toBe(new JwtKeySet([{ secret: SECRET }]).currentKid);
      expect(set.algorithms).toEqual(["ES256", "EdDSA", "HS256"]);
      expect(set.publicJwks().keys.map((k) => k.kid)).toEqual(["2026-12", set.kids[1]]);
    }
  });

  it("verifies tokens of its private key's pair", async () => {
    const pair = es256();
    const signer = new JwtKeySet([{ privateKey: pair.privateKey }]);
    const verifier = JwtKeySet.fromJwks({
      keys: [jwkOf(ed25519().privateKey), jwkOf(pair.publicKey)],
    });
    expect(await roundTrip(signer, verifier)).toBe(true);
  });

  it.each<[string, unknown]>([
    ["text that is not JSON", "{keys:"],
    ["no keys list", { key: [] }],
    ["an empty list", { keys: [] }],
    ["a public key first (it cannot sign)", { keys: [previous] }],
    ["an encryption key", { keys: [{ ...current, use: "enc" }] }],
    ["an oct key for another algorithm", { keys: [{ ...secret, alg: "HS512" }] }],
    ["a short oct key", { keys: [{ kty: "oct", k: "c2hvcnQ" }] }],
    ["a JWK that is not an object", { keys: ["x"] }],
  ])("refuses %s", (_name, input) => {
    expect(() => JwtKeySet.fromJwks(input as never)).toThrow(ConfigurationError);
  });
});
