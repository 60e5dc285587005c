import { ServiceUnavailableError } from "@tessera/core";
import {
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoServerError,
  MongoServerSelectionError,
} from "mongodb";
import { describe, expect, it } from "vitest";
import {
  isDuplicateKeyError,
  isNotImplementedError,
  isUnavailableError,
  runDriver,
  translateDriverError,
} from "./driver-errors.js";

const serverError = (code: number, errmsg: string, extra: Record<string, unknown> = {}) =>
  new MongoServerError({ ok: 0, code, errmsg, ...extra });

// Its second argument is a topology description, which a test need not build.
const selectionError = () => new MongoServerSelectionError("no server", {} as never);

describe("driver error classification", () => {
  it("network, timeout and server-selection errors are unavailability", () => {
    expect(isUnavailableError(new MongoNetworkError("connection refused"))).toBe(true);
    expect(isUnavailableError(new MongoNetworkTimeoutError("timed out"))).toBe(true);
    expect(isUnavailableError(selectionError())).toBe(true);
    expect(isUnavailableError(serverError(91, "shutdown in progress"))).toBe(true);
    expect(isUnavailableError(serverError(50, "operation exceeded time limit"))).toBe(true);
  });

  // mongodb 7.9.0 rethrows a write-after-FIN EPIPE from Connection.writeCommand unwrapped.
  it("raw Node socket errors the driver lets through (EPIPE after a server crash) are unavailability", () => {
    const epipe = Object.assign(new Error("This socket has been ended by the other party"), {
      code: "EPIPE",
    });
    expect(isUnavailableError(epipe)).toBe(true);
    expect(isUnavailableError(Object.assign(new Error("x"), { code: "ECONNRESET" }))).toBe(true);
    expect(
      isUnavailableError(Object.assign(new Error("x"), { code: "ERR_INVALID_ARG_TYPE" })),
    ).toBe(false);
  });

  it("client mistakes and duplicates are not unavailability", () => {
    expect(isUnavailableError(serverError(11000, "E11000 duplicate key error"))).toBe(false);
    expect(isUnavailableError(serverError(2, "BadValue"))).toBe(false);
    expect(isUnavailableError(new TypeError("x"))).toBe(false);
    expect(isUnavailableError(null)).toBe(false);
  });

  it("errors from another copy of the driver are recognised by name", () => {
    const foreign = Object.assign(new Error("x"), { name: "MongoServerSelectionError" });
    expect(isUnavailableError(foreign)).toBe(true);
  });

  it("translate wraps unavailability in ServiceUnavailableError with the cause attached", async () => {
    const cause = selectionError();
    const translated = translateDriverError(cause);
    expect(translated).toBeInstanceOf(ServiceUnavailableError);
    expect((translated as Error).cause).toBe(cause);
    const other = new TypeError("x");
    expect(translateDriverError(other)).toBe(other);
    await expect(runDriver(() => Promise.reject(cause))).rejects.toBeInstanceOf(
      ServiceUnavailableError,
    );
  });

  it("NotImplemented (238) is recognised", () => {
    expect(
      isNotImplementedError(serverError(238, '`aggregate` stage "$lookup" is not implemented yet')),
    ).toBe(true);
    expect(isNotImplementedError(serverError(2, "BadValue"))).toBe(false);
  });
});

describe("duplicate keys", () => {
  it("E11000 on the field's index, or without saying which index, is a duplicate of that field", () => {
    const onEmail = serverError(11000, "E11000 dup", { keyPattern: { email: 1 } });
    expect(isDuplicateKeyError(onEmail, "email")).toBe(true);
    // FerretDB v1's E11000 on insert names no index.
    expect(
      isDuplicateKeyError(
        serverError(11000, "E11000 duplicate key error collection: d.users"),
        "email",
      ),
    ).toBe(true);
  });

  it("E11000 on another unique index of the app is not an email duplicate", () => {
    const onUsername = serverError(11000, "E11000 dup", { keyPattern: { username: 1 } });
    expect(isDuplicateKeyError(onUsername, "email")).toBe(false);
    expect(isDuplicateKeyError(onUsername)).toBe(true);
  });

  it("FerretDB v1 on SQLite reports a unique violation on update as InternalError: recognised", () => {
    const msg =
      "[msg_update.go:133 handler.(*Handler).updateDocument] constraint failed: " +
      "UNIQUE constraint failed: index 'users_5e7cc513_email_unique' (2067)";
    expect(isDuplicateKeyError(serverError(1, msg), "email")).toBe(true);
    expect(
      isDuplicateKeyError(serverError(1, msg.replace("email_unique", "username_1")), "email"),
    ).toBe(false);
    expect(isDuplicateKeyError(serverError(1, "some other internal error"), "email")).toBe(false);
  });
});
