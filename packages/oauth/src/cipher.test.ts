import { ConfigurationError } from "@tessera/core";
import { describe, expect, it } from "vitest";
import { OAuthTokenCipher } from "./cipher.js";

const secret = (c: string) => c.repeat(32);

// ASVS 5.0 11.3.2 (approved cipher and mode, AES-GCM), 11.3.3 (authenticated encryption:
// modification is detected), 11.3.4 (a fresh IV per value) for provider tokens at rest.
describe("OAuthTokenCipher", () => {
  it("round-trips and writes version and key id, a fresh IV each time", () => {
    const cipher = new OAuthTokenCipher([{ id: "k1", secret: secret("a") }]);
    const a = cipher.encrypt("gho_provider-token");
    const b = cipher.encrypt("gho_provider-token");
    expect(a).toMatch(/^v1\.k1\.[A-Za-z0-9_-]+$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain("provider-token");
    expect(cipher.decrypt(a)).toBe("gho_provider-token");
    expect(cipher.decrypt(b)).toBe("gho_provider-token");
    expect(cipher.decrypt(cipher.encrypt(""))).toBe("");
  });

  it("rotates: the first key encrypts, every key decrypts", () => {
    const old = new OAuthTokenCipher([{ id: "old", secret: secret("o") }]);
    const stored = old.encrypt("t");
    const rotated = new OAuthTokenCipher([
      { id: "new", secret: secret("n") },
      { id: "old", secret: secret("o") },
    ]);
    expect(rotated.currentKeyId).toBe("new");
    expect(rotated.decrypt(stored)).toBe("t");
    expect(rotated.needsRotation(stored)).toBe(true);
    const fresh = rotated.encrypt("t");
    expect(fresh.startsWith("v1.new.")).toBe(true);
    expect(rotated.needsRotation(fresh)).toBe(false);
    expect(() => old.decrypt(fresh)).toThrow(/unknown key id new/);
  });

  it("refuses a value tampered with, of another key under the same id, or of another format (ASVS 5.0 11.3.3)", () => {
    const cipher = new OAuthTokenCipher([{ id: "k1", secret: secret("a") }]);
    const other = new OAuthTokenCipher([{ id: "k1", secret: secret("b") }]);
    const value = cipher.encrypt("secret-token");
    const body = value.slice("v1.k1.".length);
    const raw = Buffer.from(body, "base64url");
    raw[raw.length - 20] = (raw[raw.length - 20] as number) ^ 1;
    expect(() => cipher.decrypt(`v1.k1.${raw.toString("base64url")}`)).toThrow(TypeError);
    expect(() => other.decrypt(value)).toThrow(/authentication/);
    expect(() => cipher.decrypt("secret-token")).toThrow(/not an encrypted token/);
    expect(() => cipher.decrypt("v2.k1.abcd")).toThrow(/not an encrypted token/);
    expect(() => cipher.decrypt("v1.k1.AAAA")).toThrow(/truncated/);
    // The key id is authenticated: relabelling a value under another configured key fails.
    const two = new OAuthTokenCipher([
      { id: "k1", secret: secret("a") },
      { id: "k2", secret: secret("a") },
    ]);
    expect(() => two.decrypt(`v1.k2.${body}`)).toThrow(/authentication/);
  });

  it("refuses weak configuration", () => {
    expect(() => new OAuthTokenCipher([])).toThrow(ConfigurationError);
    expect(() => new OAuthTokenCipher([{ id: "k", secret: "short" }])).toThrow(/32 bytes/);
    expect(() => new OAuthTokenCipher([{ id: "k", secret: new Uint8Array(31) }])).toThrow(
      ConfigurationError,
    );
    expect(() => new OAuthTokenCipher([{ id: "a.b", secret: secret("a") }])).toThrow(/key id/);
    expect(
      () =>
        new OAuthTokenCipher([
          { id: "k", secret: secret("a") },
          { id: "k", secret: secret("b") },
        ]),
    ).toThrow(/twice/);
    expect(new OAuthTokenCipher([{ id: "k", secret: new Uint8Array(32) }]).currentKeyId).toBe("k");
  });
});
