import {
  ConnectionException,
  DriverException,
  UniqueConstraintViolationException,
} from "@mikro-orm/core";
import { ServiceUnavailableError, UserAlreadyExistsError } from "@tessera/core";
import { describe, expect, it } from "vitest";
import { guard, isUnavailable, isUniqueViolation } from "./errors.js";

const withProps = (message: string, props: Record<string, unknown>) =>
  Object.assign(new Error(message), props);

describe("isUnavailable", () => {
  it.each([
    [
      "a refused socket",
      withProps("connect ECONNREFUSED 127.0.0.1:5432", { code: "ECONNREFUSED" }),
    ],
    [
      "pg's AggregateError of refused sockets",
      new AggregateError([withProps("x", { code: "ECONNREFUSED" })]),
    ],
    ["PostgreSQL shutting down (57P01)", withProps("terminating connection", { code: "57P01" })],
    ["PostgreSQL class 08", withProps("connection failure", { code: "08006" })],
    ["too many connections", withProps("sorry, too many clients", { code: "53300" })],
    ["statement timeout", withProps("canceling statement", { code: "57014" })],
    ["pg-pool's acquire timeout", new Error("timeout exceeded when trying to connect")],
    ["a lost pg connection", new Error("Connection terminated unexpectedly")],
    [
      "mongodb server selection",
      withProps("Server selection timed out after 1000 ms", { name: "MongoServerSelectionError" }),
    ],
    [
      "mongodb network error",
      withProps("connection 4 to 127.0.0.1:27017 closed", { name: "MongoNetworkError" }),
    ],
    [
      "a mongodb error rewrapped by MikroORM",
      new DriverException(new Error("connect ECONNREFUSED 127.0.0.1:27017")),
    ],
    [
      "MikroORM's ConnectionException",
      new ConnectionException(new Error("unable to open database file")),
    ],
    ["SQLite busy", new Error("database is locked")],
    [
      "node:sqlite's SQLITE_BUSY_SNAPSHOT (517)",
      withProps("database is locked", { code: "ERR_SQLITE_ERROR", errcode: 517 }),
    ],
    [
      "node:sqlite's SQLITE_CANTOPEN (14)",
      withProps("unable to open database file", { code: "ERR_SQLITE_ERROR", errcode: 14 }),
    ],
    ["a cause chain", new Error("outer", { cause: withProps("inner", { code: "ETIMEDOUT" }) })],
  ])("%s -> unavailable", (_, error) => {
    expect(isUnavailable(error)).toBe(true);
  });

  it.each([
    ["a syntax error", withProps("syntax error at or near", { code: "42601" })],
    ["a unique violation", withProps("duplicate key", { code: "23505" })],
    [
      "node:sqlite's SQLITE_CONSTRAINT_UNIQUE (2067)",
      withProps("UNIQUE constraint failed: user.email", {
        code: "ERR_SQLITE_ERROR",
        errcode: 2067,
      }),
    ],
    ["a plain TypeError", new TypeError("x is not a function")],
    ["a non-error", "ECONNREFUSED"],
    ["null", null],
  ])("%s -> not unavailable", (_, error) => {
    expect(isUnavailable(error)).toBe(false);
  });

  it("survives a cause cycle", () => {
    const a = new Error("a");
    const b = new Error("b", { cause: a });
    Object.assign(a, { cause: b });
    expect(isUnavailable(a)).toBe(false);
  });
});

describe("isUniqueViolation", () => {
  it.each([
    ["MikroORM's exception", new UniqueConstraintViolationException(new Error("dup"))],
    ["PostgreSQL 23505", withProps("duplicate key value", { code: "23505" })],
    ["MongoDB E11000", withProps("E11000 duplicate key error", { code: 11000 })],
    // FerretDB v1 reports a unique violation in an update as InternalError (code 1).
    [
      "FerretDB's update",
      withProps("constraint failed: UNIQUE constraint failed: index 'u_email_1'", { code: 1 }),
    ],
  ])("%s -> unique violation", (_, error) => {
    expect(isUniqueViolation(error)).toBe(true);
  });

  it("a not-null violation is not one", () => {
    expect(isUniqueViolation(withProps("null value in column", { code: "23502" }))).toBe(false);
  });
});

describe("guard", () => {
  it("turns unavailability into ServiceUnavailableError with the driver error as cause", async () => {
    const cause = withProps("connect ECONNREFUSED", { code: "ECONNREFUSED" });
    const error = await guard(() => Promise.reject(cause)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect((error as Error).cause).toBe(cause);
  });

  it("turns a unique violation into UserAlreadyExistsError only when asked", async () => {
    const dup = new UniqueConstraintViolationException(new Error("dup"));
    await expect(guard(() => Promise.reject(dup), true)).rejects.toBeInstanceOf(
      UserAlreadyExistsError,
    );
    await expect(guard(() => Promise.reject(dup))).rejects.toBe(dup);
  });

  it("rethrows anything else unchanged", async () => {
    const bug = new TypeError("bug");
    await expect(guard(() => Promise.reject(bug), true)).rejects.toBe(bug);
  });
});
