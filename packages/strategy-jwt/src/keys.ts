import {
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
  algorithm: JwtKeyPairAlgorithm,
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
      `JWTStrategy: cannot read ${kind}Key for ${algorithm}: ${(error as Error).message}`,
    );
  }
  // A private key given as publicKey is fine: its public half is derived from it.
  if (kind === "public" && key.type === "private") return createPublicKey(key);
  if (key.type !== kind) {
    throw new ConfigurationError(
      `JWTStrategy: ${kind}Key must be a ${kind} key, got a ${key.type} key`,
    );
  }
  return key;
}

function toCryptoKey(
  key: KeyObject | CryptoKey,
  kind: "private" | "public",
  algorithm: JwtKeyPairAlgorithm,
  profile: Profile,
): CryptoKey {
  const usage = kind === "private" ? "sign" : "verify";
  let crypto: CryptoKey;
  try {
    crypto = isCryptoKey(key) ? key : key.toCryptoKey(profile.params, false, [usage]);
  } catch {
    throw new ConfigurationError(`JWTStrategy: ${algorithm} needs ${profile.wanted} (${kind}Key)`);
  }
  if (
    crypto.type !== kind ||
    !profile.matches(crypto.algorithm) ||
    !crypto.usages.includes(usage)
  ) {
    throw new ConfigurationError(
      `JWTStrategy: ${algorithm} needs ${profile.wanted} as a ${kind} key usable to ${usage} (${kind}Key)`,
    );
  }
  return crypto;
}

function isCryptoKey(value: unknown): value is CryptoKey {
  return (value as { [Symbol.toStringTag]?: string })?.[Symbol.toStringTag] === "CryptoKey";
}
