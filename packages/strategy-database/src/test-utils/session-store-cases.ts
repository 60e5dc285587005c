// The rules of DatabaseSessionStore (issue 14), run on memory (beside the store) and on
// PostgreSQL, SQLite and the MongoDB protocol (test/strategy-database).
import {
  type AccessTokenDatabase,
  type AccessTokenProtocol,
  generateOpaqueToken,
  hashToken,
  InvalidSessionDataError,
  SessionDataTooLargeError,
  type SessionLimits,
} from "@tessera/core";
import { sessionIdFromDigest } from "@tessera/core/internal";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DatabaseSessionStore } from "../session-store.js";

type Tokens = AccessTokenDatabase<AccessTokenProtocol<string>, string>;

export interface SessionStoreFixture {
  name: string;
  /** Connects (once). */
  setup?(): Promise<void>;
  teardown?(): Promise<void>;
  tokens(): Tokens;
  /** A new user; returns its id. */
  createUser(): Promise<string>;
  /** True when the database merges data in place (`mergeDataByHandle`): concurrent merges all land. */
  mergesInPlace?: boolean;
}

const START = Date.UTC(2026, 0, 1);

export function describeSessionStore(fixture: SessionStoreFixture): void {
  describe(`DatabaseSessionStore on ${fixture.name}`, () => {
    let now: number;
    let alice: string;
    let bob: string;
    const store = (
      options: {
        lifetimeSeconds?: number;
        maxLifetimeSeconds?: number;
        limits?: SessionLimits;
      } = {},
    ) =>
      new DatabaseSessionStore<string>({
        database: fixture.tokens(),
        clock: () => now,
        ...options,
      });
    const row = (token: string) => fixture.tokens().getByToken(hashToken(token));

    if (fixture.setup) beforeAll(() => fixture.setup?.(), 60_000);
    if (fixture.teardown) afterAll(() => fixture.teardown?.());
    beforeEach(async () => {
      now = START;
      // Every test starts with no sessions, so counts are exact.
      await fixture.tokens().deleteExpired(new Date(Date.UTC(3000, 0, 1)));
      alice = await fixture.createUser();
      bob = await fixture.createUser();
    });

    it("createSession stores device, data and claims; validateSession returns the session, no token or digest in it", async () => {
      const sessions = store();
      const { token, session } = await sessions.createSession(alice, {
        device: { ipAddress: "203.0.113.9", userAgent: "curl/8" },
        data: { cart: [1, 2] },
        claims: { role: "editor" },
      });
      expect(session.handle).toBe(sessionIdFromDigest(hashToken(token)));
      expect(session.userId).toBe(alice);
      expect(session.createdAt.getTime()).toBe(START);
      expect(session.expiresAt.getTime()).toBe(START + 3600_000);
      expect(session.absoluteExpiresAt.getTime()).toBe(START + 30 * 24 * 3600_000);
      expect(session.lastUsedAt).toBeNull();
      expect(session.device).toEqual({ ipAddress: "203.0.113.9", userAgent: "curl/8" });
      expect(session.claims).toEqual({ role: "editor" });
      const valid = await sessions.validateSession(token);
      expect(valid).toEqual(session);
      expect(JSON.stringify(valid)).not.toContain(token);
      expect(JSON.stringify(valid)).not.toContain(hashToken(token));
      expect(await sessions.getSessionData(session.handle)).toEqual({ cart: [1, 2] });
    });

    it("the device is bounded; no options means no data, no claims, unknown device", async () => {
      const sessions = store();
      const { session } = await sessions.createSession(alice, {
        device: { ipAddress: "1".repeat(500), userAgent: "U".repeat(5000) },
      });
      expect(session.device.ipAddress).toHaveLength(64);
      expect(session.device.userAgent).toHaveLength(512);
      const plain = (await sessions.createSession(alice)).session;
      expect(plain.device).toEqual({ ipAddress: null, userAgent: null });
      expect(plain.claims).toEqual({});
      expect(await sessions.getSessionData(plain.handle)).toEqual({});
    });

    it("unknown, malformed and digest tokens validate as null", async () => {
      const sessions = store();
      const { token } = await sessions.createSession(alice);
      for (const t of ["", "x", "a".repeat(43), "!".repeat(43), hashToken(token)]) {
        expect(await sessions.validateSession(t)).toBeNull();
      }
    });

    it("renewal: no write while more than half remains; then one write that also records lastUsedAt", async () => {
      const sessions = store({ lifetimeSeconds: 100 });
      const { token } = await sessions.createSession(alice);
      now += 40_000;
      expect((await sessions.validateSession(token))?.lastUsedAt).toBeNull();
      expect((await row(token))?.lastUsedAt ?? null).toBeNull();
      now += 15_000; // 45 s left < 50
      const renewed = await sessions.validateSession(token);
      expect(renewed?.lastUsedAt?.getTime()).toBe(now);
      expect(renewed?.expiresAt.getTime()).toBe(now + 100_000);
      expect((await row(token))?.lastUsedAt?.getTime()).toBe(now);
      const used = now;
      now += 10_000;
      expect((await sessions.validateSession(token))?.lastUsedAt?.getTime()).toBe(used);
      now = used + 99_000;
      expect(await sessions.validateSession(token)).not.toBeNull();
    });

    it("an idle-expired session validates as null and its row is deleted", async () => {
      const sessions = store({ lifetimeSeconds: 60 });
      const { token, session } = await sessions.createSession(alice, { data: { a: 1 } });
      now += 60_000;
      expect(await sessions.getSessionData(session.handle)).toBeNull();
      expect(await sessions.setSessionData(session.handle, { b: 2 })).toBe(false);
      expect(await sessions.validateSession(token)).toBeNull();
      expect(await row(token)).toBeNull();
    });

    it("ASVS 5.0 7.3.2: renewal never extends a session past the absolute cap", async () => {
      const sessions = store({ lifetimeSeconds: 100, maxLifetimeSeconds: 250 });
      const { token, session } = await sessions.createSession(alice);
      expect(session.absoluteExpiresAt.getTime()).toBe(START + 250_000);
      for (let t = 0; t < 249; t += 30) {
        const s = await sessions.validateSession(token);
        expect(s?.expiresAt.getTime()).toBeLessThanOrEqual(START + 250_000);
        now += 30_000;
      }
      now = START + 250_000;
      expect(await sessions.validateSession(token)).toBeNull();
      expect(await row(token)).toBeNull();
    });

    it("data: get, set (overwrite), merge (null deletes a key); claims: set, read with the session", async () => {
      const sessions = store();
      const { token, session } = await sessions.createSession(alice, { data: { a: 1, b: 2 } });
      expect(await sessions.setSessionData(session.handle, { c: { d: [true] } })).toBe(true);
      expect(await sessions.getSessionData(session.handle)).toEqual({ c: { d: [true] } });
      expect(await sessions.mergeSessionData(session.handle, { e: "f", c: null })).toEqual({
        e: "f",
      });
      expect(await sessions.getSessionData(session.handle)).toEqual({ e: "f" });
      expect(await sessions.setSessionClaims(session.handle, { plan: "pro" })).toBe(true);
      expect((await sessions.validateSession(token))?.claims).toEqual({ plan: "pro" });
      expect(await sessions.getSessionData(session.handle)).toEqual({ e: "f" });
    });

    it("setSessionData and setSessionClaims are one call of the database (updateByHandle) where it has one, else a read then a write", async () => {
      const calls: string[] = [];
      const counted = (database: Tokens) =>
        new Proxy(database, {
          get(target, key, receiver) {
            const value = Reflect.get(target, key, receiver);
            if (typeof value !== "function") return value;
            return (...args: unknown[]) => {
              calls.push(String(key));
              return value.apply(target, args);
            };
          },
        });
      const { token, session } = await store().createSession(alice, { data: { a: 1 } });
      const one = new DatabaseSessionStore<string>({
        database: counted(fixture.tokens()),
        clock: () => now,
      });
      expect(one.database.updateByHandle).toBeDefined();
      calls.length = 0;
      expect(await one.setSessionData(session.handle, { b: 2 })).toBe(true);
      expect(await one.setSessionClaims(session.handle, { role: "x" })).toBe(true);
      expect(calls).toEqual(["updateByHandle", "updateByHandle"]);
      expect(await one.getSessionData(session.handle)).toEqual({ b: 2 });
      expect((await one.validateSession(token))?.claims).toEqual({ role: "x" });

      // An adapter without it: today's read then write, same answers.
      const inner = fixture.tokens();
      const without = new Proxy(counted(inner), {
        get: (target, key, receiver) =>
          key === "updateByHandle" ? undefined : Reflect.get(target, key, receiver),
      });
      const two = new DatabaseSessionStore<string>({ database: without, clock: () => now });
      calls.length = 0;
      expect(await two.setSessionData(session.handle, { c: 3 })).toBe(true);
      expect(calls).toEqual(["getByHandle", "update"]);
      expect(await two.getSessionData(session.handle)).toEqual({ c: 3 });
      expect(await two.setSessionData("nope", { c: 4 })).toBe(false);

      // Expired by the store's clock: no write, whichever path.
      now += 3600_000;
      expect(await one.setSessionData(session.handle, { d: 4 })).toBe(false);
      expect(await two.setSessionClaims(session.handle, { d: 4 })).toBe(false);
      now -= 3600_000;
      expect(await one.getSessionData(session.handle)).toEqual({ c: 3 });
    });

    // Where the database cannot merge in place (MongoDB), concurrent merges are read then
    // written, last write wins (documented): that case pins what holds there instead.
    if (!fixture.mergesInPlace) {
      it("mergeSessionData without an in-place merge: successive merges of distinct keys all land", async () => {
        const sessions = store();
        const { session } = await sessions.createSession(alice, { data: { base: true } });
        for (let i = 0; i < 5; i++)
          await sessions.mergeSessionData(session.handle, { [`k${i}`]: i });
        expect(await sessions.getSessionData(session.handle)).toEqual({
          base: true,
          k0: 0,
          k1: 1,
          k2: 2,
          k3: 3,
          k4: 4,
        });
      });
    }
    if (fixture.mergesInPlace)
      it("mergeSessionData is one round trip, computed by the database: 20 concurrent merges of distinct keys all land", async () => {
        const sessions = store();
        const { session } = await sessions.createSession(alice, { data: { base: true } });
        const live = { now: new Date(now), maxLifetimeSeconds: sessions.maxLifetimeSeconds };
        const direct = fixture.tokens().mergeDataByHandle;
        expect(direct).toBeDefined();
        expect(
          await direct?.call(fixture.tokens(), session.handle, { base: true }, 1024, live),
        ).toEqual({ base: true });
        const merges = Array.from({ length: 20 }, (_, i) =>
          sessions.mergeSessionData(session.handle, { [`k${i}`]: i }),
        );
        const results = await Promise.all(merges);
        for (const [i, result] of results.entries()) expect(result?.[`k${i}`]).toBe(i);
        const want: Record<string, unknown> = { base: true };
        for (let i = 0; i < 20; i++) want[`k${i}`] = i;
        expect(await sessions.getSessionData(session.handle)).toEqual(want);
      });

    it("mergeSessionData: over the limit is SessionDataTooLargeError; a merge the database declines is read then written", async () => {
      const sessions = store({ limits: { maxDataBytes: 100, maxClaimsBytes: 100 } });
      const { session } = await sessions.createSession(alice, { data: { a: "x".repeat(60) } });
      await expect(
        sessions.mergeSessionData(session.handle, { b: "y".repeat(40) }),
      ).rejects.toThrow(SessionDataTooLargeError);
      expect(await sessions.getSessionData(session.handle)).toEqual({ a: "x".repeat(60) });
      // A key a JSON path cannot name (SQLite declines it): still merged.
      expect(await sessions.mergeSessionData(session.handle, { 'q"uote': 1, a: null })).toEqual({
        'q"uote': 1,
      });
    });

    it("a gone or unknown handle: data reads null, writes report false/null", async () => {
      const sessions = store();
      const { session } = await sessions.createSession(alice);
      await sessions.invalidateSession(alice, session.handle);
      for (const handle of [session.handle, "nope", "", "x".repeat(10_000)]) {
        expect(await sessions.getSessionData(handle)).toBeNull();
        expect(await sessions.setSessionData(handle, { a: 1 })).toBe(false);
        expect(await sessions.mergeSessionData(handle, { a: 1 })).toBeNull();
        expect(await sessions.setSessionClaims(handle, { a: 1 })).toBe(false);
      }
    });

    it("data and claims are size-limited and must be JSON objects; nothing is written then", async () => {
      const sessions = store({ limits: { maxDataBytes: 100, maxClaimsBytes: 50 } });
      await expect(sessions.createSession(alice, { data: { x: "y".repeat(200) } })).rejects.toThrow(
        SessionDataTooLargeError,
      );
      await expect(
        sessions.createSession(alice, { claims: { x: "y".repeat(60) } }),
      ).rejects.toThrow(SessionDataTooLargeError);
      const { session } = await sessions.createSession(alice, { data: { keep: 1 } });
      await expect(sessions.setSessionData(session.handle, { x: "y".repeat(200) })).rejects.toThrow(
        SessionDataTooLargeError,
      );
      await expect(
        sessions.mergeSessionData(session.handle, { x: "y".repeat(90) }),
      ).rejects.toThrow(SessionDataTooLargeError);
      await expect(
        sessions.setSessionClaims(session.handle, { x: "y".repeat(60) }),
      ).rejects.toThrow(SessionDataTooLargeError);
      for (const bad of [[1], "s", null, 5]) {
        await expect(sessions.setSessionData(session.handle, bad as never)).rejects.toThrow(
          InvalidSessionDataError,
        );
      }
      expect(await sessions.getSessionData(session.handle)).toEqual({ keep: 1 });
    });

    it("__proto__, constructor and prototype keys are inert: dropped, no prototype reached", async () => {
      const sessions = store();
      const hostile = JSON.parse(
        '{"__proto__": {"polluted": true}, "a": {"__proto__": {"x": 1}, "constructor": {"prototype": {"y": 1}}}}',
      );
      const { token, session } = await sessions.createSession(alice, {
        data: hostile,
        claims: hostile,
      });
      await sessions.mergeSessionData(session.handle, hostile);
      const data = await sessions.getSessionData(session.handle);
      expect(data).toEqual({ a: {} });
      expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect((await sessions.validateSession(token))?.claims).toEqual({ a: {} });
    });

    it("one session's handle never reads or writes another's data (another user's either)", async () => {
      const sessions = store();
      const a = await sessions.createSession(alice, { data: { owner: "alice" } });
      const b = await sessions.createSession(bob, { data: { owner: "bob" } });
      const a2 = await sessions.createSession(alice, { data: { owner: "alice-2" } });
      expect(await sessions.getSessionData(a.session.handle)).toEqual({ owner: "alice" });
      expect(await sessions.getSessionData(b.session.handle)).toEqual({ owner: "bob" });
      await sessions.setSessionData(b.session.handle, { owner: "bob!" });
      expect(await sessions.getSessionData(a.session.handle)).toEqual({ owner: "alice" });
      expect(await sessions.getSessionData(a2.session.handle)).toEqual({ owner: "alice-2" });
      expect((await sessions.validateSession(a.token))?.userId).toBe(alice);
    });

    it("invalidateSession ends one session of its owner only; another user's handle is refused", async () => {
      const sessions = store();
      const a = await sessions.createSession(alice);
      const a2 = await sessions.createSession(alice);
      const b = await sessions.createSession(bob);
      expect(await sessions.invalidateSession(bob, a.session.handle)).toBe(false);
      expect(await sessions.validateSession(a.token)).not.toBeNull();
      expect(await sessions.invalidateSession(alice, a.session.handle)).toBe(true);
      expect(await sessions.validateSession(a.token)).toBeNull();
      expect(await sessions.invalidateSession(alice, a.session.handle)).toBe(false);
      expect(await sessions.validateSession(a2.token)).not.toBeNull();
      expect(await sessions.validateSession(b.token)).not.toBeNull();
    });

    it("invalidateUserSessions ends all but exceptHandle, and never another user's; a foreign exceptHandle spares nothing", async () => {
      const sessions = store();
      const [a1, a2, a3] = [
        await sessions.createSession(alice),
        await sessions.createSession(alice),
        await sessions.createSession(alice),
      ];
      const b = await sessions.createSession(bob);
      await sessions.invalidateUserSessions(alice, { exceptHandle: a2.session.handle });
      expect(await sessions.validateSession(a1.token)).toBeNull();
      expect(await sessions.validateSession(a2.token)).not.toBeNull();
      expect(await sessions.validateSession(a3.token)).toBeNull();
      await sessions.invalidateUserSessions(alice, { exceptHandle: b.session.handle });
      expect(await sessions.validateSession(a2.token)).toBeNull();
      expect(await sessions.validateSession(b.token)).not.toBeNull();
      await sessions.invalidateUserSessions(bob);
      expect(await sessions.validateSession(b.token)).toBeNull();
    });

    it("listUserSessions lists the live sessions of the user only, with device and last use", async () => {
      const sessions = store({ lifetimeSeconds: 60 });
      await sessions.createSession(alice);
      now += 61_000;
      const a = await sessions.createSession(alice, { device: { userAgent: "phone" } });
      const a2 = await sessions.createSession(alice);
      await sessions.createSession(bob);
      const listed = await sessions.listUserSessions(alice);
      expect(listed.map((s) => s.handle).sort()).toEqual(
        [a.session.handle, a2.session.handle].sort(),
      );
      expect(listed.find((s) => s.handle === a.session.handle)?.device.userAgent).toBe("phone");
      for (const s of listed) expect(s.userId).toBe(alice);
    });

    it("deleteExpiredSessions deletes expired rows only and counts them", async () => {
      const sessions = store({ lifetimeSeconds: 60 });
      const old = await sessions.createSession(alice);
      now += 30_000;
      const fresh = await sessions.createSession(alice);
      now += 31_000;
      expect(await sessions.deleteExpiredSessions(new Date(now))).toBe(1);
      expect(await row(old.token)).toBeNull();
      expect(await row(fresh.token)).not.toBeNull();
    });

    it("a row of an earlier release (no session fields) validates, reads as empty, and gets its handle", async () => {
      const sessions = store();
      const token = generateOpaqueToken();
      const digest = hashToken(token);
      await fixture.tokens().create({
        token: digest,
        userId: alice,
        createdAt: new Date(now),
        lifetimeSeconds: 3600,
      });
      const session = await sessions.validateSession(token);
      expect(session).toMatchObject({
        handle: sessionIdFromDigest(digest),
        lastUsedAt: null,
        device: { ipAddress: null, userAgent: null },
        claims: {},
      });
      expect(await sessions.getSessionData(sessionIdFromDigest(digest))).toEqual({});
      expect(await sessions.mergeSessionData(sessionIdFromDigest(digest), { a: 1 })).toEqual({
        a: 1,
      });
      expect((await sessions.listUserSessions(alice)).map((s) => s.handle)).toContain(
        sessionIdFromDigest(digest),
      );
    });
  });
}
