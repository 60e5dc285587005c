// The refresh-token rules of DatabaseSessionStore (issue 15): rotation, the parent's grace
// until its child is used, reuse -> the session is deleted, expiry, and the same under real
// concurrency. Run on memory (beside the store) and on PostgreSQL, SQLite and the MongoDB
// protocol (test/strategy-database).
import { randomBytes } from "node:crypto";
import { hashToken, type RefreshRotation } from "@tessera/core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DatabaseSessionStore } from "../session-store.js";
import type { SessionStoreFixture } from "./session-store-cases.js";

export interface RefreshStoreFixture extends SessionStoreFixture {
  /**
   * False where a conditional update is a read then a write (FerretDB v1): concurrent
   * rotations of one token may then all land (each writes the same child), so the race
   * cases check what still holds: no `reused`, one live chain. @default true
   */
  atomicConditionalUpdates?: boolean;
}

const START = Date.UTC(2026, 0, 1);
/** A refresh token's digest. */
const fresh = () => hashToken(randomBytes(32).toString("base64url"));
/**
 * The child of a refresh token, derived from its parent as RefreshTokenStrategy derives it
 * (an HMAC there): every refresh with one token computes the same child.
 */
const childOf = (digest: string) => hashToken(`child-of:${digest}`);
const outcomes = (results: RefreshRotation<string>[]) => results.map((r) => r.outcome);
const count = (results: RefreshRotation<string>[], outcome: string) =>
  results.filter((r) => r.outcome === outcome).length;

