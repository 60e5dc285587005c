import { describe, expect, it } from "vitest";
import { ErrorCode } from "../errors.js";
import { boundDevice, checkSessionJson, mergeSessionJson } from "./limits.js";

describe("session data and claims", () => {
  it("accept a JSON object within the limit, as a copy", () => {
    const data = { theme: "dark", counts: [1, 2], nested: { a: true } };
    const checked = checkSessionJson(data, "data", 1024);
    expect(checked).toEqual(data);
    expect(checked).not.toBe(data);
  });

  it("refuse what is not a JSON object (INVALID_SESSION_DATA)", () => {
    for (const value of [null, [], "x", 1, true, undefined]) {
      expect(() => checkSessionJson(value, "data", 1024)).toThrow(
        expect.objectContaining({ code: ErrorCode.INVALID_SESSION_DATA }),
      );
    }
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => checkSessionJson(cyclic, "data", 1024)).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_SESSION_DATA }),
    );
  });

  it("refuse more than the limit in bytes of JSON (SESSION_DATA_TOO_LARGE)", () => {
    expect(() => checkSessionJson({ k: "é".repeat(600) }, "claims", 1024)).toThrow(
      expect.objectContaining({ code: ErrorCode.SESSION_DATA_TOO_LARGE }),
    );
  });

  it("ASVS 5.0 1.5.2: __proto__, constructor and prototype keys are inert at every depth", () => {
    const hostile = JSON.parse('{"__proto__":{"admin":true},"a":{"constructor":{"prototype":1}}}');
    const checked = checkSessionJson(hostile, "data", 1024);
    expect(checked).toEqual({ a: {} });
    expect(({} as { admin?: boolean }).admin).toBeUndefined();
  });

  it("merge top-level keys, null deleting one, within the limit", () => {
    expect(mergeSessionJson({ a: 1, b: 2 }, { b: null, c: 3 }, 1024)).toEqual({ a: 1, c: 3 });
    expect(() => mergeSessionJson({ a: "x".repeat(900) }, { b: "y".repeat(200) }, 1024)).toThrow(
      expect.objectContaining({ code: ErrorCode.SESSION_DATA_TOO_LARGE }),
    );
  });
});

describe("boundDevice", () => {
  it("cuts long values and turns empty ones into null", () => {
    const device = boundDevice({ ipAddress: "", userAgent: "x".repeat(2000) });
    expect(device).toEqual({ ipAddress: null, userAgent: "x".repeat(512) });
    expect(boundDevice(undefined)).toEqual({ ipAddress: null, userAgent: null });
  });
});
