import { ConfigurationError } from "@tessera/core";
import { describe, expect, it } from "vitest";
import { type OAuthStatePayload, StateSealer } from "./seal.js";

const payload: OAuthStatePayload = {
  state: "s".repeat(43),
  codeVerifier: "v".repeat(43),
  nonce: "n".repeat(43),
  provider: "github",
  purpose: "associate",
  userId: "42",
  expiresAt: 1_900_000_000,
};

// ASVS 5.0 10.1.2 (state bound to the browser, integrity-protected), 11.3.2 (AES-GCM).
describe("StateSealer", () => {
  const sealer = new StateSealer("x".repeat(32));

  it("seals into a cookie-safe value that hides the verifier and nonce, and opens it", () => {
    const sealed = sealer.seal(payload);
    expect(sealed).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain("vvvv");
    expect(Buffer.from(sealed, "base64url").toString("latin1")).not.toContain("github");
    expect(sealer.open(sealed)).toEqual(payload);
    expect(sealer.seal(payload)).not.toBe(sealed);
  });

  it("opens nothing tampered with, truncated, sealed by another key, or not sealed at all", () => {
    const sealed = sealer.seal(payload);
    const raw = Buffer.from(sealed, "base64url");
    for (const i of [0, 5, 20, raw.length - 1]) {
      const bad = Buffer.from(raw);
      bad[i] = (bad[i] as number) ^ 0x01;
      expect(sealer.open(bad.toString("base64url"))).toBeNull();
    }
    expect(sealer.open(sealed.slice(0, -4))).toBeNull();
    expect(new StateSealer("y".repeat(32)).open(sealed)).toBeNull();
    for (const junk of [undefined, "", "abc", "a b", "x".repeat(5000), `${sealed}=`]) {
      expect(sealer.open(junk)).toBeNull();
    }
  });

  it("refuses a secret shorter than 32 bytes", () => {
    expect(() => new StateSealer("x".repeat(31))).toThrow(ConfigurationError);
    expect(() => new StateSealer(new Uint8Array(16))).toThrow(ConfigurationError);
  });
});
