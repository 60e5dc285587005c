// RedisStrategy session list, ending one session by its public id, and the index bounds.
import { hashToken } from "@tessera/core";
import type { RedisClient } from "@tessera/strategy-redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectTo, fixture, MINUTE, TOPOLOGIES } from "./support.js";

describe.each(TOPOLOGIES)("RedisStrategy sessions (%s)", (topology) => {
  let redis: RedisClient;
  beforeAll(async () => {
    redis = await connectTo(topology);
  });
  afterAll(() => redis.disconnect());

  it("listSessions shows live sessions, oldest first, the current one marked, no token or digest", async () => {
    const f = fixture(redis);
    const strategy = f.strategy({ lifetimeSeconds: 3600 });
    const user = await f.user();
    const created: number[] = [];
    const tokens: string[] = [];
    for (let i = 0; i < 3; i++) {
      created.push(f.clock.now());
      tokens.push(await strategy.writeToken(user));
      f.clock.advance(MINUTE);
    }
    await strategy.writeToken(await f.user()); // someone else's
    const sessions = await strategy.listSessions(user, tokens[1] ?? null);
    expect(sessions.map((s) => s.createdAt.getTime())).toEqual(created);
    expect(sessions.map((s) => s.expiresAt.getTime())).toEqual(created.map((c) => c + 60 * MINUTE));
    expect(sessions.map((s) => s.current)).toEqual([false, true, false]);
    const secrets = tokens.flatMap((t) => [t, hashToken(t), `${f.keys.prefix}${hashToken(t)}`]);
    for (const s of sessions) {
      expect(secrets).not.toContain(s.id);
      for (const secret of secrets) expect(secret).not.toContain(s.id);
    }
    expect(new Set(sessions.map((s) => s.id)).size).toBe(3);
    expect(await strategy.listSessions(user, null)).toEqual(
      sessions.map((s) => ({ ...s, current: false })),
    );
  });

  it("listSessions leaves out expired and destroyed sessions", async () => {
    const f = fixture(redis);
    const strategy = f.strategy({ lifetimeSeconds: 600 });
    const user = await f.user();
    const old = await strategy.writeToken(user);
    f.clock.advance(6 * MINUTE);
    const [gone, live] = [await strategy.writeToken(user), await strategy.writeToken(user)];
    await strategy.destroyToken(gone, user);
    f.clock.advance(5 * MINUTE); // `old` is 11 minutes old: expired
    const sessions = await strategy.listSessions(user, live);
    expect(sessions).toHaveLength(1);
    expect(sessions[0]?.current).toBe(true);
    expect(await strategy.readToken(old, f.manager)).toBeNull();
  });

  it("destroySession ends exactly the session with that id, only for its owner", async () => {
    const f = fixture(redis);
    const strategy = f.strategy();
    const [user, other] = [await f.user(), await f.user()];
    const [phone, laptop] = [await strategy.writeToken(user), await strategy.writeToken(user)];
    const phoneId = (await strategy.listSessions(user, phone)).find((s) => s.current)?.id ?? "";

    expect(await strategy.destroySession(other, phoneId)).toBe(false);
    expect(await strategy.readToken(phone, f.manager)).not.toBeNull();

    expect(await strategy.destroySession(user, phoneId)).toBe(true);
    expect(await strategy.readToken(phone, f.manager)).toBeNull();
    expect(await strategy.readToken(laptop, f.manager)).not.toBeNull();
    expect(await strategy.destroySession(user, phoneId)).toBe(false);
    expect(await strategy.destroySession(user, "no-such-session")).toBe(false);
    expect((await strategy.listSessions(user, laptop)).map((s) => s.current)).toEqual([true]);
  });

  it("the index expires with the longest possible session", async () => {
    const f = fixture(redis);
    const strategy = f.strategy({ lifetimeSeconds: 600, maxLifetimeSeconds: 7200 });
    const user = await f.user();
    await strategy.writeToken(user);
    const ttl = await redis.pttl(`${f.keys.userIndexPrefix}${user.id}`);
    expect(ttl).toBeGreaterThan(7_000_000);
    expect(ttl).toBeLessThanOrEqual(7_200_000);
  });

  it("the index does not grow with logins whose sessions ended (idle expiry, past the cap)", async () => {
    const f = fixture(redis);
    const strategy = f.strategy({ lifetimeSeconds: 60, maxLifetimeSeconds: 30 * 24 * 3600 });
    const user = await f.user();
    const index = `${f.keys.userIndexPrefix}${user.id}`;
    let previous: string | undefined;
    let peak = 0;
    // 300 logins, each session abandoned and found expired by the next request.
    for (let i = 0; i < 300; i++) {
      const token = await strategy.writeToken(user);
      f.clock.advance(2 * MINUTE);
      if (previous) expect(await strategy.readToken(previous, f.manager)).toBeNull();
      previous = token;
      peak = Math.max(peak, await redis.zcard(index));
    }
    expect(peak).toBeLessThanOrEqual(64);
  });

  it("index entries past the absolute cap are dropped on the next login without any lookup", async () => {
    const f = fixture(redis);
    const strategy = f.strategy({ lifetimeSeconds: 60, maxLifetimeSeconds: 120 });
    const user = await f.user();
    for (let i = 0; i < 10; i++) await strategy.writeToken(user);
    f.clock.advance(2 * MINUTE + 1);
    const token = await strategy.writeToken(user);
    expect(await redis.zrange(`${f.keys.userIndexPrefix}${user.id}`, 0, "-1")).toEqual([
      hashToken(token),
    ]);
  });
});
