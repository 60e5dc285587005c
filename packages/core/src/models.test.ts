import { describe, expect, it } from "vitest";
import { accessTokenExpiresAt, normalizeEmail } from "./models.js";

describe("normalizeEmail", () => {
  it("trims, lower-cases and folds compatibility forms (NFKC)", () => {
    expect(normalizeEmail("  Alice@Example.COM\t")).toBe("alice@example.com");
    expect(normalizeEmail("ａｌｉｃｅ＠ｅｘａｍｐｌｅ．ｃｏｍ")).toBe("alice@example.com");
    // Composed and decomposed é are one address.
    expect(normalizeEmail("josé@example.com")).toBe(normalizeEmail("jose\u0301@example.com"));
    // Kelvin sign K folds to k.
    expect(normalizeEmail("\u212Aim@example.com")).toBe("kim@example.com");
  });

  it("is idempotent over the Basic Multilingual Plane", () => {
    for (let cp = 0; cp < 0x10000; cp++) {
      if (cp >= 0xd800 && cp < 0xe000) continue;
      const email = `a${String.fromCodePoint(cp)}b@example.com`;
      const once = normalizeEmail(email);
      if (normalizeEmail(once) !== once) expect.fail(`not idempotent for U+${cp.toString(16)}`);
    }
  });
});

describe("accessTokenExpiresAt", () => {
  it("is createdAt + lifetimeSeconds", () => {
    const createdAt = new Date("2030-01-01T00:00:00Z");
    expect(accessTokenExpiresAt({ createdAt, lifetimeSeconds: 3600 })).toEqual(
      new Date("2030-01-01T01:00:00Z"),
    );
  });
});
