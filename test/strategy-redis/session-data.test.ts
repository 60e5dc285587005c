// Session data and claims in Redis (issue 14): set, merge (atomic), limits, `__proto__`
// inert, and a session's data never reachable through another user's session.
import {
  DEFAULT_SESSION_LIMITS,
  hashToken,
  InvalidSessionDataError,
  type JsonObject,
  SessionDataTooLargeError,
} from "@tessera/core";
import { sessionIdFromDigest } from "@tessera/core/internal";
import type { RedisClient } from "@tessera/strategy-redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectTo, fixture, handleKeyOf, keysUnder, MINUTE, TOPOLOGIES } from "./support.js";

describe.each(TOPOLOGIES)("RedisSessionStore data and claims (%s)", (topology) => {
  let redis: RedisClient;
  beforeAll(async () => {
    redis = await connectTo(topology);
  });
  afterAll(() => redis.disconnect());

  it("setSessionData overwrites, mergeSessionData merges top-level keys and null deletes", async () => {
    const f = fixture(redis);
    const store = f.store();
    const { session } = await store.createSession("u", { data: { a: 1, b: { c: [] } } });
    expect(await store.mergeSessionData(session.handle, { b: null, d: "x" })).toEqual({
      a: 1,
      d: "x",
    });
    expect(await store.getSessionData(session.handle)).toEqual({ a: 1, d: "x" });
    expect(await store.setSessionData(session.handle, { only: [1, 2.5, true, null, {}] })).toBe(
      true,
    );
    // JSON round trip exactly: empty arrays and objects, precise numbers (what a Lua merge
    // with cjson would not keep).
    expect(await store.mergeSessionData(session.handle, { n: 2 ** 53 - 1, e: [] })).toEqual({
      only: [1, 2.5, true, null, {}],
      n: 2 ** 53 - 1,
      e: [],
    });
  });

  it("a merge on a session without data starts from {}", async () => {
    const f = fixture(redis);
    const store = f.store();
    const { session } = await store.createSession("u");
    expect(await store.mergeSessionData(session.handle, { a: 1 })).toEqual({ a: 1 });
    expect(await store.getSessionData(session.handle)).toEqual({ a: 1 });
  });

  it("concurrent merges all land: the compare-and-set retries instead of losing a write", async () => {
    const f = fixture(redis);
    const store = f.store();
    const { session } = await store.createSession("u");
    const keys = Array.from({ length: 12 }, (_, i) => `k${i}`);
    await Promise.all(keys.map((k) => store.mergeSessionData(session.handle, { [k]: k })));
    expect(await store.getSessionData(session.handle)).toEqual(
      Object.fromEntries(keys.map((k) => [k, k])),
    );
  });

  it("setSessionClaims: read with the session on the next validation, no extra trip", async () => {
    const f = fixture(redis);
    const store = f.store();
    const { token, session } = await store.createSession("u", { claims: { a: 1 } });
    expect(await store.setSessionClaims(session.handle, { role: "admin" })).toBe(true);
    expect((await store.validateSession(token))?.claims).toEqual({ role: "admin" });
  });

  it("writes keep the session's TTL and never revive an expired session", async () => {
    const f = fixture(redis);
    const store = f.store({ lifetimeSeconds: 600 });
    const { token, session } = await store.createSession("u");
    const key = `${f.keys.prefix}${hashToken(token)}`;
    const ttl = await redis.pttl(key);
    await store.setSessionData(session.handle, { a: 1 });
    await store.mergeSessionData(session.handle, { b: 1 });
    await store.setSessionClaims(session.handle, { c: 1 });
    expect(await redis.pttl(key)).toBeLessThanOrEqual(ttl);
    f.clock.advance(10 * MINUTE); // expired by the app's clock, though Redis still has it
    expect(await store.getSessionData(session.handle)).toBeNull();
    expect(await store.setSessionData(session.handle, { a: 2 })).toBe(false);
    expect(await store.mergeSessionData(session.handle, { a: 2 })).toBeNull();
    expect(await store.setSessionClaims(session.handle, { a: 2 })).toBe(false);
    expect(await redis.hget(key, "d")).toBe('{"a":1,"b":1}');
  });

  it("data and claims over their limits are refused with SessionDataTooLargeError, nothing written", async () => {
    const f = fixture(redis);
    const store = f.store();
    const big = (bytes: number): JsonObject => ({ x: "y".repeat(bytes) });
    await expect(
      store.createSession("u", { data: big(DEFAULT_SESSION_LIMITS.maxDataBytes) }),
    ).rejects.toThrow(SessionDataTooLargeError);
    await expect(
      store.createSession("u", { claims: big(DEFAULT_SESSION_LIMITS.maxClaimsBytes) }),
    ).rejects.toThrow(SessionDataTooLargeError);
    expect(await keysUnder(redis, f.keys.root)).toEqual([]);

    const { session } = await store.createSession("u", { data: { keep: 1 } });
    const almost = DEFAULT_SESSION_LIMITS.maxDataBytes - 100;
    await expect(store.setSessionData(session.handle, big(almost + 200))).rejects.toThrow(
      SessionDataTooLargeError,
    );
    await expect(store.mergeSessionData(session.handle, big(almost))).resolves.not.toBeNull();
    // Each patch fits; the merged data would not.
    await expect(store.mergeSessionData(session.handle, { z: "z".repeat(200) })).rejects.toThrow(
      SessionDataTooLargeError,
    );
    await expect(
      store.setSessionClaims(session.handle, big(DEFAULT_SESSION_LIMITS.maxClaimsBytes)),
    ).rejects.toThrow(SessionDataTooLargeError);
    expect(Object.keys((await store.getSessionData(session.handle)) ?? {})).toEqual(["keep", "x"]);
  });

  it("limits are options; data that is not a JSON object is InvalidSessionDataError", async () => {
    const f = fixture(redis);
    const store = f.store({ limits: { maxDataBytes: 20, maxClaimsBytes: 10 } });
    await expect(store.createSession("u", { data: { a: "x".repeat(20) } })).rejects.toThrow(
      SessionDataTooLargeError,
    );
    await expect(store.createSession("u", { claims: { a: "xxxxxx" } })).rejects.toThrow(
      SessionDataTooLargeError,
    );
    const { session } = await store.createSession("u", { data: { a: 1 } });
    for (const bad of [[], "text", 1, null, { n: 10n }]) {
      await expect(store.setSessionData(session.handle, bad as never)).rejects.toThrow(
        InvalidSessionDataError,
      );
    }
    await expect(store.setSessionClaims(session.handle, [] as never)).rejects.toThrow(
      InvalidSessionDataError,
    );
  });

  it("`__proto__`, `constructor` and `prototype` keys are inert: dropped at every depth", async () => {
    const f = fixture(redis);
    const store = f.store();
    const hostile = JSON.parse(
      '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},"ok":{"__proto__":{"polluted":1},"v":1}}',
    ) as JsonObject;
    const { token, session } = await store.createSession("u", { data: hostile, claims: hostile });
    expect(await store.getSessionData(session.handle)).toEqual({ ok: { v: 1 } });
    expect((await store.validateSession(token))?.claims).toEqual({ ok: { v: 1 } });
    expect(await store.mergeSessionData(session.handle, hostile)).toEqual({ ok: { v: 1 } });
    // Even a field written by hand (not by Tessera) does not reach a prototype.
    await redis.hset(`${f.keys.prefix}${hashToken(token)}`, "d", '{"__proto__":{"polluted":1}}');
    const data = await store.getSessionData(session.handle);
    expect(data).toEqual({});
    await redis.hset(`${f.keys.prefix}${hashToken(token)}`, "d", '{"\\u005f_proto__":{"p":1}}');
    expect(Object.keys((await store.getSessionData(session.handle)) ?? { x: 1 })).toEqual([]);
    expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it("a session's data is never readable or writable through another user's session", async () => {
    const f = fixture(redis);
    const store = f.store();
    const alice = await store.createSession("alice", { data: { secret: "alice's" } });
    const bob = await store.createSession("bob", { data: { secret: "bob's" } });
    expect(await store.getSessionData(bob.session.handle)).toEqual({ secret: "bob's" });
    expect(await store.invalidateSession("bob", alice.session.handle)).toBe(false);
    // Neither the token, nor the digest, nor the key, nor an unknown string is a handle.
    for (const wrong of [
      alice.token,
      hashToken(alice.token),
      `${f.keys.prefix}${hashToken(alice.token)}`,
      "",
      "x".repeat(32),
    ]) {
      expect(await store.getSessionData(wrong)).toBeNull();
      expect(await store.setSessionData(wrong, { secret: "mallory" })).toBe(false);
    }
    // A pointer edited to another session's digest (a Redis write, not a request) opens
    // nothing: the handle must be the hash of the digest it points to. (Another process,
    // which has not seen these sessions, reads the pointers.)
    await redis.set(handleKeyOf(f.keys.prefix, bob.token), hashToken(alice.token));
    const elsewhere = f.store();
    expect(await elsewhere.getSessionData(bob.session.handle)).toBeNull();
    expect(await elsewhere.setSessionData(bob.session.handle, { secret: "mallory" })).toBe(false);
    expect(await elsewhere.getSessionData(alice.session.handle)).toEqual({ secret: "alice's" });
    expect(sessionIdFromDigest(hashToken(alice.token))).toBe(alice.session.handle);
  });
});
