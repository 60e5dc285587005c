import { ServiceUnavailableError } from "@tessera/core";
import { ReplyError } from "ioredis";
import { describe, expect, it } from "vitest";
import { isRedisUnavailable, orUnavailable } from "./unavailable.js";

describe("isRedisUnavailable", () => {
  it("connection failures, timeouts and an exhausted retry budget are outages", () => {
    for (const message of [
      "connect ECONNREFUSED 127.0.0.1:6379",
      "Connection is closed.",
      "Command timed out",
      "Stream isn't writeable and enableOfflineQueue options is false",
      "Cluster isn't ready and enableOfflineQueue options is false",
      "Reached the max retries per request limit (which is 1).",
    ]) {
      expect(isRedisUnavailable(new Error(message)), message).toBe(true);
    }
  });

  it("transient error replies are outages; other error replies are bugs", () => {
    for (const reply of [
      "CLUSTERDOWN The cluster is down",
      "LOADING Redis is loading",
      "TRYAGAIN",
    ]) {
      expect(isRedisUnavailable(new ReplyError(reply)), reply).toBe(true);
    }
    for (const reply of ["WRONGTYPE Operation against a key", "ERR syntax error", "NOSCRIPT"]) {
      expect(isRedisUnavailable(new ReplyError(reply)), reply).toBe(false);
    }
  });

  it("a TypeError from the caller, or a non-error, is not an outage", () => {
    expect(isRedisUnavailable(new TypeError("x is undefined"))).toBe(false);
    expect(isRedisUnavailable("down")).toBe(false);
  });
});

describe("orUnavailable", () => {
  it("turns an outage into ServiceUnavailableError with the cause attached", async () => {
    const cause = new Error("Connection is closed.");
    const error = await orUnavailable(Promise.reject(cause)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect((error as ServiceUnavailableError).cause).toBe(cause);
  });

  it("passes results and other errors through unchanged", async () => {
    expect(await orUnavailable(Promise.resolve(42))).toBe(42);
    const bug = new ReplyError("WRONGTYPE Operation against a key");
    await expect(orUnavailable(Promise.reject(bug))).rejects.toBe(bug);
  });
});
