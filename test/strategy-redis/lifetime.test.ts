// RedisStrategy lifetimes, the same as DatabaseStrategy's: idle expiry, sliding renewal at
// most once per half-lifetime, and an absolute cap no activity extends.
import { hashToken } from "@tessera/core";
import type { RedisClient } from "@tessera/strategy-redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectTo, fixture, MINUTE, TOPOLOGIES, watchWrites } from "./support.js";

describe.each(TOPOLOGIES)("RedisStrategy lifetimes (%s)", (topology) => {
  let redis: RedisClient;
  beforeAll(async () => {
    redis = await connectTo(topology);
  });
  afterAll(() => redis.disconnect());

  it("ASVS 5.0 7.3.1: a token unused for its idle lifetime expires and its key is deleted", async () => {
    const f = fixture(redis);
    const strategy = f.strategy({ lifetimeSeconds: 3600 });
    const user = await f.user();
    const [expiring, lastMoment] = [
      await strategy.writeToken(user),
      await strategy.writeToken(user),
    ];
    f.clock.advance(60 * MINUTE - 1);
    expect(await strategy.readToken(lastMoment, f.manager)).not.toBeNull();
    f.clock.advance(1);
    expect(await strategy.readToken(expiring, f.manager)).toBeNull();
    expect(await redis.exists(`${f.keys.prefix}${hashToken(expiring)}`)).toBe(0);
  });

  it("the Redis TTL is the remaining lifetime, so Redis drops idle sessions by itself", async () => {
    const f = fixture(redis);
    const strategy = f.strategy({ lifetimeSeconds: 120 });
    const token = await strategy.writeToken(await f.user());
    const ttl = await redis.pttl(`${f.keys.prefix}${hashToken(token)}`);
    expect(ttl).toBeGreaterThan(110_000);
    expect(ttl).toBeLessThanOrEqual(120_000);
  });

  it("sliding renewal writes once when less than half the lifetime is left, not on every request", async () => {
    const f = fixture(redis);
    const strategy = f.strategy({ lifetimeSeconds: 3600 });
    const token = await strategy.writeToken(await f.user());
    const key = `${f.keys.prefix}${hashToken(token)}`;
    const writes = await watchWrites(redis, key);
    try {
      const readAt = async (minute: number) => {
        f.clock.advance(minute * MINUTE - (f.clock.now() - start));
        expect(await strategy.readToken(token, f.manager)).not.toBeNull();
      };
      const start = f.clock.now();
      // More than half the lifetime left: reads only.
      for (const minute of [1, 10, 20, 29, 30]) await readAt(minute);
      await writes.settle();
      expect(writes.events).toEqual([]);
      expect(await redis.hget(key, "l")).toBe("3600");

      // 29 minutes left: one renewal, to 60 minutes from now (31 + 60 = 91 min after creation).
      await readAt(31);
      for (const minute of [32, 40, 50, 60, 61]) await readAt(minute);
      await writes.settle();
      expect(writes.events).toEqual(["hset", "expire"]);
      expect(await redis.hget(key, "l")).toBe(String(91 * 60));

      // Half of the new lifetime has gone by: the next renewal, and only one.
      for (const minute of [62, 63, 70]) await readAt(minute);
      await writes.settle();
      expect(writes.events).toEqual(["hset", "expire", "hset", "expire"]);
      expect(await redis.hget(key, "l")).toBe(String(122 * 60));
    } finally {
      await writes.stop();
    }
  });

  it("ASVS 5.0 7.3.2: renewal never extends a token past its absolute lifetime", async () => {
    const f = fixture(redis);
    const strategy = f.strategy({ lifetimeSeconds: 3600, maxLifetimeSeconds: 7200 });
    const token = await strategy.writeToken(await f.user());
    const key = `${f.keys.prefix}${hashToken(token)}`;
    const created = f.clock.now();
    // Busy all along: a request every 5 minutes until the last 5 before the cap.
    let lifetime = "3600";
    while (f.clock.now() - created < 120 * MINUTE - 5 * MINUTE) {
      f.clock.advance(5 * MINUTE);
      expect(await strategy.readToken(token, f.manager)).not.toBeNull();
      const renewed = await redis.hget(key, "l");
      expect(Number(renewed)).toBeLessThanOrEqual(7200);
      if (renewed !== lifetime) {
        // A renewal sets the TTL too, never beyond the cap (the fake clock only runs ahead
        // of Redis' own, so the check holds right after a renewal).
        expect(await redis.pttl(key)).toBeLessThanOrEqual(created + 120 * MINUTE - f.clock.now());
        lifetime = renewed ?? "";
      }
    }
    expect(await redis.hget(key, "l")).toBe("7200");
    f.clock.advance(created + 120 * MINUTE - 1 - f.clock.now());
    expect(await strategy.readToken(token, f.manager)).not.toBeNull();
    f.clock.advance(1);
    expect(await strategy.readToken(token, f.manager)).toBeNull();
    expect(await redis.exists(key)).toBe(0);
  });

  it("a strategy with a shorter cap than a stored token's lifetime enforces its own cap", async () => {
    const f = fixture(redis);
    const token = await f.strategy({ lifetimeSeconds: 3600 }).writeToken(await f.user());
    const strict = f.strategy({ lifetimeSeconds: 600, maxLifetimeSeconds: 1200 });
    f.clock.advance(20 * MINUTE);
    expect(await strict.readToken(token, f.manager)).toBeNull();
  });
});
