import { ServiceUnavailableError, UserNotExistsError } from "@tessera/core";
import { describe, expect, it } from "vitest";
import { CliError, describeError, ExitCode, isConnectionError } from "./exit-codes.js";

const errno = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code });

describe("exit codes", () => {
  it("are the documented numbers", () => {
    expect(ExitCode).toEqual({ OK: 0, FAILED: 1, USAGE: 2, UNAVAILABLE: 3 });
  });

  it("a CliError keeps its code and message", () => {
    expect(describeError(new CliError(ExitCode.USAGE, "bad"))).toEqual({ code: 2, message: "bad" });
  });

  it.each([
    ["ECONNREFUSED", errno("ECONNREFUSED")],
    ["a cause", new Error("query failed", { cause: errno("ECONNRESET") })],
    ["an AggregateError (pg on ::1 and 127.0.0.1)", new AggregateError([errno("ECONNREFUSED")])],
    ["Tessera's ServiceUnavailableError", new ServiceUnavailableError()],
    [
      "the driver's server selection",
      Object.assign(new Error("x"), { name: "MongoServerSelectionError" }),
    ],
  ])("%s means cannot connect (3)", (_name, error) => {
    expect(isConnectionError(error)).toBe(true);
    expect(describeError(error).code).toBe(ExitCode.UNAVAILABLE);
    expect(describeError(error).message).toMatch(/^cannot connect: /);
  });

  it("any other error is a failed operation (1)", () => {
    expect(describeError(new UserNotExistsError())).toMatchObject({ code: ExitCode.FAILED });
    expect(describeError("text")).toEqual({ code: ExitCode.FAILED, message: "text" });
    expect(isConnectionError(null)).toBe(false);
  });
});
