// RedisSessionStore, core's SessionStore over Redis (issue 14): every verb, on a single
// Redis and on the Cluster, with lifetimes, devices, last use and sessions on several nodes.
import { hashToken, SESSION_DEVICE_LIMITS } from "@tessera/core";
import { sessionIdFromDigest } from "@tessera/core/internal";
import { type RedisClient, RedisSessionStore } from "@tessera/strategy-redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectTo,
  fixture,
  handleKeyOf,
  keysUnder,
  MINUTE,
  nodeOf,
  TOPOLOGIES,
  watchWrites,
} from "./support.js";

describe.each(TOPOLOGIES)("RedisSessionStore (%s)", (topology) => {
  let redis: RedisClient;
  beforeAll(async () => {
    redis = await connectTo(topology);
  });
  afterAll(() => redis.disconnect());

  it("createSession returns a token once and the Session; validateSession reads it back", async () => {
    const f = fixture(redis);
    const store = f.store({ lifetimeSeconds: 3600, maxLifetimeSeconds: 7200 });
    const now = f.clock.now();
    const { token, session } = await store.createSession("user-1", {
      device: { ipAddress: "203.0.113.7", userAgent: "curl/8" },
      data: { theme: "dark" },
      claims: { role: "editor" },
    });
    expect(session).toEqual({
      handle: sessionIdFromDigest(hashToken(token)),
      userId: "user-1",
      createdAt: new Date(now),
      expiresAt: new Date(now + 60 * MINUTE),
      absoluteExpiresAt: new Date(now + 120 * MINUTE),
      lastUsedAt: null,
      device: { ipAddress: "203.0.113.7", userAgent: "curl/8" },
      claims: { role: "editor" },
    });
    expect(await store.validateSession(token)).toEqual(session);
    expect(await store.getSessionData(session.handle)).toEqual({ theme: "dark" });
    const stored = await redis.hgetall(`${f.keys.prefix}${hashToken(token)}`);
    expect(JSON.stringify(stored)).not.toContain(token);
    expect(stored).toMatchObject({ ip: "203.0.113.7", ua: "curl/8", h: session.handle });
  });

  it("defaults: no device, no data, no claims, nothing stored for them", async () => {
    const f = fixture(redis);
    const store = f.store();
    const { token, session } = await store.createSession("user-1");
    expect(session.device).toEqual({ ipAddress: null, userAgent: null });
    expect(session.claims).toEqual({});
    expect(await store.getSessionData(session.handle)).toEqual({});
    const fields = Object.keys(await redis.hgetall(`${f.keys.prefix}${hashToken(token)}`));
    expect(fields.sort()).toEqual(["c", "h", "l", "u"]);
  });

  it("a device is cut to its bounds, never refused", async () => {
    const f = fixture(redis);
    const store = f.store();
    const { token } = await store.createSession("user-1", {
      device: { ipAddress: "1".repeat(500), userAgent: "U".repeat(10_000) },
    });
    const device = (await store.validateSession(token))?.device;
    expect(device?.ipAddress).toHaveLength(SESSION_DEVICE_LIMITS.ipAddress);
    expect(device?.userAgent).toHaveLength(SESSION_DEVICE_LIMITS.userAgent);
  });

  it("parseUserId turns the stored id back into the app's id type", async () => {
    const f = fixture(redis);
    const store = new RedisSessionStore<number>({ redis, ...f.keys, parseUserId: Number });
    const { token, session } = await store.createSession(42);
    expect(session.userId).toBe(42);
    expect((await store.validateSession(token))?.userId).toBe(42);
    expect((await store.listUserSessions(42)).map((s) => s.userId)).toEqual([42]);
  });

  it("validateSession: unknown, malformed and expired tokens are null; an expired key is deleted", async () => {
    const f = fixture(redis);
    const store = f.store({ lifetimeSeconds: 600 });
    const { token } = await store.createSession("user-1");
    for (const bad of ["", "short", "A".repeat(43), hashToken(token), `${token}x`]) {
      expect(await store.validateSession(bad)).toBeNull();
    }
    f.clock.advance(10 * MINUTE);
    expect(await store.validateSession(token)).toBeNull();
    expect(await redis.exists(`${f.keys.prefix}${hashToken(token)}`)).toBe(0);
  });

  it("lastUsedAt is written only by the sliding renewal, in its one write", async () => {
    const f = fixture(redis);
    const store = f.store({ lifetimeSeconds: 3600 });
    const { token } = await store.createSession("user-1");
    const key = `${f.keys.prefix}${hashToken(token)}`;
    const writes = await watchWrites(redis, key);
    try {
      for (const minutes of [1, 9, 19]) {
        f.clock.advance(minutes * MINUTE); // 1, 10, 29 minutes in
        expect((await store.validateSession(token))?.lastUsedAt).toBeNull();
      }
      f.clock.advance(2 * MINUTE); // 31 minutes in: renewal due
      const renewedAt = f.clock.now();
      const renewed = await store.validateSession(token);
      expect(renewed?.lastUsedAt).toEqual(new Date(renewedAt));
      expect(renewed?.expiresAt.getTime()).toBeGreaterThanOrEqual(renewedAt + 59 * MINUTE);
      f.clock.advance(5 * MINUTE);
      expect((await store.validateSession(token))?.lastUsedAt).toEqual(new Date(renewedAt));
      await writes.settle();
      expect(writes.events).toEqual(["hset", "expire"]);
      expect(await redis.hget(key, "a")).toBe(String(renewedAt));
    } finally {
      await writes.stop();
    }
  });

  it("invalidateSession ends a session of its owner only; the next read refuses it", async () => {
    const f = fixture(redis);
    const store = f.store();
    const mine = await store.createSession("alice");
    const other = await store.createSession("alice");
    expect(await store.invalidateSession("mallory", mine.session.handle)).toBe(false);
    expect(await store.validateSession(mine.token)).not.toBeNull();

    expect(await store.invalidateSession("alice", mine.session.handle)).toBe(true);
    expect(await store.validateSession(mine.token)).toBeNull();
    expect(await store.getSessionData(mine.session.handle)).toBeNull();
    expect(await store.setSessionData(mine.session.handle, { a: 1 })).toBe(false);
    expect(await store.mergeSessionData(mine.session.handle, { a: 1 })).toBeNull();
    expect(await store.setSessionClaims(mine.session.handle, { a: 1 })).toBe(false);
    expect(await redis.exists(handleKeyOf(f.keys.prefix, mine.token))).toBe(0);
    expect(await store.invalidateSession("alice", mine.session.handle)).toBe(false);
    expect(await store.invalidateSession("alice", "no-such-handle")).toBe(false);
    expect(await store.validateSession(other.token)).not.toBeNull();
  });

  it("invalidateUserSessions ends every session of the user on every node but the one kept", async () => {
    const f = fixture(redis);
    const store = f.store();
    const created = await Promise.all(Array.from({ length: 12 }, () => store.createSession("u")));
    const bystander = await store.createSession("someone-else");
    const nodes = await Promise.all(
      created.map(({ token }) => nodeOf(redis, `${f.keys.prefix}${hashToken(token)}`)),
    );
    if (topology === "cluster") expect(new Set(nodes).size).toBeGreaterThanOrEqual(2);
    const [kept, ...ended] = created;
    await store.invalidateUserSessions("u", { exceptHandle: kept?.session.handle ?? "" });
    for (const { token } of ended) expect(await store.validateSession(token)).toBeNull();
    expect(await store.validateSession(kept?.token ?? "")).not.toBeNull();
    expect(await store.validateSession(bystander.token)).not.toBeNull();
    expect((await store.listUserSessions("u")).map((s) => s.handle)).toEqual([
      kept?.session.handle,
    ]);

    await store.invalidateUserSessions("u");
    expect(await store.validateSession(kept?.token ?? "")).toBeNull();
    expect(await store.listUserSessions("u")).toEqual([]);
    // What is left is the bystander's session and pointer, and the user's (young) index.
    const left = (await keysUnder(redis, f.keys.prefix)).sort();
    expect(left).toEqual(
      [
        `${f.keys.prefix}${hashToken(bystander.token)}`,
        handleKeyOf(f.keys.prefix, bystander.token),
      ].sort(),
    );
  });

  it("listUserSessions: live sessions of the user, oldest first, with device and last use", async () => {
    const f = fixture(redis);
    const store = f.store({ lifetimeSeconds: 600 });
    const old = await store.createSession("u");
    f.clock.advance(6 * MINUTE);
    const phone = await store.createSession("u", { device: { userAgent: "phone" } });
    f.clock.advance(1);
    const laptop = await store.createSession("u", { device: { ipAddress: "192.0.2.1" } });
    const gone = await store.createSession("u");
    await store.createSession("someone-else");
    await store.invalidateSession("u", gone.session.handle);
    f.clock.advance(6 * MINUTE); // `old` is 12 minutes old: expired
    expect(await store.validateSession(laptop.token)).not.toBeNull(); // 4 of 10 left: renewed
    const list = await store.listUserSessions("u");
    expect(list.map((s) => s.handle)).toEqual([phone.session.handle, laptop.session.handle]);
    expect(list[0]).toEqual(phone.session);
    expect(list[1]?.lastUsedAt).toEqual(new Date(f.clock.now()));
    expect(list[1]?.device).toEqual({ ipAddress: "192.0.2.1", userAgent: null });
    expect(list.map((s) => s.handle)).not.toContain(old.session.handle);
    expect(await store.listUserSessions("nobody")).toEqual([]);
  });

  it("deleteExpiredSessions is 0: Redis drops sessions by their TTLs", async () => {
    const f = fixture(redis);
    const store = f.store({ lifetimeSeconds: 60 });
    const { token } = await store.createSession("u");
    expect(await store.deleteExpiredSessions()).toBe(0);
    const ttl = await redis.pttl(`${f.keys.prefix}${hashToken(token)}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(await redis.pttl(handleKeyOf(f.keys.prefix, token))).toBeGreaterThan(0);
  });

  it("the strategy's sessions are the store's: written by the strategy, seen by the verbs", async () => {
    const f = fixture(redis);
    const strategy = f.strategy();
    const user = await f.user();
    const token = await strategy.writeSession(user, {
      data: { cart: [1, 2] },
      device: { userAgent: "Safari" },
    });
    const session = await strategy.sessions.validateSession(token);
    expect(session?.userId).toBe(user.id);
    expect(await strategy.sessions.getSessionData(session?.handle ?? "")).toEqual({ cart: [1, 2] });
    expect(await strategy.listSessions(user, token)).toEqual([
      {
        id: session?.handle,
        createdAt: session?.createdAt,
        expiresAt: session?.expiresAt,
        lastUsedAt: null,
        device: { ipAddress: null, userAgent: "Safari" },
        current: true,
      },
    ]);
    expect(await strategy.destroySession(user, session?.handle ?? "")).toBe(true);
    expect(await strategy.readToken(token, f.manager)).toBeNull();
  });
});
