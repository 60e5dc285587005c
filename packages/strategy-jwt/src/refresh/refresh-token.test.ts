import { ConfigurationError, hashToken } from "@tessera/core";
import { describe, expect, it } from "vitest";
import { RefreshTokenCodec } from "./refresh-token.js";

const SECRET_A = "a".repeat(32);
const SECRET_B = "b".repeat(32);
const KEY = "0123456789abcdef".repeat(4);

function issued(codec: RefreshTokenCodec) {
  const root = codec.root();
  return { token: codec.format(KEY, root.secret), digest: root.digest };
}

describe("RefreshTokenCodec", () => {
  it("parses its own token: the key, the digest stored at creation, a child", () => {
    const codec = new RefreshTokenCodec(SECRET_A);
    const { token, digest } = issued(codec);
    const parsed = codec.parse(token);
    expect(parsed?.key).toBe(KEY);
    expect(parsed?.digest).toBe(digest);
    expect(parsed?.child).not.toBe(token);
    expect(parsed?.childDigest).not.toBe(digest);
    // The child's own digest is what the parent announced.
    expect(codec.parse(parsed?.child)?.digest).toBe(parsed?.childDigest);
  });

  it("derives the same child from a token every time: concurrent refreshes never fork a chain", () => {
    const codec = new RefreshTokenCodec(SECRET_A);
    const { token } = issued(codec);
    const children = new Set(Array.from({ length: 5 }, () => codec.parse(token)?.child));
    expect(children.size).toBe(1);
    // …and another process with the same secret agrees.
    expect(new RefreshTokenCodec(SECRET_A).parse(token)?.child).toBe([...children][0]);
  });

  it("stores only a digest: the token's secret is not in it (ASVS 5.0 7.2.1)", () => {
    const codec = new RefreshTokenCodec(SECRET_A);
    const { token, digest } = issued(codec);
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(token).not.toContain(digest);
    expect(digest).not.toBe(hashToken(token));
  });

  it("refuses a token whose tag another secret made, or any change to it", () => {
    const a = new RefreshTokenCodec(SECRET_A);
    const b = new RefreshTokenCodec(SECRET_B);
    const { token } = issued(a);
    expect(b.parse(token)).toBeNull();
    const [key, part] = token.split(".") as [string, string];
    const flipped = `${part.slice(0, 10)}${part[10] === "A" ? "B" : "A"}${part.slice(11)}`;
    expect(a.parse(`${key}.${flipped}`)).toBeNull();
    // The tag binds the key: the same secret under another session's key is refused.
    expect(a.parse(`${"f".repeat(64)}.${part}`)).toBeNull();
  });

  it.each([
    ["not a string", 42],
    ["empty", ""],
    ["no dot", "abc"],
    ["a JWT", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"],
    ["a short part", `${KEY}.abc`],
    ["oversized", `${KEY}.${"a".repeat(300)}`],
    ["a bad key", `ab.${"a".repeat(64)}`],
  ])("answers null for %s", (_, token) => {
    expect(new RefreshTokenCodec(SECRET_A).parse(token)).toBeNull();
  });

  it("rotates secrets: a token tagged by the previous secret is accepted, its child tagged by the new one", () => {
    const old = new RefreshTokenCodec(SECRET_A);
    const { token } = issued(old);
    const rotated = new RefreshTokenCodec([SECRET_B, SECRET_A]);
    const parsed = rotated.parse(token);
    expect(parsed).not.toBeNull();
    // The child is derived with the secret that verified the parent (the same one everywhere)…
    expect(parsed?.childDigest).toBe(old.parse(token)?.childDigest);
    // …and tagged by the current one, so the old secret can be dropped after one refresh.
    expect(new RefreshTokenCodec(SECRET_B).parse(parsed?.child)).not.toBeNull();
  });

  it("refuses short secrets and an empty list at construction", () => {
    expect(() => new RefreshTokenCodec("short")).toThrow(ConfigurationError);
    expect(() => new RefreshTokenCodec([])).toThrow(ConfigurationError);
  });
});
