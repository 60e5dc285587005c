import { createPrivateKey, generateKeyPairSync, type KeyObject, webcrypto } from "node:crypto";
import { ConfigurationError } from "@tessera/core";
import { describe, expect, it } from "vitest";
import { importKeyPair, type JwtKeyInput, type JwtKeyPairAlgorithm } from "./keys.js";
import { keyPair } from "./test-utils/fixtures.js";

// A throwaway P-256 key and a self-signed certificate for it (test material only).
const CERT_KEY_PEM = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgmISYeLqem3OZBROB
JHFm5V79kXcHIsP7ZhzbI+FZZKyhRANCAAQh12Ia0ka+JRlgpi8q2kBy9WnjR9iP
NnzaVR5I7PHtdmrYEv0qat7AVovn0n2irzV7Qt5GdxzkWNPq3+pbPzHz
-----END PRIVATE KEY-----`;
const CERT_PEM = `-----BEGIN CERTIFICATE-----
MIIBhjCCASugAwIBAgIUMBRDK14Y8K2Sdq7ICcga2aF3kfowCgYIKoZIzj0EAwIw
FzEVMBMGA1UEAwwMdGVzc2VyYS10ZXN0MCAXDTI2MTEyMjE2NDYxNFoYDzIxMjYx
MDI5MTY0NjE0WjAXMRUwEwYDVQQDDAx0ZXNzZXJhLXRlc3QwWTATBgcqhkjOPQIB
BggqhkjOPQMBBwNCAAQh12Ia0ka+JRlgpi8q2kBy9WnjR9iPNnzaVR5I7PHtdmrY
Ev0qat7AVovn0n2irzV7Qt5GdxzkWNPq3+pbPzHzo1MwUTAdBgNVHQ4EFgQUsUKs
zZlyQYuo64vvH1pp1m2Yh7AwHwYDVR0jBBgwFoAUsUKszZlyQYuo64vvH1pp1m2Y
h7AwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEAiBgC1jQET7CT
Uj/Cjer1SDtqbpSRF4zsVezJJbeTKL8CIQDUUOJ1F1bXkh9kxCO3dmaKsPvhpr0c
7eh7nGlrVMyPRg==
-----END CERTIFICATE-----`;

const ALGORITHMS: JwtKeyPairAlgorithm[] = ["RS256", "ES256", "EdDSA"];

const forms: Record<string, (key: KeyObject) => JwtKeyInput> = {
  KeyObject: (key) => key,
  PEM: (key) =>
    key.export(
      key.type === "private" ? { type: "pkcs8", format: "pem" } : { type: "spki", format: "pem" },
    ) as string,
  JWK: (key) => key.export({ format: "jwk" }) as JwtKeyInput,
};

describe("importKeyPair", () => {
  for (const algorithm of ALGORITHMS) {
    for (const [form, convert] of Object.entries(forms)) {
      it(`${algorithm}: reads a ${form} pair into non-extractable CryptoKeys`, () => {
        const { privateKey, publicKey } = keyPair(algorithm);
        const keys = importKeyPair(algorithm, convert(privateKey), convert(publicKey));
        expect(keys.signKey.type).toBe("private");
        expect(keys.signKey.extractable).toBe(false);
        expect(keys.signKey.usages).toEqual(["sign"]);
        expect(keys.verifyKey.type).toBe("public");
        expect(keys.verifyKey.usages).toEqual(["verify"]);
      });
    }
  }

  it("reads WebCrypto CryptoKeys, even non-extractable ones", async () => {
    const pair = await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, [
      "sign",
      "verify",
    ]);
    const keys = importKeyPair("ES256", pair.privateKey, pair.publicKey);
    expect(keys.signKey).toBe(pair.privateKey);
    expect(keys.verifyKey).toBe(pair.publicKey);
  });

  it("reads PKCS#1 and SEC1 private keys and an X.509 certificate as public key", () => {
    const rsa = keyPair("RS256");
    const pkcs1 = rsa.privateKey.export({ type: "pkcs1", format: "pem" }) as string;
    expect(() => importKeyPair("RS256", pkcs1, rsa.publicKey)).not.toThrow();
    const sec1 = createPrivateKey(CERT_KEY_PEM).export({ type: "sec1", format: "pem" }) as string;
    expect(() => importKeyPair("ES256", sec1, CERT_PEM)).not.toThrow();
  });

  it("derives the public half when a private key is given as publicKey", () => {
    const { privateKey } = keyPair("EdDSA");
    expect(importKeyPair("EdDSA", privateKey, privateKey).verifyKey.type).toBe("public");
  });

  const rsa1024 = generateKeyPairSync("rsa", { modulusLength: 1024 });
  const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" });
  const ed448 = generateKeyPairSync("ed448");
  const otherEs = generateKeyPairSync("ec", { namedCurve: "P-256" });
  it.each<[string, JwtKeyPairAlgorithm, () => [JwtKeyInput, JwtKeyInput]]>([
    [
      "an RSA key for ES256",
      "ES256",
      () => [keyPair("RS256").privateKey, keyPair("RS256").publicKey],
    ],
    ["a P-384 key for ES256", "ES256", () => [p384.privateKey, p384.publicKey]],
    [
      "an EC key for EdDSA",
      "EdDSA",
      () => [keyPair("ES256").privateKey, keyPair("ES256").publicKey],
    ],
    ["an Ed448 key for EdDSA", "EdDSA", () => [ed448.privateKey, ed448.publicKey]],
    ["a 1024-bit RSA key (RFC 7518 §3.3)", "RS256", () => [rsa1024.privateKey, rsa1024.publicKey]],
    [
      "a public key as privateKey",
      "ES256",
      () => [keyPair("ES256").publicKey, keyPair("ES256").publicKey],
    ],
    ["halves of different pairs", "ES256", () => [keyPair("ES256").privateKey, otherEs.publicKey]],
    [
      "a PEM that is not a key",
      "RS256",
      () => ["-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----", ""],
    ],
    ["a JWK without key material", "ES256", () => [{ kty: "EC" }, { kty: "EC" }]],
    ["a number", "RS256", () => [42 as never, 42 as never]],
  ])("refuses %s with a ConfigurationError", (_name, algorithm, keys) => {
    const [privateKey, publicKey] = keys();
    expect(() => importKeyPair(algorithm, privateKey, publicKey)).toThrow(ConfigurationError);
  });

  it("refuses a CryptoKey of another algorithm", () => {
    const { privateKey, publicKey } = keyPair("EdDSA");
    const priv = privateKey.toCryptoKey({ name: "Ed25519" }, false, ["sign"]);
    const pub = publicKey.toCryptoKey({ name: "Ed25519" }, true, ["verify"]);
    expect(() => importKeyPair("ES256", priv, pub)).toThrow(/P-256/);
  });

  it("names the option and the algorithm in its message", () => {
    expect(() => importKeyPair("RS256", "not a pem", keyPair("RS256").publicKey)).toThrow(
      /cannot read privateKey for RS256/,
    );
  });
});
