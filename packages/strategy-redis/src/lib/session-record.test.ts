import { describe, expect, it } from "vitest";
import { decodeData, encodeData, patchEntries } from "./session-record.js";

describe("session data as stored in `d`", () => {
  it("encodeData stores each top-level key and value JSON-encoded, in key order; decodeData reads it back", () => {
    const data = { theme: "dark", list: [], nested: { a: [1, { b: null }] }, n: 2 ** 53 - 1 };
    const stored = encodeData(data);
    expect(JSON.parse(stored)).toEqual([
      '"theme"',
      '"dark"',
      '"list"',
      "[]",
      '"nested"',
      '{"a":[1,{"b":null}]}',
      '"n"',
      "9007199254740991",
    ]);
    expect(decodeData(stored)).toEqual(data);
    expect(decodeData(encodeData({}))).toEqual({});
    // A stored null value is a value (only a patch's null deletes).
    expect(decodeData(encodeData({ a: null }))).toEqual({ a: null });
  });

  it("patchEntries marks a deleted key with an empty string, which no JSON value is", () => {
    expect(patchEntries({ a: null, b: 1, 'x"y': "z" })).toEqual([
      '"a"',
      "",
      '"b"',
      "1",
      '"x\\"y"',
      '"z"',
    ]);
  });

  it("the format before (one JSON object) still reads", () => {
    expect(decodeData('{"a":1,"e":[]}')).toEqual({ a: 1, e: [] });
    expect(decodeData(null)).toEqual({});
    expect(decodeData("")).toEqual({});
  });

  it("anything not written by Tessera reads as {}, and never reaches a prototype (ASVS 5.0 15.3.6)", () => {
    for (const bad of [
      "[",
      '["\\"a\\""]',
      '["\\"a\\"",1]',
      '[1,"2"]',
      '["a","1"]',
      '["\\"a\\"","1,\\"b\\":"]',
      '["\\"a\\"",""]',
      "{not json",
      "[]x",
    ]) {
      expect(decodeData(bad), bad).toEqual({});
    }
    const hostile = decodeData(
      JSON.stringify(['"__proto__"', '{"polluted":1}', '"\\u005f_proto__"', "{}", '"ok"', "1"]),
    );
    expect(hostile).toEqual({ ok: 1 });
    expect(Object.getPrototypeOf(hostile)).toBe(Object.prototype);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });
});
