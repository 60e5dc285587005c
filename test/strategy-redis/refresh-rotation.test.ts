// RedisSessionStore as core's RefreshSessionStore (issue 15): rotation decided and written by
// one script on the session's key, on a single Redis and on the Cluster. A refresh token is
// `<key>.<secret>`; as the strategy does, these tests derive a child from its parent with an
// HMAC, so concurrent refreshes with one token all present the same child.
import { createHmac, randomBytes } from "node:crypto";
import { hashToken, type RefreshRotation } from "@tessera/core";
import { sessionIdFromDigest } from "@tessera/core/internal";
import type { RedisClient, RedisSessionStore } from "@tessera/strategy-redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectTo,
  countCalls,
  type Fixture,
  fixture,
  MINUTE,
  monitorCommands,
  TOPOLOGIES,
  watchWrites,
} from "./support.js";

const SERVER_SECRET = "refresh-derivation-secret-for-tests";

/** The secret of the child of a refresh token's secret (deterministic, as the strategy's). */
function childSecret(secret: string): string {
  return createHmac("sha256", SERVER_SECRET).update(secret).digest("base64url");
}

/** A chain of refresh-token secrets from a random first one: chain[i + 1] is chain[i]'s child. */
function chain(length: number): string[] {
  const secrets = [randomBytes(32).toString("base64url")];
  while (secrets.length < length) secrets.push(childSecret(secrets.at(-1) ?? ""));
  return secrets;
}

const digest = (secret: string) => hashToken(secret);

/** Presents chain[i] (its child is chain[i + 1]) to `store`. */
function present(
  store: RedisSessionStore<string>,
  key: string,
  secrets: readonly string[],
  i: number,
): Promise<RefreshRotation<string>> {
  return store.rotateRefreshToken(
    key,
    digest(secrets[i] ?? ""),
    digest(secrets[i + 1] ?? childSecret(secrets[i] ?? "")),
  );
}

