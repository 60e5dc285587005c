import { strict as assert } from "node:assert";
import type { AccessTokenProtocol } from "../models.js";
import type { JsonObject } from "../session/session.js";
import { generateOpaqueToken, hashToken, sessionIdFromDigest } from "../tokens/opaque.js";
import type { AdapterFixture, ConformanceCase } from "./adapter-conformance.js";
import { userData } from "./user-database-cases.js";

// Nested values of every JSON type, non-ASCII text and a key named like a prototype: a
// database must give back exactly what it was given.
const DATA: JsonObject = {
  theme: "dark",
  n: 42.5,
  on: true,
  none: null,
  list: [1, "two", { three: [3] }],
  nested: { deep: { deeper: "ünïcødé ✓ 日本" } },
  // Keys an operator-minded store could misread: data, not query or path syntax.
  $where: "1",
  "a.b": { $gt: "" },
  "~tilde%2E": ["$in", { "x.y": 1 }],
};
const CLAIMS: JsonObject = { role: "editor", orgs: ["a", "b"], level: 3 };

/** The session fields of a token row (issue 14), for the adapter under `fixture`. */
export function sessionFieldsCases<ID>(fixture: AdapterFixture<ID>): ConformanceCase[] {
  async function create(email: string, fields: Partial<AccessTokenProtocol<ID>> = {}) {
    const user = await fixture.users().create(userData(email));
    const digest = hashToken(generateOpaqueToken());
    const at = await fixture.tokens().create({
      token: digest,
      userId: user.id,
      createdAt: new Date(Date.now() - 1000),
      lifetimeSeconds: 3600,
      ...fields,
    });
    return { user, digest, at };
  }
  const none = (value: unknown) => value ?? null;
  const session = (digest: string) => ({
    handle: sessionIdFromDigest(digest),
    lastUsedAt: new Date(Date.now() - 500),
    ipAddress: "203.0.113.7",
    userAgent: `Mozilla/5.0 ${"x".repeat(480)}`,
    data: DATA,
    claims: CLAIMS,
  });

  function assertSession(
    read: AccessTokenProtocol<ID> | null | undefined,
    want: ReturnType<typeof session>,
  ) {
    assert.ok(read, "the row is read");
    assert.equal(read.handle, want.handle);
    assert.equal(read.lastUsedAt?.getTime(), want.lastUsedAt.getTime());
    assert.equal(read.ipAddress, want.ipAddress);
    assert.equal(read.userAgent, want.userAgent);
    assert.deepStrictEqual(read.data, DATA);
    assert.deepStrictEqual(read.claims, CLAIMS);
  }

  return [
    {
      name: "sessions: create stores handle, lastUsedAt, device, data and claims; every read returns them",
      async run() {
        const digest = hashToken(generateOpaqueToken());
        const { user } = await create("fields@example.com");
        const fields = session(digest);
        await fixture.tokens().create({
          token: digest,
          userId: user.id,
          createdAt: new Date(),
          lifetimeSeconds: 60,
          ...fields,
        });
        const db = fixture.tokens();
        assertSession(await db.getByToken(digest), fields);
        if (db.getByTokenWithUser) {
          assertSession((await db.getByTokenWithUser(digest))?.accessToken, fields);
        }
        if (db.listByUser) {
          assertSession(
            (await db.listByUser(user.id)).find((r) => r.token === digest),
            fields,
          );
        }
        if (db.getByHandle) assertSession(await db.getByHandle(fields.handle), fields);
      },
    },
    {
      name: "sessions: a row created with the four fields only reads as no handle, device, data, claims, last use or refresh digests",
      async run() {
        const { digest } = await create("bare@example.com");
        const db = fixture.tokens();
        const reads = [await db.getByToken(digest)];
        if (db.getByTokenWithUser)
          reads.push((await db.getByTokenWithUser(digest))?.accessToken ?? null);
        for (const read of reads) {
          assert.ok(read);
          for (const key of [
            "handle",
            "lastUsedAt",
            "ipAddress",
            "userAgent",
            "data",
            "claims",
            "refreshDigest",
            "refreshParentDigest",
          ] as const) {
            assert.equal(none(read[key]), null, key);
          }
        }
      },
    },
    {
      name: "sessions: update writes the given fields only (renewal with lastUsedAt; data; claims; handle)",
      async run() {
        const db = fixture.tokens();
        const { digest, at } = await create("upd@example.com", {
          ipAddress: "198.51.100.1",
          data: { keep: 1 },
          claims: { c: 1 },
        });
        const lastUsedAt = new Date(Date.now() - 250);
        await db.update(at, { lifetimeSeconds: 7200, lastUsedAt });
        let read = await db.getByToken(digest);
        assert.equal(read?.lifetimeSeconds, 7200);
        assert.equal(read?.lastUsedAt?.getTime(), lastUsedAt.getTime());
        assert.deepStrictEqual(read?.data, { keep: 1 });
        assert.equal(read?.ipAddress, "198.51.100.1");

        const updated = await db.update(at, { data: DATA });
        assert.deepStrictEqual(updated.data, DATA);
        read = await db.getByToken(digest);
        assert.deepStrictEqual(read?.data, DATA);
        assert.deepStrictEqual(read?.claims, { c: 1 });
        assert.equal(read?.lifetimeSeconds, 7200);

        await db.update(at, { claims: CLAIMS });
        await db.update(at, { data: {} });
        const handle = sessionIdFromDigest(digest);
        await db.update(at, { handle });
        read = await db.getByToken(digest);
        assert.deepStrictEqual(read?.claims, CLAIMS);
        assert.deepStrictEqual(read?.data, {});
        assert.equal(read?.handle, handle);
        assert.equal(read?.lastUsedAt?.getTime(), lastUsedAt.getTime());
        assert.equal(read?.createdAt.getTime(), at.createdAt.getTime());
      },
    },
    {
      name: "sessions: update of a deleted row creates nothing",
      async run() {
        const db = fixture.tokens();
        const { digest, at } = await create("gone@example.com");
        await db.delete(at);
        await db.update(at, { data: { x: 1 } });
        assert.equal(await db.getByToken(digest), null);
      },
    },
    {
      name: "sessions: getByHandle (when implemented) finds exactly its row; an unknown handle or garbage is null",
      async run() {
        const db = fixture.tokens();
        // Optional: without it a session store cannot reach data by handle, and says so.
        if (!db.getByHandle) return assert.equal(db.getByHandle, undefined);
        const a = hashToken(generateOpaqueToken());
        const b = hashToken(generateOpaqueToken());
        const { user } = await create("handle-a@example.com");
        for (const digest of [a, b]) {
          await db.create({
            token: digest,
            userId: user.id,
            createdAt: new Date(),
            lifetimeSeconds: 60,
            handle: sessionIdFromDigest(digest),
            data: { digest },
          });
        }
        const read = await db.getByHandle(sessionIdFromDigest(b));
        assert.equal(read?.token, b);
        assert.deepStrictEqual(read?.data, { digest: b });
        assert.equal(String(read?.userId), String(user.id));
        for (const garbage of [
          sessionIdFromDigest(hashToken("x")),
          "",
          '{"$gt":""}',
          "a".repeat(10_000),
        ]) {
          assert.equal(await db.getByHandle(garbage), null);
        }
      },
    },
    {
      name: "sessions: updateByHandle (when implemented) writes data or claims of its row only; a missing, garbage or expired handle answers false",
      async run() {
        const db = fixture.tokens();
        if (!db.updateByHandle) return assert.equal(db.updateByHandle, undefined);
        const { user } = await create("by-handle@example.com");
        const rows = [];
        for (const claims of [{ c: 1 }, { c: 2 }]) {
          const digest = hashToken(generateOpaqueToken());
          const fields = { ...session(digest), data: { keep: 1 }, claims };
          await db.create({
            token: digest,
            userId: user.id,
            createdAt: new Date(Date.now() - 1000),
            lifetimeSeconds: 3600,
            ...fields,
          });
          rows.push({ digest, fields });
        }
        const [a, b] = rows as [(typeof rows)[0], (typeof rows)[0]];
        const live = { now: new Date(), maxLifetimeSeconds: 7200 };
        assert.equal(await db.updateByHandle(a.fields.handle, { data: DATA }, live), true);
        // The same value again still matches (a row matched, whether or not it changed).
        assert.equal(await db.updateByHandle(a.fields.handle, { data: DATA }, live), true);
        let read = await db.getByToken(a.digest);
        assert.deepStrictEqual(read?.data, DATA);
        assert.deepStrictEqual(read?.claims, { c: 1 });
        assert.equal(read?.lifetimeSeconds, 3600);
        assert.equal(read?.handle, a.fields.handle);
        assert.equal(read?.ipAddress, a.fields.ipAddress);
        assert.equal(read?.userAgent, a.fields.userAgent);
        assert.equal(read?.lastUsedAt?.getTime(), a.fields.lastUsedAt.getTime());
        assert.equal(String(read?.userId), String(user.id));

        assert.equal(await db.updateByHandle(a.fields.handle, { claims: CLAIMS }), true);
        read = await db.getByToken(a.digest);
        assert.deepStrictEqual(read?.claims, CLAIMS);
        assert.deepStrictEqual(read?.data, DATA);
        const other = await db.getByToken(b.digest);
        assert.deepStrictEqual(other?.data, { keep: 1 });
        assert.deepStrictEqual(other?.claims, { c: 2 });

        // Expired by its idle lifetime, or by the absolute cap: no row matches.
        const later = { now: new Date(Date.now() + 3600_000), maxLifetimeSeconds: 7200 };
        assert.equal(await db.updateByHandle(b.fields.handle, { data: { x: 1 } }, later), false);
        const capped = { now: new Date(), maxLifetimeSeconds: 1 };
        assert.equal(await db.updateByHandle(b.fields.handle, { data: { x: 1 } }, capped), false);
        assert.deepStrictEqual((await db.getByToken(b.digest))?.data, { keep: 1 });

        for (const garbage of [
          sessionIdFromDigest(hashToken("x")),
          "",
          '{"$gt":""}',
          "a".repeat(10_000),
        ]) {
          assert.equal(await db.updateByHandle(garbage, { data: { x: 1 } }, live), false);
        }
        assert.equal(await db.getByHandle?.(sessionIdFromDigest(hashToken("x"))), null);
      },
    },
    {
      name: "sessions: mergeDataByHandle (when implemented) merges top-level keys in place (null deletes, nested values replaced), live rows only, within the size bound",
      async run() {
        const db = fixture.tokens();
        if (!db.mergeDataByHandle) return assert.equal(db.mergeDataByHandle, undefined);
        const { user } = await create("merge@example.com");
        const digest = hashToken(generateOpaqueToken());
        const fields = { ...session(digest), data: { a: 1, nested: { x: 1, y: 2 }, gone: "g" } };
        await db.create({
          token: digest,
          userId: user.id,
          createdAt: new Date(Date.now() - 1000),
          lifetimeSeconds: 3600,
          ...fields,
        });
        const live = { now: new Date(), maxLifetimeSeconds: 7200 };
        const patch: JsonObject = { nested: { x: null, z: [1, { n: null }] }, gone: null, ...DATA };
        const merged = await db.mergeDataByHandle(fields.handle, patch, 64 * 1024, live);
        // An adapter may decline (null: the session store then reads and writes); nothing changed then.
        if (merged === null) {
          assert.deepStrictEqual((await db.getByToken(digest))?.data, fields.data);
          return;
        }
        const { none: _, ...rest } = DATA;
        const want = { a: 1, nested: { x: null, z: [1, { n: null }] }, ...rest };
        assert.deepStrictEqual(merged, want);
        let read = await db.getByToken(digest);
        assert.deepStrictEqual(read?.data, want);
        assert.deepStrictEqual(read?.claims, CLAIMS);
        assert.equal(read?.lifetimeSeconds, 3600);
        assert.equal(read?.userAgent, fields.userAgent);

        // Over the bound, expired, unknown: null, and nothing written.
        const big = { big: "x".repeat(2000) };
        assert.equal(await db.mergeDataByHandle(fields.handle, big, 1024, live), null);
        const later = { now: new Date(Date.now() + 3600_000), maxLifetimeSeconds: 7200 };
        assert.equal(await db.mergeDataByHandle(fields.handle, { b: 1 }, 64 * 1024, later), null);
        const capped = { now: new Date(), maxLifetimeSeconds: 1 };
        assert.equal(await db.mergeDataByHandle(fields.handle, { b: 1 }, 64 * 1024, capped), null);
        for (const garbage of [sessionIdFromDigest(hashToken("x")), "", "a".repeat(10_000)]) {
          assert.equal(await db.mergeDataByHandle(garbage, { b: 1 }, 64 * 1024, live), null);
        }
        read = await db.getByToken(digest);
        assert.deepStrictEqual(read?.data, want);

        // A row of an earlier release (no data yet) merges from empty.
        const bare = await create("merge-bare@example.com", {
          handle: sessionIdFromDigest(hashToken("bare")),
        });
        assert.deepStrictEqual(
          await db.mergeDataByHandle(bare.at.handle as string, { k: "v", n: null }, 1024, live),
          { k: "v" },
        );
      },
    },
  ];
}