export function describeRefreshSessionStore(fixture: RefreshStoreFixture): void {
  const atomic = fixture.atomicConditionalUpdates !== false;
  describe(`DatabaseSessionStore refresh rotation on ${fixture.name}`, () => {
    let now: number;
    let alice: string;
    const store = (options: { lifetimeSeconds?: number; maxLifetimeSeconds?: number } = {}) =>
      new DatabaseSessionStore<string>({
        database: fixture.tokens(),
        clock: () => now,
        ...options,
      });
    const row = (key: string) => fixture.tokens().getByToken(key);
    /** A refresh session of alice and the digest of its first refresh token. */
    const start = async (sessions = store()) => {
      const first = fresh();
      const { key, session } = await sessions.createRefreshSession(alice, first, {
        device: { ipAddress: "203.0.113.5", userAgent: "ua" },
        claims: { role: "editor" },
      });
      return { key, session, first };
    };

    if (fixture.setup) beforeAll(() => fixture.setup?.(), 60_000);
    if (fixture.teardown) afterAll(() => fixture.teardown?.());
    beforeEach(async () => {
      now = START;
      await fixture.tokens().deleteExpired(new Date(Date.UTC(3000, 0, 1)));
      alice = await fixture.createUser();
    });

    it("createRefreshSession stores the refresh digest (no parent) under a key that is no token, handle or digest of it", async () => {
      const sessions = store();
      const { key, session, first } = await start(sessions);
      expect(key).toMatch(/^[0-9a-f]{64}$/);
      expect(key).not.toBe(first);
      expect(session.handle).not.toBe(key);
      const stored = await row(key);
      expect(stored?.refreshDigest).toBe(first);
      expect(stored?.refreshParentDigest ?? null).toBeNull();
      expect(session).toMatchObject({
        userId: alice,
        claims: { role: "editor" },
        device: { ipAddress: "203.0.113.5", userAgent: "ua" },
        lastUsedAt: null,
      });
      expect(session.expiresAt.getTime()).toBe(START + 3600_000);
      expect(await sessions.getSession(session.handle)).toEqual(session);
      expect((await sessions.listUserSessions(alice)).map((s) => s.handle)).toEqual([
        session.handle,
      ]);
      // The key is not a token: nothing validates with it or with the refresh digest.
      expect(await sessions.validateSession(key)).toBeNull();
      expect(await sessions.validateSession(first)).toBeNull();
      await expect(sessions.createRefreshSession(alice, "not a digest")).rejects.toThrow(TypeError);
    });

    it("rotate -> rotated: the child is current, the token its parent, the idle expiry renewed and lastUsedAt written", async () => {
      const sessions = store({ lifetimeSeconds: 100 });
      const { key, first, session } = await start(sessions);
      now += 60_000;
      const r = await sessions.rotateRefreshToken(key, first, childOf(first));
      expect(r.outcome).toBe("rotated");
      if (r.outcome === "invalid") return;
      expect(r.session.handle).toBe(session.handle);
      expect(r.session.lastUsedAt?.getTime()).toBe(now);
      expect(r.session.expiresAt.getTime()).toBe(now + 100_000);
      expect(r.session.claims).toEqual({ role: "editor" });
      const stored = await row(key);
      expect(stored?.refreshDigest).toBe(childOf(first));
      expect(stored?.refreshParentDigest).toBe(first);
      expect(stored?.lifetimeSeconds).toBe(160);
      expect(stored?.lastUsedAt?.getTime()).toBe(now);
      expect(await sessions.getSession(session.handle)).toEqual(r.session);
    });

    it("the parent again (a lost response, a second tab) -> parent, nothing written, its child still accepted", async () => {
      const sessions = store();
      const { key, first } = await start(sessions);
      const child = childOf(first);
      expect((await sessions.rotateRefreshToken(key, first, child)).outcome).toBe("rotated");
      const before = await row(key);
      now += 5_000;
      for (let i = 0; i < 3; i++) {
        const again = await sessions.rotateRefreshToken(key, first, child);
        expect(again.outcome).toBe("parent");
      }
      expect(await row(key)).toEqual(before);
      // The client finally uses the child it was handed (the same one each time).
      const next = await sessions.rotateRefreshToken(key, child, childOf(child));
      expect(next.outcome).toBe("rotated");
      expect((await row(key))?.refreshDigest).toBe(childOf(child));
    });

    it("ASVS 5.0 7.4.1 (OAuth 2.1 §6.1): the parent used after its child was used -> reused, and the session is gone", async () => {
      const sessions = store();
      const { key, first, session } = await start(sessions);
      const { session: other } = await sessions.createSession(alice);
      const child = childOf(first);
      expect((await sessions.rotateRefreshToken(key, first, child)).outcome).toBe("rotated");
      expect((await sessions.rotateRefreshToken(key, child, childOf(child))).outcome).toBe(
        "rotated",
      );
      const reused = await sessions.rotateRefreshToken(key, first, child);
      expect(reused.outcome).toBe("reused");
      if (reused.outcome === "reused") expect(reused.session.handle).toBe(session.handle);
      expect(await row(key)).toBeNull();
      expect(await sessions.getSession(session.handle)).toBeNull();
      expect((await sessions.listUserSessions(alice)).map((s) => s.handle)).toEqual([other.handle]);
      // The thief's and the owner's latest tokens are dead alike.
      expect((await sessions.rotateRefreshToken(key, childOf(child), fresh())).outcome).toBe(
        "invalid",
      );
      expect((await sessions.rotateRefreshToken(key, child, childOf(child))).outcome).toBe(
        "invalid",
      );
    });

    it("a token that was never this session's -> reused (the session is live, the token forged or copied): the session is gone", async () => {
      const sessions = store();
      const { key } = await start(sessions);
      const forged = fresh();
      expect((await sessions.rotateRefreshToken(key, forged, childOf(forged))).outcome).toBe(
        "reused",
      );
      expect(await row(key)).toBeNull();
    });

    it("ASVS 5.0 7.3.1: idle-expired -> invalid and the row is deleted", async () => {
      const sessions = store({ lifetimeSeconds: 60 });
      const { key, first, session } = await start(sessions);
      now += 60_000;
      expect((await sessions.rotateRefreshToken(key, first, childOf(first))).outcome).toBe(
        "invalid",
      );
      expect(await row(key)).toBeNull();
      expect(await sessions.getSession(session.handle)).toBeNull();
    });

    it("ASVS 5.0 7.3.2: rotation renews the idle expiry but never past the absolute cap; then invalid", async () => {
      const sessions = store({ lifetimeSeconds: 100, maxLifetimeSeconds: 250 });
      const started = await start(sessions);
      const key = started.key;
      let current = started.first;
      for (let t = 60; t < 250; t += 60) {
        now = START + t * 1000;
        const r = await sessions.rotateRefreshToken(key, current, childOf(current));
        expect(r.outcome).toBe("rotated");
        if (r.outcome === "rotated") {
          expect(r.session.expiresAt.getTime()).toBe(Math.min(now + 100_000, START + 250_000));
          expect(r.session.absoluteExpiresAt.getTime()).toBe(START + 250_000);
        }
        current = childOf(current);
      }
      expect((await row(key))?.lifetimeSeconds).toBe(250);
      now = START + 250_000;
      expect((await sessions.rotateRefreshToken(key, current, childOf(current))).outcome).toBe(
        "invalid",
      );
      expect(await row(key)).toBeNull();
    });

    it("an unknown key, garbage, or the key of a session of another kind -> invalid, and nothing is deleted", async () => {
      const sessions = store();
      const { key, first } = await start(sessions);
      const { token, session: plain } = await sessions.createSession(alice);
      const plainKey = hashToken(token);
      for (const [k, p] of [
        [fresh(), first],
        ["", first],
        ["x".repeat(10_000), first],
        ['{"$gt":""}', first],
        [key, ""],
        [key, "not a digest"],
        // An access-token session's row (no refresh digest): a holder of its token can
        // compute its key, but it never rotates, nor is it deleted as a reuse.
        [plainKey, first],
        [plainKey, fresh()],
      ] as const) {
        expect((await sessions.rotateRefreshToken(k, p, childOf(p))).outcome).toBe("invalid");
      }
      expect((await row(key))?.refreshDigest).toBe(first);
      expect(await sessions.validateSession(token)).toMatchObject({ handle: plain.handle });
    });

    it(`20 concurrent refreshes with the current token -> ${
      atomic ? "exactly one rotated" : "(FerretDB v1) at least one rotated"
    }, the rest parent, none reused; exactly one live chain`, async () => {
      const sessions = store();
      const { key, first } = await start(sessions);
      const child = childOf(first);
      const results = await Promise.all(
        Array.from({ length: 20 }, () => store().rotateRefreshToken(key, first, child)),
      );
      expect(count(results, "reused"), String(outcomes(results))).toBe(0);
      expect(count(results, "invalid"), String(outcomes(results))).toBe(0);
      if (atomic) expect(count(results, "rotated"), String(outcomes(results))).toBe(1);
      else expect(count(results, "rotated")).toBeGreaterThanOrEqual(1);
      expect(count(results, "parent") + count(results, "rotated")).toBe(20);
      const stored = await row(key);
      expect(stored?.refreshDigest).toBe(child);
      expect(stored?.refreshParentDigest).toBe(first);
      // The chain goes on from the one child.
      expect((await sessions.rotateRefreshToken(key, child, childOf(child))).outcome).toBe(
        "rotated",
      );
    });

    it("after the child was used, concurrent refreshes with the child and the parent: every parent one is reused (or finds the session already gone), the session is gone on every interleaving", async () => {
      for (let round = 0; round < 5; round++) {
        const sessions = store();
        const { key, first, session } = await start(sessions);
        const child = childOf(first);
        expect((await sessions.rotateRefreshToken(key, first, child)).outcome).toBe("rotated");
        expect((await sessions.rotateRefreshToken(key, child, childOf(child))).outcome).toBe(
          "rotated",
        );
        const calls = Array.from({ length: 20 }, (_, i) => i % 2 === 0);
        const results = await Promise.all(
          calls.map((parent) =>
            parent
              ? store().rotateRefreshToken(key, first, child)
              : store().rotateRefreshToken(key, child, childOf(child)),
          ),
        );
        const parents = results.filter((_, i) => calls[i]);
        const children = results.filter((_, i) => !calls[i]);
        expect(count(parents, "reused"), String(outcomes(results))).toBeGreaterThanOrEqual(1);
        expect(count(parents, "reused") + count(parents, "invalid")).toBe(parents.length);
        // The child's own calls are its grace period, or find the session gone.
        expect(count(children, "parent") + count(children, "invalid")).toBe(children.length);
        expect(await row(key)).toBeNull();
        expect(await sessions.getSession(session.handle)).toBeNull();
      }
    });

    it(`the child's first use racing the parent: ${
      atomic ? "at most one rotated" : "(FerretDB v1) rotations write the same child"
    }; the parent is parent (before the child landed) or reused (after: the session is gone)`, async () => {
      for (let round = 0; round < 5; round++) {
        const sessions = store();
        const { key, first } = await start(sessions);
        const child = childOf(first);
        expect((await sessions.rotateRefreshToken(key, first, child)).outcome).toBe("rotated");
        const calls = Array.from({ length: 20 }, (_, i) => i % 2 === 0);
        const results = await Promise.all(
          calls.map((parent) =>
            parent
              ? store().rotateRefreshToken(key, first, child)
              : store().rotateRefreshToken(key, child, childOf(child)),
          ),
        );
        const parents = results.filter((_, i) => calls[i]);
        const children = results.filter((_, i) => !calls[i]);
        const all = String(outcomes(results));
        if (atomic) expect(count(children, "rotated"), all).toBeLessThanOrEqual(1);
        expect(count(children, "reused"), all).toBe(0);
        expect(count(parents, "rotated"), all).toBe(0);
        const stored = await row(key);
        if (count(parents, "reused") > 0) {
          expect(stored, all).toBeNull();
        } else {
          // No reuse seen: the child landed once, and the chain is child -> its child.
          expect(count(children, "rotated"), all).toBeGreaterThanOrEqual(1);
          expect(stored?.refreshDigest).toBe(childOf(child));
          expect(stored?.refreshParentDigest).toBe(child);
        }
      }
    });
  });
}