describe.each(TOPOLOGIES)("RedisSessionStore refresh-token rotation (%s)", (topology) => {
  let redis: RedisClient;
  let others: RedisClient[];
  beforeAll(async () => {
    redis = await connectTo(topology);
    others = await Promise.all([1, 2, 3].map(() => connectTo(topology)));
  });
  afterAll(() => {
    redis.disconnect();
    for (const client of others) client.disconnect();
  });

  async function refreshSession(f: Fixture, store = f.store(), userId = "user-1") {
    const secrets = chain(6);
    const { key, session } = await store.createRefreshSession(userId, digest(secrets[0] ?? ""), {
      device: { ipAddress: "203.0.113.9", userAgent: "app/1" },
      claims: { role: "reader" },
    });
    return { key, session, secrets, sessionKey: `${f.keys.prefix}${key}` };
  }

  async function assertGone(f: Fixture, store: RedisSessionStore<string>, key: string) {
    const handle = sessionIdFromDigest(key);
    expect(await redis.exists(`${f.keys.prefix}${key}`)).toBe(0);
    expect(await redis.exists(`${f.keys.prefix}handle:${handle}`)).toBe(0);
    expect(await redis.zscore(`${f.keys.userIndexPrefix}user-1`, key)).toBeNull();
    expect(await store.listUserSessions("user-1")).toEqual([]);
    expect(await store.getSession(handle)).toBeNull();
    // Another process, which has not seen the handle, finds nothing either.
    expect(await f.store().getSession(handle)).toBeNull();
  }

  it("createRefreshSession stores the digest only, under a key that is no token's and no handle", async () => {
    const f = fixture(redis);
    const store = f.store({ lifetimeSeconds: 3600, maxLifetimeSeconds: 7200 });
    const now = f.clock.now();
    const { key, session, secrets, sessionKey } = await refreshSession(f, store);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(session).toEqual({
      handle: sessionIdFromDigest(key),
      userId: "user-1",
      createdAt: new Date(now),
      expiresAt: new Date(now + 60 * MINUTE),
      absoluteExpiresAt: new Date(now + 120 * MINUTE),
      lastUsedAt: null,
      device: { ipAddress: "203.0.113.9", userAgent: "app/1" },
      claims: { role: "reader" },
    });
    const stored = await redis.hgetall(sessionKey);
    expect(stored).toMatchObject({ u: "user-1", h: session.handle, r: digest(secrets[0] ?? "") });
    expect(stored.rp).toBeUndefined();
    expect(JSON.stringify(stored)).not.toContain(secrets[0]);
    expect(await store.listUserSessions("user-1")).toEqual([session]);
    expect(await store.getSession(session.handle)).toEqual(session);
    await expect(store.createRefreshSession("user-1", "not a digest")).rejects.toThrow(TypeError);
  });

  it("create -> rotate -> parent again (nothing written) -> child used -> parent reused: session gone (ASVS 5.0 10.4.5)", async () => {
    const f = fixture(redis);
    const store = f.store();
    const { key, session, secrets, sessionKey } = await refreshSession(f, store);
    f.clock.advance(MINUTE);
    const rotated = await present(store, key, secrets, 0);
    expect(rotated).toEqual({
      outcome: "rotated",
      session: { ...session, lastUsedAt: new Date(f.clock.now()), expiresAt: expect.any(Date) },
    });
    expect(await redis.hmget(sessionKey, "r", "rp")).toEqual([
      digest(secrets[1] ?? ""),
      digest(secrets[0] ?? ""),
    ]);
    // The response was lost: the client presents the parent again and gets the same child.
    const watch = await watchWrites(redis, sessionKey);
    try {
      f.clock.advance(MINUTE);
      const again = { ...rotated, outcome: "parent" };
      expect(await present(store, key, secrets, 0)).toEqual(again);
      expect(await present(store, key, secrets, 0)).toEqual(again);
      await watch.settle();
      expect(watch.events).toEqual([]);
    } finally {
      await watch.stop();
    }
    // The child is used: the parent is spent.
    expect((await present(store, key, secrets, 1)).outcome).toBe("rotated");
    expect((await present(store, key, secrets, 1)).outcome).toBe("parent");
    const reused = await present(store, key, secrets, 0);
    expect(reused).toMatchObject({ outcome: "reused", session: { handle: session.handle } });
    await assertGone(f, store, key);
    // Nothing of the chain opens it again.
    for (let i = 0; i < 4; i++) {
      expect(await present(store, key, secrets, i)).toEqual({ outcome: "invalid" });
    }
  });

  it("a refresh token never issued, presented with a live session's key, is reuse: the session ends", async () => {
    const f = fixture(redis);
    const store = f.store();
    const { key } = await refreshSession(f, store);
    const forged = chain(2);
    expect((await present(store, key, forged, 0)).outcome).toBe("reused");
    await assertGone(f, store, key);
  });

  it("invalid: unknown keys, malformed digests, keys of other kinds, sessions that are no refresh sessions", async () => {
    const f = fixture(redis);
    const store = f.store();
    const { key, secrets } = await refreshSession(f, store);
    const p = digest(secrets[0] ?? "");
    const c = digest(secrets[1] ?? "");
    const opaque = await store.createSession("user-1");
    const opaqueDigest = hashToken(opaque.token);
    for (const [k, presented, child] of [
      [hashToken("unknown"), p, c],
      [key.toUpperCase(), p, c],
      [`handle:${sessionIdFromDigest(key)}`, p, c],
      [`${key}x`, p, c],
      ["", p, c],
      [key, p.slice(1), c],
      [key, p, "not a digest"],
      [key, 42 as unknown as string, c],
      // A session of createSession (an opaque token's) has no refresh digest: left alone.
      [opaqueDigest, p, c],
      [opaqueDigest, opaqueDigest, c],
    ] as const) {
      expect(await store.rotateRefreshToken(k, presented, child)).toEqual({ outcome: "invalid" });
    }
    expect(await store.validateSession(opaque.token)).not.toBeNull();
    // The refresh session is untouched by all of it.
    expect((await present(store, key, secrets, 0)).outcome).toBe("rotated");
  });

  it("idle expiry: an unused session is invalid and deleted; each rotation renews it (ASVS 5.0 7.3.1)", async () => {
    const f = fixture(redis);
    const store = f.store({ lifetimeSeconds: 600, maxLifetimeSeconds: 3600 });
    const { key, session, secrets, sessionKey } = await refreshSession(f, store);
    // Rotating every 9 minutes keeps it alive well past the first 10.
    for (let i = 0; i < 3; i++) {
      f.clock.advance(9 * MINUTE);
      const rotation = await present(store, key, secrets, i);
      expect(rotation.outcome).toBe("rotated");
      if (rotation.outcome === "invalid") return;
      expect(rotation.session.expiresAt.getTime()).toBe(f.clock.now() + 10 * MINUTE);
      expect(rotation.session.lastUsedAt).toEqual(new Date(f.clock.now()));
      // Redis' TTL follows the renewed lifetime.
      const pttl = await redis.pttl(sessionKey);
      expect(pttl).toBeGreaterThan(9 * MINUTE);
      expect(pttl).toBeLessThanOrEqual(10 * MINUTE);
    }
    expect(await store.getSession(session.handle)).not.toBeNull();
    f.clock.advance(10 * MINUTE);
    expect(await store.getSession(session.handle)).toBeNull();
    expect(await present(store, key, secrets, 3)).toEqual({ outcome: "invalid" });
    expect(await redis.exists(sessionKey)).toBe(0);
  });

  it("absolute expiry: rotations never extend past the cap, then invalid (ASVS 5.0 7.3.2, 10.4.8)", async () => {
    const f = fixture(redis);
    const store = f.store({ lifetimeSeconds: 600, maxLifetimeSeconds: 1500 });
    const { key, session, secrets, sessionKey } = await refreshSession(f, store);
    const cap = session.absoluteExpiresAt.getTime();
    for (let i = 0; i < 2; i++) {
      f.clock.advance(7 * MINUTE);
      const rotation = await present(store, key, secrets, i);
      expect(rotation.outcome).toBe("rotated");
      if (rotation.outcome === "invalid") return;
      expect(rotation.session.expiresAt.getTime()).toBeLessThanOrEqual(cap);
      expect(await redis.pttl(sessionKey)).toBeLessThanOrEqual(cap - f.clock.now());
    }
    f.clock.advance(7 * MINUTE); // 21 minutes in: inside the idle window, but 25 is the cap
    expect((await present(store, key, secrets, 2)).outcome).toBe("rotated");
    f.clock.advance(4 * MINUTE);
    expect(await present(store, key, secrets, 3)).toEqual({ outcome: "invalid" });
    expect(await redis.exists(sessionKey)).toBe(0);
  });

  it("getSession reads without renewal or any write; null once ended", async () => {
    const f = fixture(redis);
    const store = f.store({ lifetimeSeconds: 600 });
    const { key, session, sessionKey } = await refreshSession(f, store);
    const watch = await watchWrites(redis, sessionKey);
    try {
      f.clock.advance(9 * MINUTE); // due for renewal by validateSession's rule, not renewed here
      expect(await store.getSession(session.handle)).toEqual(session);
      expect(await f.store().getSession(session.handle)).toEqual(session);
      await watch.settle();
      expect(watch.events).toEqual([]);
    } finally {
      await watch.stop();
    }
    expect(await store.getSession("")).toBeNull();
    expect(await store.getSession(key)).toBeNull();
    expect(await store.getSession("x".repeat(32))).toBeNull();
    expect(await store.invalidateSession("user-1", session.handle)).toBe(true);
    expect(await store.getSession(session.handle)).toBeNull();
  });

  it("logout everywhere and invalidateSession end refresh sessions: their tokens are invalid", async () => {
    const f = fixture(redis);
    const store = f.store();
    const a = await refreshSession(f, store);
    const b = await refreshSession(f, store);
    expect(await store.invalidateSession("user-1", a.session.handle)).toBe(true);
    expect(await present(store, a.key, a.secrets, 0)).toEqual({ outcome: "invalid" });
    await store.invalidateUserSessions("user-1");
    expect(await present(store, b.key, b.secrets, 0)).toEqual({ outcome: "invalid" });
  });

  it("a rotation is one round trip (one script); a reuse adds the index and pointer clean-up", async () => {
    const f = fixture(redis);
    const counted = countCalls(redis);
    const store = f.store({ redis: counted.client });
    // A first rotation loads the script on its node (EVALSHA, then EVAL once).
    const first = await refreshSession(f, store);
    await present(store, first.key, first.secrets, 0);
    const { key, secrets } = await refreshSession(f, store);
    counted.calls.length = 0;
    expect((await present(store, key, secrets, 0)).outcome).toBe("rotated");
    expect((await present(store, key, secrets, 0)).outcome).toBe("parent");
    expect(counted.calls.filter((c) => c !== "eval")).toEqual(["evalsha", "evalsha"]);
    counted.calls.length = 0;
    expect((await present(store, key, secrets, 3)).outcome).toBe("reused");
    expect(counted.calls.filter((c) => c !== "eval").sort()).toEqual(["del", "evalsha", "zrem"]);
  });

  it("a rotation is one command as the server sees it (MONITOR), on every node", async () => {
    const f = fixture(redis);
    const store = f.store();
    const first = await refreshSession(f, store);
    await present(store, first.key, first.secrets, 0); // EVAL once where a node lacks it
    const { key, secrets } = await refreshSession(f, store);
    const monitor = await monitorCommands(redis, f.keys.root);
    try {
      await monitor.settle();
      monitor.commands.length = 0;
      expect((await present(store, key, secrets, 0)).outcome).toBe("rotated");
      expect((await present(store, key, secrets, 0)).outcome).toBe("parent");
      await monitor.settle();
      expect(monitor.commands.map(([name]) => name)).toEqual(["evalsha", "evalsha"]);
    } finally {
      monitor.stop();
    }
  });

  it("20 concurrent refreshes with the current token over 4 connections: one rotated, the rest parent, one chain (ASVS 5.0 10.4.5)", async () => {
    const f = fixture(redis);
    // Four connections, four processes' worth of stores (each with its own memo).
    const stores = [f.store(), ...others.map((client) => f.store({ redis: client }))];
    for (let round = 0; round < 5; round++) {
      const { key, secrets, sessionKey } = await refreshSession(f);
      // Half of the rounds refresh a session that has rotated once already.
      const from = round % 2;
      if (from === 1) expect((await present(f.store(), key, secrets, 0)).outcome).toBe("rotated");
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          present(stores[i % stores.length] as RedisSessionStore<string>, key, secrets, from),
        ),
      );
      const count = (o: string) => outcomes.filter((r) => r.outcome === o).length;
      expect({ rotated: count("rotated"), parent: count("parent") }).toEqual({
        rotated: 1,
        parent: 19,
      });
      // Exactly one live chain: the one child everybody got.
      expect(await redis.hmget(sessionKey, "r", "rp")).toEqual([
        digest(secrets[from + 1] ?? ""),
        digest(secrets[from] ?? ""),
      ]);
      expect(await f.store().listUserSessions("user-1")).toHaveLength(1);
      expect((await present(f.store(), key, secrets, from + 1)).outcome).toBe("rotated");
      await f.store().invalidateUserSessions("user-1");
    }
  });

  it("concurrent refreshes mixing the child and a spent parent: the parent is reuse, once, and the session ends", async () => {
    const f = fixture(redis);
    const stores = [f.store(), ...others.map((client) => f.store({ redis: client }))];
    for (let round = 0; round < 3; round++) {
      const { key, secrets } = await refreshSession(f);
      expect((await present(f.store(), key, secrets, 0)).outcome).toBe("rotated");
      expect((await present(f.store(), key, secrets, 1)).outcome).toBe("rotated"); // child used
      // 10 presentations of the child (secrets[1]: now a parent of an unused child) and 10
      // of the spent parent (secrets[0]), interleaved over the connections.
      const which = Array.from({ length: 20 }, (_, i) => i % 2);
      const outcomes = await Promise.all(
        which.map((i, n) =>
          present(stores[n % stores.length] as RedisSessionStore<string>, key, secrets, i),
        ),
      );
      const spent = outcomes.filter((_, n) => which[n] === 0).map((r) => r.outcome);
      const child = outcomes.filter((_, n) => which[n] === 1).map((r) => r.outcome);
      // The first spent parent to arrive ends the session; the others then find nothing.
      expect(spent.filter((o) => o === "reused")).toHaveLength(1);
      expect(spent.every((o) => o === "reused" || o === "invalid")).toBe(true);
      // The child's presentations before that are "parent" (nothing written), after it invalid.
      expect(child.every((o) => o === "parent" || o === "invalid")).toBe(true);
      await assertGone(f, f.store(), key);
    }
  });
});
