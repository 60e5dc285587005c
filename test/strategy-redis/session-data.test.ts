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
import {
  connectTo,
  countCalls,
  fixture,
  handleKeyOf,
  keysUnder,
  MINUTE,
  monitorCommands,
  TOPOLOGIES,
} from "./support.js";

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

  it("concurrent merges all land: one script merges and writes, so no write is lost", async () => {
    const f = fixture(redis);
    const store = f.store();
    const { session } = await store.createSession("u");
    const keys = Array.from({ length: 12 }, (_, i) => `k${i}`);
    await Promise.all(keys.map((k) => store.mergeSessionData(session.handle, { [k]: k })));
    expect(await store.getSessionData(session.handle)).toEqual(
      Object.fromEntries(keys.map((k) => [k, k])),
    );
  });

  it("concurrent merges of distinct keys from several connections and processes all land", async () => {
    const f = fixture(redis);
    const { session } = await f.store().createSession("u", { data: { keep: true, gone: 1 } });
    const others = await Promise.all([1, 2, 3].map(() => connectTo(topology)));
    try {
      // Each store is another process: it has not seen the handle and reads its pointer.
      const stores = [f.store(), ...others.map((client) => f.store({ redis: client }))];
      const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
      const results = await Promise.all(
        keys.map((k, i) => stores[i % stores.length]?.mergeSessionData(session.handle, { [k]: i })),
      );
      expect(results.every((r) => r?.keep === true)).toBe(true);
      await f.store().mergeSessionData(session.handle, { gone: null });
      expect(await f.store().getSessionData(session.handle)).toEqual({
        keep: true,
        ...Object.fromEntries(keys.map((k, i) => [k, i])),
      });
    } finally {
      for (const client of others) client.disconnect();
    }
  });

  it("mergeSessionData is one round trip: one script, no read before it (two on a cold handle memo)", async () => {
    const f = fixture(redis);
    const counted = countCalls(redis);
    const store = f.store({ redis: counted.client });
    const { session } = await store.createSession("u", { data: { a: 1 } });
    await store.mergeSessionData(session.handle, { warm: 1 }); // EVAL once where a node lacks it
    counted.calls.length = 0;
    expect(await store.mergeSessionData(session.handle, { b: 2, warm: null })).toEqual({
      a: 1,
      b: 2,
    });
    expect(counted.calls).toEqual(["evalsha"]);
    // Over the bound and on a gone session: still one trip, nothing written.
    counted.calls.length = 0;
    await expect(
      store.mergeSessionData(session.handle, { big: "x".repeat(16_370) }),
    ).rejects.toThrow(SessionDataTooLargeError);
    expect(counted.calls).toEqual(["evalsha"]);
    // Another process (a cold memo) reads the handle's pointer first, once.
    const other = f.store({ redis: counted.client });
    counted.calls.length = 0;
    await other.mergeSessionData(session.handle, { c: 3 });
    expect(counted.calls).toEqual(["get", "evalsha"]);
    counted.calls.length = 0;
    await other.mergeSessionData(session.handle, { d: 4 });
    expect(counted.calls).toEqual(["evalsha"]);
  });

  it("mergeSessionData is one command as the server sees it (MONITOR), on every node", async () => {
    const f = fixture(redis);
    const store = f.store();
    const { session } = await store.createSession("u", { data: { a: 1 } });
    await store.mergeSessionData(session.handle, { warm: 1 }); // EVAL once where a node lacks it
    const monitor = await monitorCommands(redis, f.keys.root);
    try {
      await monitor.settle();
      monitor.commands.length = 0;
      expect(await store.mergeSessionData(session.handle, { b: [], warm: null })).toEqual({
        a: 1,
        b: [],
      });
      await monitor.settle();
      expect(monitor.commands.map(([name]) => name)).toEqual(["evalsha"]);
    } finally {
      monitor.stop();
    }
  });

  it("the merge's size bound is core's count, in bytes of the merged JSON, exactly", async () => {
    const f = fixture(redis);
    // {"a":1,"é":"xxx"} is 18 bytes (é is two), 17 characters.
    const store = f.store({ limits: { maxDataBytes: 18 } });
    const { token, session } = await store.createSession("u", { data: { a: 1 } });
    const key = `${f.keys.prefix}${hashToken(token)}`;
    expect(await store.mergeSessionData(session.handle, { é: "xxx" })).toEqual({ a: 1, é: "xxx" });
    const stored = await redis.hget(key, "d");
    await expect(store.mergeSessionData(session.handle, { é: "xxxx" })).rejects.toThrow(
      SessionDataTooLargeError,
    );
    await expect(store.mergeSessionData(session.handle, { b: 0 })).rejects.toThrow(
      SessionDataTooLargeError,
    );
    expect(await redis.hget(key, "d")).toBe(stored);
    // A delete and a set in one patch count as the result: {"é":"xxx","b":2} is 18 bytes,
    // {"é":"xxx","bb":2} 19.
    await expect(store.mergeSessionData(session.handle, { a: null, bb: 2 })).rejects.toThrow(
      SessionDataTooLargeError,
    );
    expect(await store.mergeSessionData(session.handle, { a: null, b: 2 })).toEqual({
      é: "xxx",
      b: 2,
    });
    // Everything deleted: the field goes, the data reads as {}.
    // (The patch is bounded as data too, as core's mergeSessionJson bounds it.)
    await store.mergeSessionData(session.handle, { é: null });
    expect(await store.mergeSessionData(session.handle, { b: null })).toEqual({});
    expect(await redis.hexists(key, "d")).toBe(0);
    expect(await store.getSessionData(session.handle)).toEqual({});
  });

  it("values round-trip exactly through the script: quotes, slashes, escapes, Unicode, key order", async () => {
    const f = fixture(redis);
    const store = f.store();
    const { session } = await store.createSession("u", { data: { first: 1 } });
    const odd: JsonObject = {
      'k"ey/\\': '</script> "q" \\ \u0000 ✓ 😀 \ud800',
      "\u00e9": [[], {}, { "": [] }, -0.1, 1e21, 2 ** 53 - 1, false, null],
      "10": "integer-like keys come first in a JS object",
    };
    const expected = { first: 1, ...odd };
    expect(await store.mergeSessionData(session.handle, odd)).toEqual(expected);
    expect(await store.getSessionData(session.handle)).toEqual(expected);
    expect(await store.mergeSessionData(session.handle, { first: 2, last: 3 })).toEqual({
      ...expected,
      first: 2,
      last: 3,
    });
    expect(Object.keys((await store.getSessionData(session.handle)) ?? {})).toEqual([
      "10",
      "first",
      'k"ey/\\',
      "\u00e9",
      "last",
    ]);
  });

  it("data stored as one JSON object (the format before) still reads, and its first merge rewrites it", async () => {
    const f = fixture(redis);
    const store = f.store();
    const { token, session } = await store.createSession("u");
    const key = `${f.keys.prefix}${hashToken(token)}`;
    await redis.hset(key, "d", '{"a":1,"e":[],"n":9007199254740991}');
    expect(await store.getSessionData(session.handle)).toEqual({ a: 1, e: [], n: 2 ** 53 - 1 });
    expect(await store.mergeSessionData(session.handle, { b: 2, a: null })).toEqual({
      e: [],
      n: 2 ** 53 - 1,
      b: 2,
    });
    expect(JSON.parse((await redis.hget(key, "d")) ?? "")).toEqual([
      '"e"',
      "[]",
      '"n"',
      "9007199254740991",
      '"b"',
      "2",
    ]);
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
    const written = await redis.hget(key, "d");
    f.clock.advance(10 * MINUTE); // expired by the app's clock, though Redis still has it
    expect(await store.getSessionData(session.handle)).toBeNull();
    expect(await store.setSessionData(session.handle, { a: 2 })).toBe(false);
    expect(await store.mergeSessionData(session.handle, { a: 2 })).toBeNull();
    expect(await store.setSessionClaims(session.handle, { a: 2 })).toBe(false);
    expect(await redis.hget(key, "d")).toBe(written);
    f.clock.advance(-10 * MINUTE);
    expect(await store.getSessionData(session.handle)).toEqual({ a: 1, b: 1 });
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
    // In the current format too, and through the merge script (ASVS 5.0 15.3.6).
    await redis.hset(
      `${f.keys.prefix}${hashToken(token)}`,
      "d",
      JSON.stringify(['"__proto__"', '{"polluted":1}', '"\\u005f_proto__"', "{}", '"ok"', "1"]),
    );
    expect(await store.getSessionData(session.handle)).toEqual({ ok: 1 });
    const merged = await store.mergeSessionData(session.handle, { v: 2 });
    expect(merged).toEqual({ ok: 1, v: 2 });
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
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
