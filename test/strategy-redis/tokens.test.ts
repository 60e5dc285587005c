// RedisStrategy: issuing and reading tokens, what is stored, and what never authenticates.
import { hashToken } from "@tessera/core";
import { isOpaqueTokenShape } from "@tessera/core/internal";
import type { RedisClient } from "@tessera/strategy-redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectTo,
  countCalls,
  fixture,
  handleKeyOf,
  keysUnder,
  MINUTE,
  TOPOLOGIES,
} from "./support.js";

describe.each(TOPOLOGIES)("RedisStrategy tokens (%s)", (topology) => {
  let redis: RedisClient;
  beforeAll(async () => {
    redis = await connectTo(topology);
  });
  afterAll(() => redis.disconnect());

  it("a written token reads back as its user; unknown, null and malformed tokens read as null", async () => {
    const f = fixture(redis);
    const strategy = f.strategy();
    const user = await f.user();
    const token = await strategy.writeToken(user);
    expect((await strategy.readToken(token, f.manager))?.id).toBe(user.id);
    const unknown = "A".repeat(43);
    expect(await strategy.readToken(unknown, f.manager)).toBeNull();
    expect(await strategy.readToken(null, f.manager)).toBeNull();
    expect(await strategy.readToken(`${token}x`, f.manager)).toBeNull();
  });

  it("ASVS 5.0 7.2.3: tokens are 256-bit CSPRNG output, base64url, unique", async () => {
    const f = fixture(redis);
    const strategy = f.strategy();
    const user = await f.user();
    const tokens = await Promise.all(Array.from({ length: 20 }, () => strategy.writeToken(user)));
    expect(new Set(tokens).size).toBe(20);
    for (const t of tokens) {
      expect(isOpaqueTokenShape(t)).toBe(true);
      expect(Buffer.from(t, "base64url")).toHaveLength(32);
    }
  });

  it("only the digest (and the handle, a hash of it) is ever a key; no key or value holds the token", async () => {
    const f = fixture(redis);
    const strategy = f.strategy({ snapshot: true });
    const user = await f.user();
    const token = await strategy.writeToken(user);
    const keys = await keysUnder(redis, f.keys.root);
    expect(keys).toEqual(
      [
        `${f.keys.prefix}${hashToken(token)}`,
        handleKeyOf(f.keys.prefix, token),
        `${f.keys.userIndexPrefix}${user.id}`,
      ].sort(),
    );
    const session = await redis.hgetall(`${f.keys.prefix}${hashToken(token)}`);
    const index = await redis.zrange(`${f.keys.userIndexPrefix}${user.id}`, 0, "-1");
    const pointer = await redis.get(handleKeyOf(f.keys.prefix, token));
    expect(pointer).toBe(hashToken(token));
    const stored = JSON.stringify([keys, session, index, pointer]);
    expect(stored).not.toContain(token);
    expect(Object.keys(session).sort()).toEqual(["c", "h", "l", "s", "u"]);
    expect(session.u).toBe(user.id);
    expect(index).toEqual([hashToken(token)]);
  });

  it("a stored digest or key name presented as a token reads as null", async () => {
    const f = fixture(redis);
    const strategy = f.strategy();
    const user = await f.user();
    const token = await strategy.writeToken(user);
    const digest = hashToken(token);
    for (const presented of [
      digest,
      `${f.keys.prefix}${digest}`,
      `${f.keys.userIndexPrefix}${user.id}`,
    ]) {
      expect(await strategy.readToken(presented, f.manager)).toBeNull();
    }
  });

  it("a token-shaped name of some other key never authenticates: the key read is prefix + digest", async () => {
    const f = fixture(redis);
    const strategy = f.strategy();
    const user = await f.user();
    // Another key that looks exactly like a session, named by a token-shaped string, with
    // and without the prefix: presenting its name must not reach it.
    const name = "B".repeat(43);
    const fields = { u: user.id, c: String(f.clock.now()), l: "3600" };
    await redis.hset(name, fields);
    await redis.hset(`${f.keys.prefix}${name}`, fields);
    try {
      expect(await strategy.readToken(name, f.manager)).toBeNull();
    } finally {
      await redis.del(name);
      await redis.del(`${f.keys.prefix}${name}`);
    }
  });

  it("a string that is not token-shaped costs no round trip", async () => {
    const f = fixture(redis);
    const counted = countCalls(redis);
    const strategy = f.strategy({ redis: counted.client });
    for (const t of ["", "short", "x".repeat(10_000), "A".repeat(42), `${"A".repeat(42)}=`]) {
      expect(await strategy.readToken(t, f.manager)).toBeNull();
    }
    await strategy.destroyToken("not a token", await f.user());
    expect(counted.calls).toEqual([]);
  });

  it("a read is one Redis round trip (a plain HMGET) plus one user lookup, none with a snapshot", async () => {
    const f = fixture(redis);
    const counted = countCalls(redis);
    const gets = countCalls(f.userDb);
    const manager = Object.assign(Object.create(f.manager), { userDb: gets.client });
    for (const snapshot of [false, true]) {
      const strategy = f.strategy({ redis: counted.client, snapshot });
      const token = await strategy.writeToken(await f.user());
      counted.calls.length = 0;
      gets.calls.length = 0;
      expect(await strategy.readToken(token, manager)).not.toBeNull();
      expect(counted.calls).toEqual(["hmget"]);
      expect(gets.calls).toEqual(snapshot ? [] : ["get"]);
    }
  });

  it("only a read that is due for renewal, or finds the session expired, runs the script", async () => {
    const f = fixture(redis);
    const counted = countCalls(redis);
    const strategy = f.strategy({ redis: counted.client, lifetimeSeconds: 3600 });
    const token = await strategy.writeToken(await f.user());
    f.clock.advance(31 * MINUTE); // less than half the idle lifetime left: renewal due
    counted.calls.length = 0;
    expect(await strategy.readToken(token, f.manager)).not.toBeNull();
    expect(counted.calls.filter((c) => c !== "eval")).toEqual(["hmget", "evalsha"]);
    counted.calls.length = 0;
    expect(await strategy.readToken(token, f.manager)).not.toBeNull(); // renewed: fast again
    expect(counted.calls).toEqual(["hmget"]);
    f.clock.advance(2 * 3600 * 1000); // idle past its lifetime (Redis' own TTL has not run)
    counted.calls.length = 0;
    expect(await strategy.readToken(token, f.manager)).toBeNull();
    expect(counted.calls.filter((c) => c !== "eval")).toEqual(["hmget", "evalsha"]);
    expect(await redis.exists(`${f.keys.prefix}${hashToken(token)}`)).toBe(0);
  });

  it("a session whose user is gone, or whose stored id is malformed, reads as null", async () => {
    const f = fixture(redis);
    const strategy = f.strategy();
    const user = await f.user();
    const token = await strategy.writeToken(user);
    await f.userDb.delete(user);
    expect(await strategy.readToken(token, f.manager)).toBeNull();

    const other = await strategy.writeToken(await f.user());
    await redis.hset(`${f.keys.prefix}${hashToken(other)}`, "u", "not-a-uuid");
    expect(await strategy.readToken(other, f.manager)).toBeNull();
  });
});
