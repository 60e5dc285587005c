import { ObjectId } from "mongodb";
import { describe, expect, it } from "vitest";
import { idCodec, idToString } from "./ids.js";

describe("objectId ids", () => {
  const ids = idCodec("objectId");

  it("a 24-hex string becomes an ObjectId, upper case accepted; it reads back lower-case", () => {
    const hex = new ObjectId().toHexString();
    const stored = ids.toStored(hex.toUpperCase());
    expect(stored).toBeInstanceOf(ObjectId);
    expect(idToString(stored)).toBe(hex);
  });

  it("rejects what ObjectId alone would accept: 12-byte strings, ObjectId objects, numbers", () => {
    for (const value of ["abcdefghijkl", new ObjectId(), 1234567890, { toHexString: () => "a" }]) {
      expect(ids.toStored(value)).toBeNull();
    }
  });

  it("generates distinct ObjectIds", () => {
    const a = ids.generate();
    expect(a).toBeInstanceOf(ObjectId);
    expect(idToString(a)).not.toBe(idToString(ids.generate()));
  });
});

describe("uuid ids", () => {
  const ids = idCodec("uuid");

  it("a UUID stays a string, lower-cased", () => {
    expect(ids.toStored("0F1E2D3C-4B5A-4978-8695-A4B3C2D1E0F9")).toBe(
      "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
    );
  });

  it("rejects non-UUIDs and non-strings", () => {
    for (const value of ["nope", "", { $ne: null }, ["0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"]]) {
      expect(ids.toStored(value)).toBeNull();
    }
  });

  it("generates v4 UUID strings", () => {
    expect(ids.generate()).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
});
