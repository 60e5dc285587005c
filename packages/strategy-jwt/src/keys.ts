import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  type JsonWebKey,
  KeyObject,
  type webcrypto,
} from "node:crypto";
import { ConfigurationError, type Secret } from "@tessera/core";
import { secretKey } from "@tessera/core/internal";
import type { JWK } from "jose";

// Node's WebCrypto types: the repo compiles without the DOM lib, where they are global.
type CryptoKey = webcrypto.CryptoKey;
type KeyAlgorithm = webcrypto.KeyAlgorithm;

/** Signature algorithms {@link JWTStrategy} can be configured with. */
export type JwtAlgorithm = "HS256" | "RS256" | "ES256" | "EdDSA";

/** The asymmetric algorithms, which take a key pair instead of a secret. */
export type JwtKeyPairAlgorithm = Exclude<JwtAlgorithm, "HS256">;

/**
 * An asymmetric key in any form Node can read: a `KeyObject`, a WebCrypto `CryptoKey`,
 * a PEM string (PKCS#8 / SPKI / PKCS#1 / SEC1, or an X.509 certificate for a public key)
 * or a JWK object.
 *
 * @example
 * const privateKey: JwtKeyInput = process.env.JWT_PRIVATE_KEY_PEM ?? "";
 */
export type JwtKeyInput = KeyObject | CryptoKey | string | JWK;

/** Keys ready for jose: imported once, so no call re-parses or re-imports them. */
export interface JwtKeys {
  algorithm: JwtAlgorithm;
  signKey: CryptoKey;
  verifyKey: CryptoKey;
}

interface Profile {
  params: webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams | webcrypto.Algorithm;
  wanted: string;
  matches(algorithm: KeyAlgorithm): boolean;
}

const PROFILES: Record<JwtKeyPairAlgorithm, Profile> = {
  RS256: {
    params: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    wanted: "an RSA key of at least 2048 bits (RSASSA-PKCS1-v1_5, SHA-256)",
    // RFC 7518 §3.3: RSA keys of 2048 bits or larger MUST be used.
    matches: (a) =>
      a.name === "RSASSA-PKCS1-v1_5" &&
      (a as webcrypto.RsaHashedKeyAlgorithm).hash?.name === "SHA-256" &&
      (a as webcrypto.RsaHashedKeyAlgorithm).modulusLength >= 2048,
  },
  ES256: {
    params: { name: "ECDSA", namedCurve: "P-256" },
    wanted: "an EC key on curve P-256",
    matches: (a) => a.name === "ECDSA" && (a as webcrypto.EcKeyAlgorithm).namedCurve === "P-256",
  },
  EdDSA: {
    params: { name: "Ed25519" },
    wanted: "an Ed25519 key",
    matches: (a) => a.name === "Ed25519",
  },
};

/** HS256 key from a secret of ≥ 32 bytes; a shorter one fails here, not at first login. */
export function importHmacKey(secret: Secret): JwtKeys {
  if (typeof secret !== "string" && !(secret instanceof Uint8Array)) {
    throw new ConfigurationError(
      "JWTStrategy: HS256 needs a secret (a string or Uint8Array of at least 32 bytes)",
    );
  }
  const bytes = secretKey(secret, "JWTStrategy secret");
  // A CryptoKey, not the raw bytes: jose would re-import raw bytes on every call.
  const key = createSecretKey(bytes).toCryptoKey({ name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ]);
  return { algorithm: "HS256", signKey: key, verifyKey: key };
}

/**
 * Imports and checks a key pair for `algorithm`: wrong key types, curves, short RSA
 * moduli and mismatched halves fail at construction with a {@link ConfigurationError}.
 */
export function importKeyPair(
  algorithm: JwtKeyPairAlgorithm,
  privateKey: JwtKeyInput,
  publicKey: JwtKeyInput,
): JwtKeys {
  if (!Object.hasOwn(PROFILES, algorithm)) {
    throw new ConfigurationError(`JWTStrategy: unsupported algorithm ${String(algorithm)}`);
  }
  const profile = PROFILES[algorithm];
  const priv = readKey(privateKey, "private", algorithm);
  const pub = readKey(publicKey, "public", algorithm);
  if (priv instanceof KeyObject && pub instanceof KeyObject) {
    const spki = (k: KeyObject) =>
      (k.type === "public" ? k : createPublicKey(k)).export({ type: "spki", format: "der" });
    if (!spki(priv).equals(spki(pub))) {
      throw new ConfigurationError(
        `JWTStrategy: publicKey is not the public half of privateKey (${algorithm})`,
      );
    }
  }
  return {
    algorithm,
    signKey: toCryptoKey(priv, "private", algorithm, profile),
    verifyKey: toCryptoKey(pub, "public", algorithm, profile),
  };
}

