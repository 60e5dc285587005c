import { describe, expect, it } from "vitest";
import * as errors from "./errors.js";
import {
  ErrorCode,
  InvalidIDError,
  InvalidPasswordError,
  isTesseraError,
  ServiceUnavailableError,
  TesseraError,
  UserAlreadyExistsError,
} from "./errors.js";

describe("errors", () => {
  it("keeps every code stable and UPPER_SNAKE (clients match on them)", () => {
    for (const [key, value] of Object.entries(ErrorCode)) {
      expect(value).toBe(key);
      expect(value).toMatch(/^[A-Z]+(_[A-Z]+)*$/);
    }
  });

  it("gives each error class its own code, a TesseraError base and its class name", () => {
    const classes = (Object.values(errors) as unknown[]).filter(
      (v): v is typeof TesseraError =>
        typeof v === "function" && v.prototype instanceof TesseraError,
    );
    expect(classes.length).toBeGreaterThanOrEqual(13);
    const codes = new Set<string>();
    for (const Class of classes) {
      const error = new (Class as unknown as new (arg: string) => TesseraError)("reason");
      expect(error).toBeInstanceOf(Error);
      expect(error).toBeInstanceOf(TesseraError);
      expect(error.name).toBe(Class.name);
      expect(Object.values(ErrorCode)).toContain(error.code);
      codes.add(error.code);
    }
    expect(codes.size).toBe(classes.length);
  });

  it("passes cause through and keeps the password reason", () => {
    const cause = new Error("ECONNREFUSED");
    expect(new ServiceUnavailableError(undefined, { cause }).cause).toBe(cause);
    expect(new InvalidIDError({ cause }).cause).toBe(cause);
    const invalid = new InvalidPasswordError("too short");
    expect(invalid.reason).toBe("too short");
    expect(invalid.message).toBe("too short");
  });

  it("isTesseraError narrows by class and optionally by code", () => {
    const error = new UserAlreadyExistsError();
    expect(isTesseraError(error)).toBe(true);
    expect(isTesseraError(error, ErrorCode.USER_ALREADY_EXISTS)).toBe(true);
    expect(isTesseraError(error, ErrorCode.USER_NOT_EXISTS)).toBe(false);
    expect(isTesseraError(new Error("x"))).toBe(false);
    expect(isTesseraError({ code: "USER_ALREADY_EXISTS" })).toBe(false);
  });
});
