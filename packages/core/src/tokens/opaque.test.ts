import { describe, expect, it } from "vitest";
import {
  generateOpaqueToken,
  hashToken,
  isOpaqueTokenShape,
  OPAQUE_TOKEN_BYTES,
  safeEqual,
  sessionIdFromDigest,
} from "./opaque.js";

describe("generateOpaqueToken", () => {
  it("makes 43-char base64url tokens carrying at least 256 bits", () => {
    expect(OPAQUE_TOKEN_BYTES * 8).toBeGreaterThanOrEqual(256);
    const token = generateOpaqueToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, "base64url").byteLength * 8).toBeGreaterThanOrEqual(256);
    expect(isOpaqueTokenShape(token)).toBe(true);
  });

  it("never repeats over many draws and uses the whole alphabet", () => {
    const tokens = new Set(Array.from({ length: 10_000 }, generateOpaqueToken));
    expect(tokens.size).toBe(10_000);
    const chars = new Set([...tokens].join(""));
    expect(chars.size).toBe(64);
  });
});

describe("hashToken", () => {
  it("is the hex SHA-256 of the token (known vector) and never the token itself", () => {
    expect(hashToken("abc")).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    for (let i = 0; i < 100; i++) {
      const token = generateOpaqueToken();
      const digest = hashToken(token);
      expect(digest).toMatch(/^[0-9a-f]{64}$/);
      expect(digest).not.toBe(token);
      expect(hashToken(token)).toBe(digest);
    }
  });

  it("distinguishes tokens that differ in one character", () => {
    const token = generateOpaqueToken();
    const other = `${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`;
    expect(hashToken(other)).not.toBe(hashToken(token));
  });
});

describe("safeEqual", () => {
  it("compares strings, including different lengths and Unicode", () => {
    expect(safeEqual("abc", "abc")).toBe(true);
    expect(safeEqual("abc", "abd")).toBe(false);
    expect(safeEqual("abc", "abcd")).toBe(false);
    expect(safeEqual("", "")).toBe(true);
    expect(safeEqual("é", "é")).toBe(true);
    expect(safeEqual("é", "e\u0301")).toBe(false);
  });
});

describe("isOpaqueTokenShape", () => {
  it.each([
    "",
    "a".repeat(42),
    "a".repeat(44),
    `${"a".repeat(42)}=`,
    `${"a".repeat(42)}+`,
    `${"a".repeat(42)}/`,
  ])("rejects %j", (token) => {
    expect(isOpaqueTokenShape(token)).toBe(false);
  });
});

describe("sessionIdFromDigest", () => {
  it("is a stable 32-char base64url id that is neither the token nor its digest", () => {
    const token = generateOpaqueToken();
    const digest = hashToken(token);
    const id = sessionIdFromDigest(digest);
    expect(id).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(sessionIdFromDigest(digest)).toBe(id);
    expect(id).not.toBe(token);
    expect(digest).not.toContain(id);
    expect(token).not.toContain(id);
    expect(sessionIdFromDigest(hashToken(generateOpaqueToken()))).not.toBe(id);
  });
});
