import { base64url, SignJWT, UnsecuredJWT } from "jose";
import { describe, expect, it } from "vitest";
import { ConfigurationError } from "../errors.js";
import { MIN_SECRET_BYTES, secretKey, signPurposeToken, verifyPurposeToken } from "./signed.js";

const key = secretKey("s".repeat(32), "secret");
const otherKey = secretKey("t".repeat(32), "secret");

describe("secretKey", () => {
  it("accepts 32 bytes as text or bytes, and counts UTF-8 bytes, not characters", () => {
    expect(MIN_SECRET_BYTES).toBe(32);
    expect(secretKey("x".repeat(32), "s").byteLength).toBe(32);
    expect(secretKey(new Uint8Array(32), "s").byteLength).toBe(32);
    // 16 two-byte characters are 32 bytes.
    expect(secretKey("é".repeat(16), "s").byteLength).toBe(32);
  });

  it.each([
    ["empty", ""],
    ["31 chars", "x".repeat(31)],
    ["31 bytes", new Uint8Array(31)],
  ])("refuses a %s secret with a ConfigurationError that names the option", (_, secret) => {
    expect(() => secretKey(secret, "verificationTokenSecret")).toThrow(ConfigurationError);
    expect(() => secretKey(secret, "verificationTokenSecret")).toThrow(/verificationTokenSecret/);
  });
});

describe("signPurposeToken / verifyPurposeToken", () => {
  it("round-trips claims for the right key and audience", async () => {
    const token = await signPurposeToken({ sub: "u1", email: "a@b.c" }, key, "tessera:verify", 60);
    const claims = await verifyPurposeToken(token, key, "tessera:verify");
    expect(claims).toMatchObject({ sub: "u1", email: "a@b.c", aud: "tessera:verify" });
    expect((claims?.exp as number) - (claims?.iat as number)).toBe(60);
  });

  it("answers null for another audience, another key, a tampered or foreign token", async () => {
    const token = await signPurposeToken({ sub: "u1" }, key, "tessera:verify", 60);
    expect(await verifyPurposeToken(token, key, "tessera:reset")).toBeNull();
    expect(await verifyPurposeToken(token, otherKey, "tessera:verify")).toBeNull();
    const [h, p, s] = token.split(".") as [string, string, string];
    const forged = base64url.encode(JSON.stringify({ sub: "u2", aud: "tessera:verify", exp: 9e9 }));
    expect(await verifyPurposeToken(`${h}.${forged}.${s}`, key, "tessera:verify")).toBeNull();
    expect(await verifyPurposeToken(`${h}.${p}.`, key, "tessera:verify")).toBeNull();
    for (const garbage of ["", "a.b.c", "not a token", "x".repeat(9000)]) {
      expect(await verifyPurposeToken(garbage, key, "tessera:verify")).toBeNull();
    }
    expect(await verifyPurposeToken(42 as unknown as string, key, "tessera:verify")).toBeNull();
  });

  it("pins HS256: alg none and HS512 tokens are refused", async () => {
    const unsecured = new UnsecuredJWT({ sub: "u1" })
      .setAudience("tessera:verify")
      .setExpirationTime("1h")
      .encode();
    expect(await verifyPurposeToken(unsecured, key, "tessera:verify")).toBeNull();
    const hs512 = await new SignJWT({ sub: "u1" })
      .setProtectedHeader({ alg: "HS512" })
      .setAudience("tessera:verify")
      .setExpirationTime("1h")
      .sign(new Uint8Array(64).fill(1));
    expect(
      await verifyPurposeToken(hs512, new Uint8Array(64).fill(1), "tessera:verify"),
    ).toBeNull();
  });

  it("requires exp and sub, and refuses expired tokens", async () => {
    const noExp = await new SignJWT({ sub: "u1" })
      .setProtectedHeader({ alg: "HS256" })
      .setAudience("tessera:verify")
      .sign(key);
    expect(await verifyPurposeToken(noExp, key, "tessera:verify")).toBeNull();
    const noSub = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setAudience("tessera:verify")
      .setExpirationTime("1h")
      .sign(key);
    expect(await verifyPurposeToken(noSub, key, "tessera:verify")).toBeNull();
    const expired = await new SignJWT({ sub: "u1" })
      .setProtectedHeader({ alg: "HS256" })
      .setAudience("tessera:verify")
      .setExpirationTime(Math.floor(Date.now() / 1000) - 1)
      .sign(key);
    expect(await verifyPurposeToken(expired, key, "tessera:verify")).toBeNull();
  });
});