function readKey(
  input: JwtKeyInput,
  kind: "private" | "public",
  algorithm: string,
  owner = "JWTStrategy",
): KeyObject | CryptoKey {
  if (isCryptoKey(input)) return input;
  let key: KeyObject;
  try {
    if (input instanceof KeyObject) key = input;
    else if (typeof input === "string")
      key = (kind === "private" ? createPrivateKey : createPublicKey)(input);
    else if (input !== null && typeof input === "object") {
      const jwk = { key: input as JsonWebKey, format: "jwk" } as const;
      key = kind === "private" ? createPrivateKey(jwk) : createPublicKey(jwk);
    } else throw new TypeError(`unsupported key input (${typeof input})`);
  } catch (error) {
    throw new ConfigurationError(
      `${owner}: cannot read ${kind}Key for ${algorithm}: ${(error as Error).message}`,
    );
  }
  // A private key given as publicKey is fine: its public half is derived from it.
  if (kind === "public" && key.type === "private") return createPublicKey(key);
  if (key.type !== kind) {
    throw new ConfigurationError(
      `${owner}: ${kind}Key must be a ${kind} key, got a ${key.type} key`,
    );
  }
  return key;
}

function toCryptoKey(
  key: KeyObject | CryptoKey,
  kind: "private" | "public",
  algorithm: JwtKeyPairAlgorithm,
  profile: Profile,
  owner = "JWTStrategy",
): CryptoKey {
  const usage = kind === "private" ? "sign" : "verify";
  let crypto: CryptoKey;
  try {
    crypto = isCryptoKey(key) ? key : key.toCryptoKey(profile.params, false, [usage]);
  } catch {
    throw new ConfigurationError(`${owner}: ${algorithm} needs ${profile.wanted} (${kind}Key)`);
  }
  if (
    crypto.type !== kind ||
    !profile.matches(crypto.algorithm) ||
    !crypto.usages.includes(usage)
  ) {
    throw new ConfigurationError(
      `${owner}: ${algorithm} needs ${profile.wanted} as a ${kind} key usable to ${usage} (${kind}Key)`,
    );
  }
  return crypto;
}

function isCryptoKey(value: unknown): value is CryptoKey {
  return (value as { [Symbol.toStringTag]?: string })?.[Symbol.toStringTag] === "CryptoKey";
}

/** An asymmetric key imported for a key set: the signing half when given, and the public half. */
export interface ImportedAsymmetricKey {
  algorithm: JwtKeyPairAlgorithm;
  /** Absent for a verify-only key (a previous key whose private half is gone). */
  signKey: CryptoKey | undefined;
  verifyKey: CryptoKey;
  /** The public key as a JWK (key material only: `kty`, `n`/`e` or `crv`/`x`/`y`). */
  publicJwk: JWK;
}

const OWNER = "JwtKeySet";

/**
 * Imports one asymmetric key of a key set: a private key (its public half is derived), a
 * public key (verify only), or both (they must be halves of one pair). The algorithm is
 * `algorithm` when given, else the JWK's `alg`, else the one the key's type allows (RSA:
 * RS256, P-256: ES256, Ed25519: EdDSA); the key must fit it, as {@link importKeyPair} checks.
 */
