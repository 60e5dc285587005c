// RedisStrategy.readSession and writeSession (issue 14): the Session comes with the user in
// readToken's one round trip, and sessions written by the previous release keep working.
import { hashToken } from "@tessera/core";
import { sessionIdFromDigest } from "@tessera/core/internal";
import { isUserSnapshot, type RedisClient } from "@tessera/strategy-redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectTo,
  countCalls,
  fixture,
  handleKeyOf,
  MINUTE,
  TOPOLOGIES,
  watchWrites,
} from "./support.js";

/** A client whose HMGET calls are recorded with their field names. */
function recordHmget(redis: RedisClient): { client: RedisClient; fields: string[][] } {
  const fields: string[][] = [];
  const client = new Proxy(redis, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop !== "hmget" || typeof value !== "function") return value;
      return (key: string, ...names: string[]) => {
        fields.push(names);
        return value.call(target, key, ...names);
      };
    },
  });
  return { client, fields };
}

describe.each(TOPOLOGIES)("RedisStrategy readSession (%s)", (topology) => {
  let redis: RedisClient;
  beforeAll(async () => {
    redis = await connectTo(topology);
  });
  afterAll(() => redis.disconnect());

  it("writeSession stores device, data and claims; readSession returns the user and the Session", async () => {
    const f = fixture(redis);
    const strategy = f.strategy({ lifetimeSeconds: 3600, maxLifetimeSeconds: 7200 });
    const user = await f.user();
    const now = f.clock.now();
    const token = await strategy.writeSession(user, {
      device: { ipAddress: "198.51.100.4", userAgent: "Firefox" },
      data: { theme: "dark" },
      claims: { plan: "pro" },
    });
    const read = await strategy.readSession(token, f.manager);
    expect(read?.user.id).toBe(user.id);
    expect(read?.session).toEqual({
      handle: sessionIdFromDigest(hashToken(token)),
      userId: user.id,
      createdAt: new Date(now),
      expiresAt: new Date(now + 60 * MINUTE),
      absoluteExpiresAt: new Date(now + 120 * MINUTE),
      lastUsedAt: null,
      device: { ipAddress: "198.51.100.4", userAgent: "Firefox" },
      claims: { plan: "pro" },
    });
    expect(await strategy.sessions.getSessionData(read?.session.handle ?? "")).toEqual({
      theme: "dark",
    });
    // writeToken is writeSession without options.
    const plain = await strategy.readSession(await strategy.writeToken(user), f.manager);
    expect(plain?.session.device).toEqual({ ipAddress: null, userAgent: null });
    expect(plain?.session.claims).toEqual({});
  });

  it("readSession is one round trip (one HMGET), the user from the snapshot or one lookup", async () => {
    const f = fixture(redis);
    const counted = countCalls(redis);
    const gets = countCalls(f.userDb);
    const manager = Object.assign(Object.create(f.manager), { userDb: gets.client });
    for (const snapshot of [false, true]) {
      const strategy = f.strategy({ redis: counted.client, snapshot });
      const token = await strategy.writeSession(await f.user(), { claims: { a: 1 } });
      counted.calls.length = 0;
      gets.calls.length = 0;
      const read = await strategy.readSession(token, manager);
      expect(read?.session.claims).toEqual({ a: 1 });
      expect(isUserSnapshot(read?.user ?? {})).toBe(snapshot);
      expect(counted.calls).toEqual(["hmget"]);
      expect(gets.calls).toEqual(snapshot ? [] : ["get"]);
    }
  });

  it("readToken's HMGET is today's four fields; readSession's adds the Session's, never the data", async () => {
    const f = fixture(redis);
    const recorded = recordHmget(redis);
    const strategy = f.strategy({ redis: recorded.client });
    const token = await strategy.writeSession(await f.user(), { data: { big: "x".repeat(1000) } });
    await strategy.readToken(token, f.manager);
    await strategy.readSession(token, f.manager);
    expect(recorded.fields).toEqual([
      ["u", "c", "l", "s"],
      ["u", "c", "l", "s", "h", "a", "ip", "ua", "k"],
    ]);
  });

  it("a request's data calls after its readSession are one round trip each; elsewhere, one more", async () => {
    const f = fixture(redis);
    const counted = countCalls(redis);
    const strategy = f.strategy({ redis: counted.client });
    const token = await strategy.writeSession(await f.user(), { data: { a: 1 } });
    const trips = async (call: () => Promise<unknown>) => {
      counted.calls.length = 0;
      await call();
      return counted.calls.filter((c) => c !== "eval"); // EVAL only where a node lacks the script
    };
    let handle = "";
    expect(
      await trips(async () => {
        handle = (await strategy.readSession(token, f.manager))?.session.handle ?? "";
      }),
    ).toEqual(["hmget"]);
    const store = strategy.sessions;
    expect(await trips(() => store.getSessionData(handle))).toEqual(["hmget"]);
    expect(await trips(() => store.setSessionData(handle, { b: 2 }))).toEqual(["evalsha"]);
    expect(await trips(() => store.setSessionClaims(handle, { c: 3 }))).toEqual(["evalsha"]);
    // One script merges and writes (issue 14): no read before it.
    expect(await trips(() => store.mergeSessionData(handle, { d: 4 }))).toEqual(["evalsha"]);
    // Another instance of the app has not seen the handle: it reads the pointer, once.
    const other = f.strategy({ redis: counted.client }).sessions;
    expect(await trips(() => other.getSessionData(handle))).toEqual(["get", "hmget"]);
    expect(await trips(() => other.getSessionData(handle))).toEqual(["hmget"]);
    expect(await other.getSessionData(handle)).toEqual({ b: 2, d: 4 });
  });

  it("null for unknown, malformed, expired and revoked sessions, and for a malformed user id", async () => {
    const f = fixture(redis);
    const strategy = f.strategy({ lifetimeSeconds: 600 });
    const user = await f.user();
    for (const bad of [null, "", "A".repeat(43), "not a token"]) {
      expect(await strategy.readSession(bad, f.manager)).toBeNull();
    }
    const [logout, revoked, expiring] = [
      await strategy.writeToken(user),
      await strategy.writeToken(user),
      await strategy.writeToken(user),
    ];
    await strategy.destroyToken(logout, user);
    expect(await strategy.readSession(logout, f.manager)).toBeNull();
    const handle = (await strategy.readSession(revoked, f.manager))?.session.handle ?? "";
    expect(await strategy.sessions.invalidateSession(user.id, handle)).toBe(true);
    expect(await strategy.readSession(revoked, f.manager)).toBeNull();
    f.clock.advance(10 * MINUTE);
    expect(await strategy.readSession(expiring, f.manager)).toBeNull();

    const other = await strategy.writeToken(user);
    await redis.hset(`${f.keys.prefix}${hashToken(other)}`, "u", "not-a-uuid");
    expect(await strategy.readSession(other, f.manager)).toBeNull();
  });

  it("a password change ends the sessions: the next readSession refuses them", async () => {
    const f = fixture(redis);
    const strategy = f.strategy({ snapshot: true });
    const user = await f.user();
    const [kept, ended] = [await strategy.writeToken(user), await strategy.writeToken(user)];
    await strategy.onUserChanged(user, {
      kind: "password",
      fields: ["hashedPassword"],
      revokeSessions: true,
      exceptToken: kept,
    });
    expect(await strategy.readSession(ended, f.manager)).toBeNull();
    expect((await strategy.readSession(kept, f.manager))?.user.id).toBe(user.id);
  });

  it("a session written by the previous release (u, c, l, s only) still validates, lists and ends", async () => {
    const f = fixture(redis);
    const strategy = f.strategy({ snapshot: true, lifetimeSeconds: 3600 });
    const user = await f.user();
    // Exactly what the previous release wrote: the hash, its TTL and the index entry.
    const token = "T".repeat(43);
    const digest = hashToken(token);
    const key = `${f.keys.prefix}${digest}`;
    const created = f.clock.now();
    const snapshot = JSON.stringify({
      email: user.email,
      isActive: true,
      isSuperuser: false,
      isVerified: false,
    });
    await redis.hset(key, { u: user.id, c: String(created), l: "3600", s: snapshot });
    await redis.pexpire(key, 3_600_000);
    await redis.zadd(`${f.keys.userIndexPrefix}${user.id}`, created, digest);

    expect((await strategy.readToken(token, f.manager))?.email).toBe(user.email);
    const handle = sessionIdFromDigest(digest);
    const read = await strategy.readSession(token, f.manager);
    expect(read?.session).toMatchObject({
      handle,
      userId: user.id,
      lastUsedAt: null,
      device: { ipAddress: null, userAgent: null },
      claims: {},
    });
    // Its first readSession gave it a handle (the pointer and the `h` field), once.
    expect(await redis.get(handleKeyOf(f.keys.prefix, token))).toBe(digest);
    expect(await redis.hget(key, "h")).toBe(handle);
    const writes = await watchWrites(redis, key);
    try {
      await strategy.readSession(token, f.manager);
      await writes.settle();
      expect(writes.events).toEqual([]);
    } finally {
      await writes.stop();
    }
    expect(await strategy.sessions.getSessionData(handle)).toEqual({});
    expect(await strategy.sessions.mergeSessionData(handle, { a: 1 })).toEqual({ a: 1 });
    expect((await strategy.sessions.listUserSessions(user.id)).map((s) => s.handle)).toEqual([
      handle,
    ]);
    expect((await strategy.listSessions(user, token)).map((s) => [s.id, s.current])).toEqual([
      [handle, true],
    ]);
    // Renewal works on it and records its last use.
    f.clock.advance(31 * MINUTE);
    expect((await strategy.readSession(token, f.manager))?.session.lastUsedAt).toEqual(
      new Date(f.clock.now()),
    );
    expect(await strategy.destroySession(user, handle)).toBe(true);
    expect(await strategy.readToken(token, f.manager)).toBeNull();
  });

  it("an old session ended before any readSession is still ended by handle (through the index)", async () => {
    const f = fixture(redis);
    const strategy = f.strategy();
    const user = await f.user();
    const token = "U".repeat(43);
    const digest = hashToken(token);
    await redis.hset(`${f.keys.prefix}${digest}`, {
      u: user.id,
      c: String(f.clock.now()),
      l: "3600",
    });
    await redis.zadd(`${f.keys.userIndexPrefix}${user.id}`, f.clock.now(), digest);
    expect(await strategy.sessions.getSessionData(sessionIdFromDigest(digest))).toBeNull();
    expect(await strategy.sessions.invalidateSession(user.id, sessionIdFromDigest(digest))).toBe(
      true,
    );
    expect(await strategy.readToken(token, f.manager)).toBeNull();
  });
});
