import { ConfigurationError } from "@tessera/core";
import { describe, expect, it } from "vitest";
import { MfaKeyring } from "./keyring.js";
import { generateRecoveryCode, normalizeRecoveryCode } from "./recovery-codes.js";

const K1 = { id: "k1", secret: "mfa-test-key-0123456789-abcdefghijklmnop" };
const K2 = { id: "k2", secret: "a-newer-mfa-key-0123456789-abcdefghijklm" };

describe("MfaKeyring", () => {
  it("refuses no key, a bad or repeated id, a secret under 32 bytes", () => {
    expect(() => new MfaKeyring([])).toThrow(ConfigurationError);
    expect(() => new MfaKeyring([{ id: "a.b", secret: K1.secret }])).toThrow(ConfigurationError);
    expect(() => new MfaKeyring([K1, K1])).toThrow(ConfigurationError);
    expect(() => new MfaKeyring([{ id: "k", secret: "short" }])).toThrow(ConfigurationError);
    expect(() => new MfaKeyring([{ id: "k", secret: new Uint8Array(32) }])).not.toThrow();
  });

  it("AES-256-GCM with a fresh IV: the same secret twice is two ciphertexts, both open", () => {
    const ring = new MfaKeyring([K1]);
    const a = ring.encryptSecret("JBSWY3DPEHPK3PXP", "user-1");
    const b = ring.encryptSecret("JBSWY3DPEHPK3PXP", "user-1");
    expect(a).not.toBe(b);
    expect(ring.decryptSecret(a, "user-1")).toBe("JBSWY3DPEHPK3PXP");
    expect(() => ring.decryptSecret(a, "user-2")).toThrow(TypeError);
  });

  it("rotation: the first key encrypts, every key decrypts; a dropped key's values fail", () => {
    const old = new MfaKeyring([K1]).encryptSecret("S", "u");
    const rotated = new MfaKeyring([K2, K1]);
    expect(rotated.currentKeyId).toBe("k2");
    expect(rotated.decryptSecret(old, "u")).toBe("S");
    expect(rotated.encryptSecret("S", "u")).toMatch(/^v1\.k2\./);
    expect(() => new MfaKeyring([K2]).decryptSecret(old, "u")).toThrow(TypeError);
  });

  it("keys are per purpose: a sealed secret is no challenge, and hashes differ per key", () => {
    const ring = new MfaKeyring([K1, K2]);
    expect(() => ring.openChallenge(ring.encryptSecret("S", "u"))).toThrow(TypeError);
    const [current, old] = ring.recoveryCodeHashes("abc");
    expect(current).toMatch(/^v1\.k1\./);
    expect(old).toMatch(/^v1\.k2\./);
    expect(new MfaKeyring([K1]).recoveryCodeHashes("abc")).toEqual([current]);
  });
});

describe("recovery codes (ASVS 5.0 6.5.2, 6.5.3, 6.5.4)", () => {
  it("are 24 base32 characters in four groups, 120 bits, all different", () => {
    const codes = Array.from({ length: 1000 }, generateRecoveryCode);
    expect(new Set(codes).size).toBe(1000);
    for (const code of codes) expect(code).toMatch(/^[a-z2-7]{6}(-[a-z2-7]{6}){3}$/);
    // Every character of the alphabet appears: no bias toward a subset.
    expect(new Set(codes.join("").replaceAll("-", "")).size).toBe(32);
  });

  it("normalize ignores case, spaces and dashes; rejects anything else", () => {
    expect(normalizeRecoveryCode("ABCDEF-ghijkl mnopqr-STUVWX")).toBe("abcdefghijklmnopqrstuvwx");
    for (const bad of [
      "",
      "abc",
      "abcdefghijklmnopqrstuvw1",
      "abcdefghijklmnopqrstuvwxy",
      42,
      null,
      "a".repeat(100),
    ]) {
      expect(normalizeRecoveryCode(bad)).toBeNull();
    }
  });
});
