import { describe, expect, it } from "vitest";
import { InvalidIDError } from "./errors.js";
import { integerIdParser, objectIdStringParser, uuidIdParser } from "./id.js";

// Shapes an attacker can put where an id is expected (JSON body, query, token claim).
const INJECTIONS: unknown[] = [
  { $ne: null },
  JSON.parse('{"$ne":null}'),
  { $gt: "" },
  [],
  ["8c1f4e1e-2a2b-4c3d-9e8f-0123456789ab"],
  null,
  undefined,
  true,
  {},
  () => "8c1f4e1e-2a2b-4c3d-9e8f-0123456789ab",
  { toString: () => "8c1f4e1e-2a2b-4c3d-9e8f-0123456789ab" },
];

describe("uuidIdParser", () => {
  it("accepts UUIDs and lower-cases them", () => {
    expect(uuidIdParser.parse("8c1f4e1e-2a2b-4c3d-9e8f-0123456789ab")).toBe(
      "8c1f4e1e-2a2b-4c3d-9e8f-0123456789ab",
    );
    expect(uuidIdParser.parse("8C1F4E1E-2A2B-4C3D-9E8F-0123456789AB")).toBe(
      "8c1f4e1e-2a2b-4c3d-9e8f-0123456789ab",
    );
    expect(uuidIdParser.stringify("8c1f4e1e-2a2b-4c3d-9e8f-0123456789ab")).toBe(
      "8c1f4e1e-2a2b-4c3d-9e8f-0123456789ab",
    );
  });

  it.each([
    "",
    "not-a-uuid",
    "8c1f4e1e2a2b4c3d9e8f0123456789ab",
    "8c1f4e1e-2a2b-4c3d-9e8f-0123456789ab ",
    " 8c1f4e1e-2a2b-4c3d-9e8f-0123456789ab",
    "8c1f4e1e-2a2b-4c3d-9e8f-0123456789ab\n",
    "{8c1f4e1e-2a2b-4c3d-9e8f-0123456789ab}",
    "8c1f4e1e-2a2b-4c3d-9e8f-0123456789ag",
    "' OR 1=1 --",
  ])("rejects the string %j", (value) => {
    expect(() => uuidIdParser.parse(value)).toThrow(InvalidIDError);
  });

  it.each([...INJECTIONS, 1, 0, Number.NaN])("rejects the non-string %o", (value) => {
    expect(() => uuidIdParser.parse(value)).toThrow(InvalidIDError);
  });
});

describe("integerIdParser", () => {
  it("accepts positive safe integers as numbers or decimal strings", () => {
    expect(integerIdParser.parse(1)).toBe(1);
    expect(integerIdParser.parse("42")).toBe(42);
    expect(integerIdParser.parse(Number.MAX_SAFE_INTEGER)).toBe(Number.MAX_SAFE_INTEGER);
    expect(integerIdParser.parse(String(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
    expect(integerIdParser.stringify(42)).toBe("42");
  });

  it.each([
    "",
    "0",
    "-1",
    "01",
    "1.0",
    "1e3",
    "0x10",
    " 1",
    "1 ",
    "+1",
    "9007199254740993",
    "99999999999999999999",
    "1; DROP TABLE users",
  ])("rejects the string %j", (value) => {
    expect(() => integerIdParser.parse(value)).toThrow(InvalidIDError);
  });

  it.each([
    ...INJECTIONS,
    0,
    -1,
    1.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    2 ** 53,
    [1],
    { valueOf: () => 1 },
    1n,
  ])("rejects %o", (value) => {
    expect(() => integerIdParser.parse(value)).toThrow(InvalidIDError);
  });
});

describe("objectIdStringParser", () => {
  it("accepts 24 hex digits and lower-cases them", () => {
    expect(objectIdStringParser.parse("507f1f77bcf86cd799439011")).toBe("507f1f77bcf86cd799439011");
    expect(objectIdStringParser.parse("507F1F77BCF86CD799439011")).toBe("507f1f77bcf86cd799439011");
  });

  it.each([
    "",
    "507f1f77bcf86cd79943901",
    "507f1f77bcf86cd7994390111",
    "507f1f77bcf86cd79943901g",
    "aaaaaaaaaaaa",
    " 507f1f77bcf86cd799439011",
  ])("rejects the string %j", (value) => {
    expect(() => objectIdStringParser.parse(value)).toThrow(InvalidIDError);
  });

  it.each([...INJECTIONS, 123, { $oid: "507f1f77bcf86cd799439011" }])("rejects %o", (value) => {
    expect(() => objectIdStringParser.parse(value)).toThrow(InvalidIDError);
  });
});
