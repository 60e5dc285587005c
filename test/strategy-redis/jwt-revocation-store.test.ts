// RedisJwtRevocationStore: the shared conformance cases on both topologies, the key layout
// that makes isRevoked one MGET on a Cluster, TTLs, and logout through a real JWTStrategy.
import { randomBytes } from "node:crypto";
import { ConfigurationError } from "@tessera/core";
import { JWTStrategy } from "@tessera/strategy-jwt";
import { jwtRevocationStoreCases } from "@tessera/strategy-jwt/testing";
import type { RedisClient } from "@tessera/strategy-redis";
import { RedisJwtRevocationStore } from "@tessera/strategy-redis/jwt";
import { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectTo,
  countCalls,
  fixture,
  keysUnder,
  namespace,
  nodeOf,
  TOPOLOGIES,
} from "./support.js";

const HOUR = 3_600_000;
const id = () => randomBytes(9).toString("base64url");

describe.each(TOPOLOGIES)("RedisJwtRevocationStore (%s)", (topology) => {
  let redis: RedisClient;
  const store = () => new RedisJwtRevocationStore({ redis, prefix: namespace().root });
  beforeAll(async () => {
    redis = await connectTo(topology);
  });
  afterAll(() => redis.disconnect());

  describe("conformance", () => {
    for (const c of jwtRevocationStoreCases) it(c.name, () => c.run(store()));

    it("passes every case against one shared store", async () => {
      const shared = store();
      for (const c of jwtRevocationStoreCases) await c.run(shared);
    });
  });

  it("isRevoked is one round trip (one MGET), on a Cluster too", async () => {
    const counted = countCalls(redis);
    const s = new RedisJwtRevocationStore({ redis: counted.client, prefix: namespace().root });
    const [jti, sub] = [id(), id()];
    await s.revokeUserTokens({ sub, cutoff: new Date(), expiresAt: new Date(Date.now() + HOUR) });
    counted.calls.length = 0;
    expect(await s.isRevoked({ jti, sub, issuedAt: new Date(Date.now() - 1000) })).toBe(true);
    expect(await s.isRevoked({ jti, sub, issuedAt: new Date(Date.now() + 1000) })).toBe(false);
    expect(counted.calls).toEqual(["mget", "mget"]);
  });

  it("a revoked jti lives until the token's exp; a cutoff until the last token it covers expires", async () => {
    const { root } = namespace();
    const s = new RedisJwtRevocationStore({ redis, prefix: root });
    await s.revokeToken({ jti: id(), expiresAt: new Date(Date.now() + 90_000) });
    await s.revokeUserTokens({
      sub: id(),
      cutoff: new Date(),
      expiresAt: new Date(Date.now() + HOUR),
    });
    const keys = await keysUnder(redis, root);
    const jtiKeys = keys.filter((k) => k.includes(":jti:"));
    const subKeys = keys.filter((k) => k.includes(":sub:"));
    expect(jtiKeys).toHaveLength(1);
    expect(subKeys).toHaveLength(16); // one per shard
    const ttl = await redis.pttl(jtiKeys[0] ?? "");
    expect(ttl).toBeGreaterThan(80_000);
    expect(ttl).toBeLessThanOrEqual(90_000);
    for (const k of subKeys) {
      const left = await redis.pttl(k);
      expect(left).toBeGreaterThan(HOUR - 10_000);
      expect(left).toBeLessThanOrEqual(HOUR);
    }
    if (redis instanceof Cluster) {
      // The cutoff copies spread over the masters, so reads do too.
      const nodes = await Promise.all(subKeys.map((k) => nodeOf(redis, k)));
      expect(new Set(nodes).size).toBe(redis.nodes("master").length);
    }
  });

  it("a jti and its user's cutoff always share a Cluster slot", async () => {
    const { root } = namespace();
    const s = new RedisJwtRevocationStore({ redis, prefix: root });
    const sub = id();
    await s.revokeUserTokens({ sub, cutoff: new Date(), expiresAt: new Date(Date.now() + HOUR) });
    for (let i = 0; i < 20; i++) {
      const jti = id();
      await s.revokeToken({ jti, expiresAt: new Date(Date.now() + HOUR) });
      const [jtiKey] = (await keysUnder(redis, `${root}`)).filter((k) => k.endsWith(`:jti:${jti}`));
      const tag = jtiKey?.slice(root.length, jtiKey.indexOf("}") + 1);
      expect(await redis.exists(`${root}${tag}:sub:${sub}`)).toBe(1);
    }
  });

  it("does not store what has already expired", async () => {
    const { root } = namespace();
    const s = new RedisJwtRevocationStore({ redis, prefix: root });
    await s.revokeToken({ jti: id(), expiresAt: new Date(Date.now() - 1) });
    await s.revokeUserTokens({ sub: id(), cutoff: new Date(), expiresAt: new Date(Date.now()) });
    expect(await keysUnder(redis, root)).toEqual([]);
  });

  it("ASVS 5.0 7.4.1/7.4.2: JWTStrategy logout and log out everywhere through the Redis store", async () => {
    const f = fixture(redis);
    const strategy = new JWTStrategy<typeof user, string>({
      secret: "jwt-secret-0123456789-abcdefghijklmnopqrstuv",
      revocationStore: new RedisJwtRevocationStore({ redis, prefix: f.keys.root }),
    });
    const user = await f.user();
    const [laptop, phone] = [await strategy.writeToken(user), await strategy.writeToken(user)];
    await strategy.destroyToken(laptop, user);
    expect(await strategy.readToken(laptop, f.manager)).toBeNull();
    expect((await strategy.readToken(phone, f.manager))?.id).toBe(user.id);
    await strategy.destroyAllTokens(user);
    expect(await strategy.readToken(phone, f.manager)).toBeNull();
    await new Promise((r) => setTimeout(r, 2));
    const after = await strategy.writeToken(user);
    expect((await strategy.readToken(after, f.manager))?.id).toBe(user.id);
  });
});

describe("RedisJwtRevocationStore configuration", () => {
  it("refuses a prefix with braces (it would replace the store's own hash tag)", () => {
    const redis = { evalsha: () => {} } as unknown as RedisClient;
    expect(() => new RedisJwtRevocationStore({ redis, prefix: "{app}:jwt:" })).toThrow(
      ConfigurationError,
    );
    expect(() => new RedisJwtRevocationStore({ redis: {} as RedisClient })).toThrow(
      ConfigurationError,
    );
  });
});
