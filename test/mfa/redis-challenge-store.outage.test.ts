// RedisMfaChallengeStore during a Redis outage: every verb rejects with ServiceUnavailableError
// (the HTTP layer's 503) fast, so a login's second step fails closed instead of hanging, and
// the same client serves again once Redis is back. Runs on a private Redis from
// test/harness/control.ts: stopping the shared one would fail other Redis test files.
import { ServiceUnavailableError } from "@tessera/core";
import { RedisMfaChallengeStore } from "@tessera/strategy-redis";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrivateService } from "../harness/control.js";
import { privateRedis, timedFailure } from "../support/outage.js";

// As in test/strategy-redis/server.outage.test.ts: the bound is one second, while a client on
// its defaults (offline queue, 20 retries, 10 s connect) takes far longer.
const FAST_MS = 1000;

describe("RedisMfaChallengeStore during a Redis outage", () => {
  let server: PrivateService;
  let redis: Redis;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ server, redis, dispose } = await privateRedis());
  });
  afterAll(() => dispose());

  it("stopped: consume, isConsumed and addFailure reject with ServiceUnavailableError within a second; restarted: the same client works", async () => {
    const store = new RedisMfaChallengeStore({ redis });
    expect(await store.consume("before", 60)).toBe(true);

    await server.stop("crash");
    try {
      const calls: (() => Promise<unknown>)[] = [
        () => store.consume("c", 60),
        () => store.isConsumed("c"),
        () => store.addFailure("c", 60),
      ];
      for (const [i, call] of calls.entries()) {
        const { error, ms } = await timedFailure(call);
        expect(error, `call ${i}`).toBeInstanceOf(ServiceUnavailableError);
        expect((error as Error).cause).toBeInstanceOf(Error);
        expect(ms).toBeLessThan(FAST_MS);
      }
    } finally {
      await server.start();
    }
    // No persistence: the server came back empty; the scripts load again (NOSCRIPT -> EVAL).
    await expect
      .poll(() => store.consume("after", 60).catch((e) => e), { timeout: 10_000 })
      .toBe(true);
    expect(await store.addFailure("after", 60)).toBe(1);
    expect(await store.isConsumed("after")).toBe(true);
  });
});