export function importAsymmetricKey(
  privateKey: JwtKeyInput | undefined,
  publicKey: JwtKeyInput | undefined,
  algorithm?: JwtKeyPairAlgorithm,
): ImportedAsymmetricKey {
  if (algorithm !== undefined && !Object.hasOwn(PROFILES, algorithm)) {
    throw new ConfigurationError(`${OWNER}: unsupported algorithm ${String(algorithm)}`);
  }
  if (privateKey === undefined && publicKey === undefined) {
    throw new ConfigurationError(`${OWNER}: a key needs a privateKey, a publicKey or a secret`);
  }
  const label = algorithm ?? "a key set";
  const priv = privateKey === undefined ? undefined : readKey(privateKey, "private", label, OWNER);
  let pub: KeyObject | CryptoKey;
  if (publicKey !== undefined) pub = readKey(publicKey, "public", label, OWNER);
  else pub = createPublicKey(asKeyObject(priv as KeyObject | CryptoKey, "privateKey"));
  // The public half as a KeyObject: its JWK is the thumbprint's input and what JWKS publishes.
  const pubObject = asKeyObject(pub, "publicKey");
  const wanted =
    algorithm ?? jwkAlgorithm(privateKey) ?? jwkAlgorithm(publicKey) ?? algorithmOf(pubObject);
  if (!Object.hasOwn(PROFILES, wanted)) {
    throw new ConfigurationError(`${OWNER}: unsupported algorithm ${String(wanted)}`);
  }
  const profile = PROFILES[wanted];
  if (priv instanceof KeyObject || priv?.extractable) {
    const spki = (k: KeyObject) => k.export({ type: "spki", format: "der" });
    if (!spki(createPublicKey(asKeyObject(priv, "privateKey"))).equals(spki(pubObject))) {
      throw new ConfigurationError(
        `${OWNER}: publicKey is not the public half of privateKey (${wanted})`,
      );
    }
  }
  return {
    algorithm: wanted,
    signKey: priv === undefined ? undefined : toCryptoKey(priv, "private", wanted, profile, OWNER),
    verifyKey: toCryptoKey(pub, "public", wanted, profile, OWNER),
    publicJwk: pubObject.export({ format: "jwk" }) as JWK,
  };
}

/** `key` as a KeyObject; a CryptoKey must be extractable for that (public keys always are). */
function asKeyObject(key: KeyObject | CryptoKey, name: string): KeyObject {
  if (key instanceof KeyObject) return key;
  if (!key.extractable) {
    throw new ConfigurationError(
      `${OWNER}: ${name} is a non-extractable CryptoKey, from which no public JWK can be read: ` +
        "give its publicKey too (an extractable CryptoKey, a KeyObject, a PEM or a JWK)",
    );
  }
  return KeyObject.from(key);
}

/** The `alg` a JWK input names, if any; one we do not support fails later, by name. */
function jwkAlgorithm(input: JwtKeyInput | undefined): JwtKeyPairAlgorithm | undefined {
  if (input === undefined || typeof input === "string" || input instanceof KeyObject) return;
  if (isCryptoKey(input)) return;
  const alg = (input as JWK).alg;
  return typeof alg === "string" ? (alg as JwtKeyPairAlgorithm) : undefined;
}

/** The one algorithm of ours a key's type allows. */
function algorithmOf(key: KeyObject): JwtKeyPairAlgorithm {
  const type = key.asymmetricKeyType;
  if (type === "rsa") return "RS256";
  if (type === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") return "ES256";
  if (type === "ed25519") return "EdDSA";
  const curve = key.asymmetricKeyDetails?.namedCurve;
  throw new ConfigurationError(
    `${OWNER}: no supported algorithm for a ${type}${curve ? ` (${curve})` : ""} key: ` +
      "RS256 takes RSA, ES256 P-256, EdDSA Ed25519",
  );
}

// RFC 7638 §3.2: the required members of each key type, in lexicographic order.
const THUMBPRINT_MEMBERS: Record<string, readonly string[]> = {
  RSA: ["e", "kty", "n"],
  EC: ["crv", "kty", "x", "y"],
  OKP: ["crv", "kty", "x"],
  oct: ["k", "kty"],
};

/**
 * The RFC 7638 JWK thumbprint (SHA-256, base64url) of a public JWK: jose's
 * `calculateJwkThumbprint`, computed synchronously so that a key set is built in a
 * constructor (the tests compare the two).
 */
export function jwkThumbprint(jwk: JWK): string {
  const members = jwk.kty === undefined ? undefined : THUMBPRINT_MEMBERS[jwk.kty];
  if (members === undefined) {
    throw new ConfigurationError(`${OWNER}: no thumbprint for a JWK of kty ${String(jwk.kty)}`);
  }
  const required: Record<string, unknown> = {};
  for (const name of members) {
    const value = (jwk as Record<string, unknown>)[name];
    if (typeof value !== "string") {
      throw new ConfigurationError(`${OWNER}: JWK member ${name} is missing`);
    }
    required[name] = value;
  }
  // Members in order, no whitespace: JSON.stringify of an object built in that order.
  return createHash("sha256").update(JSON.stringify(required)).digest("base64url");
}

/**
 * The `kid` of an HS256 secret: HMAC-SHA256 keyed with the secret over a fixed label,
 * 128 bits of it in base64url. It names the secret without revealing it (a PRF output).
 */
export function hmacKid(secret: Secret): string {
  const bytes = secretKey(secret, "JWTStrategy secret");
  return createHmac("sha256", bytes).update("tessera:kid").digest("base64url").slice(0, 22);
}
