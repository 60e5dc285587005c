// RedisRateLimitStore on both topologies: the same arithmetic as the memory store, atomic
// under concurrency, keys that expire, an outage as 503, and limits shared by two app
// instances.
import { MemoryRateLimitStore, ServiceUnavailableError } from "@tessera/core";
import type { RedisClient } from "@tessera/strategy-redis";
import { RedisRateLimitStore } from "@tessera/strategy-redis/rate-limit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type TestApp } from "../support/app.js";
import { register, request } from "../support/client.js";
import { connectTo, fakeClock, keysUnder, namespace, TOPOLOGIES } from "./support.js";

const FIVE_A_MINUTE = { limit: 5, windowSeconds: 60 };

describe.each(TOPOLOGIES)("RedisRateLimitStore (%s)", (topology) => {
  let redis: RedisClient;
  beforeAll(async () => {
    redis = await connectTo(topology);
  });
  afterAll(() => redis.disconnect());

  it("ASVS 5.0 2.4.1: decides exactly as the memory store, step by step (burst, refill, backoff, refund)", async () => {
    const clock = fakeClock();
    const store = new RedisRateLimitStore({ redis, prefix: namespace().root, clock: clock.now });
    const memory = new MemoryRateLimitStore({ clock: clock.now });
    const rules = [FIVE_A_MINUTE, { limit: 2, windowSeconds: 60, maxBlockSeconds: 300 }];
    for (const [r, rule] of rules.entries()) {
      for (let step = 0; step < 30; step++) {
        if (step % 7 === 6) {
          await Promise.all([store.refund(`k${r}`, rule), memory.refund(`k${r}`, rule)]);
        } else {
          expect(await store.consume(`k${r}`, rule), `rule ${r} step ${step}`).toEqual(
            await memory.consume(`k${r}`, rule),
          );
        }
        clock.advance(1500 * (step % 4));
      }
    }
  });

  it("ASVS 5.0 15.4.2: 50 concurrent attempts against a limit of 10 -> exactly 10 allowed", async () => {
    const store = new RedisRateLimitStore({ redis, prefix: namespace().root });
    const decisions = await Promise.all(
      Array.from({ length: 50 }, () => store.consume("race", { limit: 10, windowSeconds: 60 })),
    );
    expect(decisions.filter((d) => d.allowed)).toHaveLength(10);
    for (const d of decisions.filter((x) => !x.allowed)) expect(d.retryAfterMs).toBeGreaterThan(0);
  });

  it("keys expire once their bucket is full again; only recent attempts hold memory", async () => {
    const { root } = namespace();
    const store = new RedisRateLimitStore({ redis, prefix: root });
    await store.consume("a", { limit: 2, windowSeconds: 1 });
    await store.consume("b", FIVE_A_MINUTE);
    const keys = await keysUnder(redis, root);
    expect(keys).toEqual([`${root}a`, `${root}b`]);
    await new Promise((r) => setTimeout(r, 700));
    expect(await keysUnder(redis, root)).toEqual([`${root}b`]);
    await store.refund("b", FIVE_A_MINUTE);
    expect(await keysUnder(redis, root)).toEqual([]);
  });
});

describe("RedisRateLimitStore outages and configuration", () => {
  it("an unreachable Redis is ServiceUnavailableError, never 'allowed'", async () => {
    const dead = new Redis({
      port: 1,
      lazyConnect: true,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    dead.on("error", () => {});
    const store = new RedisRateLimitStore({ redis: dead });
    await expect(store.consume("k", FIVE_A_MINUTE)).rejects.toBeInstanceOf(ServiceUnavailableError);
    dead.disconnect();
  });

  it("refuses a client that is not ioredis", () => {
    expect(() => new RedisRateLimitStore({ redis: {} as RedisClient })).toThrow(/ioredis/);
  });
});

describe("ASVS 5.0 6.3.1: two app instances share one Redis store", () => {
  let redis: RedisClient;
  const apps: TestApp[] = [];
  beforeAll(async () => {
    redis = await connectTo("single");
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    redis.disconnect();
  });

  it("failed logins on either instance count in one bucket per account", async () => {
    const store = new RedisRateLimitStore({ redis, prefix: namespace().root });
    for (let i = 0; i < 2; i++) apps.push(await startApp({ rateLimit: { store } }));
    const [a, b] = apps as [TestApp, TestApp];
    await register(a.url, "shared@example.com");
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const app = i % 2 === 0 ? a : b;
      const res = await request(`${app.url}/auth/jwt/login`, {
        form: { username: "shared@example.com", password: "wrong password" },
      });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([400, 400, 400, 400, 400, 429]);
  });
});
