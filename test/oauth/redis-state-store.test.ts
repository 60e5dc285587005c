// RedisOAuthStateStore (@tessera/strategy-redis) as the OAuth flow's single-use state store,
// on the harness' standalone Redis and 3-node Cluster (ASVS 5.0 10.1.2: a state is used once,
// across every app instance).
import { randomUUID } from "node:crypto";
import { RedisOAuthStateStore } from "@tessera/strategy-redis";
import { afterAll, describe, expect, it } from "vitest";
import { connectTo, TOPOLOGIES } from "../strategy-redis/support.js";
import { flowOf, oidcOf, signIn } from "./support.js";

describe.each(TOPOLOGIES)("RedisOAuthStateStore on %s Redis", (topology) => {
  const clients: Awaited<ReturnType<typeof connectTo>>[] = [];
  afterAll(async () => {
    for (const c of clients) c.disconnect();
  });
  const store = async () => {
    const redis = await connectTo(topology);
    clients.push(redis);
    return new RedisOAuthStateStore({ redis, prefix: `test:oauth:${randomUUID()}:` });
  };

  it("consumes once, with the ttl on the key", async () => {
    const s = await store();
    expect(await s.consume("a", 30)).toBe(true);
    expect(await s.consume("a", 30)).toBe(false);
    expect(await s.consume("b", 30)).toBe(true);
    const ttl = await s.redis.ttl(`${s.prefix}a`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30);
  });

  it("has exactly one winner among concurrent consumers on two connections", async () => {
    const [one, two] = [await store(), await store()];
    const twin = new RedisOAuthStateStore({ redis: two.redis, prefix: one.prefix });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? one : twin).consume("race", 30)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it("refuses a replayed callback across two app instances sharing the store", async () => {
    const shared = await store();
    const instanceA = flowOf(oidcOf(), { stateStore: shared });
    const instanceB = flowOf(oidcOf(), { stateStore: shared });
    const { cookie, query } = await signIn(instanceA, { login: "alice" });
    await instanceA.complete({ query, cookie });
    await expect(instanceB.complete({ query, cookie })).rejects.toMatchObject({
      code: "OAUTH_INVALID_STATE",
    });
  });
});
