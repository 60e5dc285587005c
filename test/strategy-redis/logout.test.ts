// RedisStrategy logout and log out everywhere, with session keys spread over Cluster nodes.
import { hashToken } from "@tessera/core";
import type { RedisClient } from "@tessera/strategy-redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectTo,
  fixture,
  handleKeyOf,
  keysUnder,
  MINUTE,
  nodeOf,
  TOPOLOGIES,
} from "./support.js";

describe.each(TOPOLOGIES)("RedisStrategy logout (%s)", (topology) => {
  let redis: RedisClient;
  beforeAll(async () => {
    redis = await connectTo(topology);
  });
  afterAll(() => redis.disconnect());

  it("ASVS 5.0 7.4.1: logout deletes the session key and its index entry", async () => {
    const f = fixture(redis);
    const strategy = f.strategy();
    const user = await f.user();
    const [token, other] = [await strategy.writeToken(user), await strategy.writeToken(user)];
    await strategy.destroyToken(token, user);
    expect(await strategy.readToken(token, f.manager)).toBeNull();
    expect(await redis.exists(`${f.keys.prefix}${hashToken(token)}`)).toBe(0);
    expect(await redis.exists(handleKeyOf(f.keys.prefix, token))).toBe(0);
    expect(await redis.zrange(`${f.keys.userIndexPrefix}${user.id}`, 0, "-1")).toEqual([
      hashToken(other),
    ]);
    expect((await strategy.readToken(other, f.manager))?.id).toBe(user.id);
  });

  it("logout with someone else's token leaves that token alone", async () => {
    const f = fixture(redis);
    const strategy = f.strategy();
    const [alice, mallory] = [await f.user(), await f.user()];
    const token = await strategy.writeSession(alice, { data: { a: 1 } });
    await strategy.destroyToken(token, mallory);
    const read = await strategy.readSession(token, f.manager);
    expect(read?.user.id).toBe(alice.id);
    // Its handle still finds its data: mallory's logout did not touch the handle's pointer.
    expect(await strategy.sessions.getSessionData(read?.session.handle ?? "")).toEqual({ a: 1 });
  });

  it("logout of an unknown or already destroyed token is a no-op", async () => {
    const f = fixture(redis);
    const strategy = f.strategy();
    const user = await f.user();
    const token = await strategy.writeToken(user);
    await strategy.destroyToken(token, user);
    await expect(strategy.destroyToken(token, user)).resolves.toBeUndefined();
    await expect(strategy.destroyToken("C".repeat(43), user)).resolves.toBeUndefined();
  });

  it("ASVS 5.0 7.4.2: log out everywhere from one device ends the sessions on every node", async () => {
    const f = fixture(redis);
    const strategy = f.strategy();
    const [user, bystander] = [await f.user(), await f.user()];
    const tokens = await Promise.all(Array.from({ length: 12 }, () => strategy.writeToken(user)));
    const kept = await strategy.writeToken(bystander);
    const nodes = await Promise.all(
      tokens.map((t) => nodeOf(redis, `${f.keys.prefix}${hashToken(t)}`)),
    );
    expect(nodes).not.toContain(-1);
    // On the Cluster this proves the per-key deletes: the sessions are on several masters.
    if (topology === "cluster") expect(new Set(nodes).size).toBeGreaterThanOrEqual(2);

    await strategy.destroyAllTokens(user);
    for (const t of tokens) expect(await strategy.readToken(t, f.manager)).toBeNull();
    const left = await keysUnder(redis, f.keys.prefix);
    expect(left).toEqual([`${f.keys.prefix}${hashToken(kept)}`, handleKeyOf(f.keys.prefix, kept)]);
    expect((await strategy.readToken(kept, f.manager))?.id).toBe(bystander.id);
    // A login after it works.
    const fresh = await strategy.writeToken(user);
    expect((await strategy.readToken(fresh, f.manager))?.id).toBe(user.id);
  });

  it("log out everywhere empties the index of every entry old enough not to be a login in flight", async () => {
    const f = fixture(redis);
    const strategy = f.strategy();
    const user = await f.user();
    for (let i = 0; i < 5; i++) await strategy.writeToken(user);
    f.clock.advance(2 * MINUTE);
    const recent = await strategy.writeToken(user);
    await strategy.destroyAllTokens(user);
    // The entry written just now stays (its key is gone; a later pass drops it).
    expect(await redis.zrange(`${f.keys.userIndexPrefix}${user.id}`, 0, "-1")).toEqual([
      hashToken(recent),
    ]);
    expect(await strategy.readToken(recent, f.manager)).toBeNull();
  });

  it("a user without sessions can log out everywhere", async () => {
    const f = fixture(redis);
    await expect(f.strategy().destroyAllTokens(await f.user())).resolves.toBeUndefined();
  });
});
