// Session data by handle on db-mongo (issue 14), watched through the driver's command
// monitoring on the harness's server (FerretDB v1 where mongod is absent, as in CI):
// getData, setData and mergeData are one command each, mergeData included — one
// findAndModify of `$set` / `$unset` per patch key, bounded by `data_bytes` and `expires_at`
// (packages/db-mongo/src/merge-data.ts) — and the store's exact read and write answer
// whatever that write declines.

import { SessionDataTooLargeError } from "@tessera/core";
import { userCreateData } from "@tessera/core/testing";
import type { MongoIdType } from "@tessera/db-mongo";
import { DatabaseSessionStore } from "@tessera/strategy-database";
import { describe, expect, it } from "vitest";
import { monitoredMongo } from "./monitored.js";

const { serverKind, adapters, sentDuring } = monitoredMongo("mongo_session_data");

/** The names of the commands `fn` sends: its round trips. */
const trips = async (fn: () => Promise<unknown>) =>
  (await sentDuring(fn)).map((event) => event.commandName);

describe.each<MongoIdType>(["objectId", "uuid"])(
  `db-mongo session data (%s ids, ${serverKind})`,
  (idType) => {
    async function setup(maxDataBytes = 64 * 1024) {
      const { users, tokens, tokenCollection } = await adapters(idType);
      await tokens.ensureIndexes();
      const store = new DatabaseSessionStore<string>({
        database: tokens,
        limits: { maxDataBytes, maxClaimsBytes: 4096 },
      });
      const user = await users.create(userCreateData(`${idType}-${Math.random()}@example.com`));
      return { store, tokens, tokenCollection, userId: user.id };
    }

    it("getData, setData and mergeData are one round trip each; mergeData is one findAndModify from the first merge on", async () => {
      const { store, userId } = await setup();
      const { session } = await store.createSession(userId, { data: { a: 1 } });
      const { handle } = session;
      expect(await trips(() => store.mergeSessionData(handle, { b: 2 }))).toEqual([
        "findAndModify",
      ]);
      expect(await trips(() => store.getSessionData(handle))).toEqual(["find"]);
      expect(await trips(() => store.setSessionData(handle, { c: 3 }))).toEqual(["update"]);
      expect(await trips(() => store.mergeSessionData(handle, { d: 4, c: null }))).toEqual([
        "findAndModify",
      ]);
      expect(await store.getSessionData(handle)).toEqual({ d: 4 });
      // A session created without data merges in one round trip too.
      const bare = (await store.createSession(userId)).session.handle;
      let merged: unknown;
      expect(
        await trips(async () => (merged = await store.mergeSessionData(bare, { k: "v" }))),
      ).toEqual(["findAndModify"]);
      expect(merged).toEqual({ k: "v" });
    });

    it("keys are stored escaped as core's toMongoJson does, nested values replaced whole, null deletes", async () => {
      const { store, tokenCollection, userId } = await setup();
      const { session } = await store.createSession(userId, {
        data: { nested: { x: 1, y: 2 }, gone: true },
      });
      const patch = { "a.b": 1, $op: { "c.d": 2 }, "~t": "t", nested: { z: 3 }, gone: null };
      const want = { "a.b": 1, $op: { "c.d": 2 }, "~t": "t", nested: { z: 3 } };
      expect(await trips(() => store.mergeSessionData(session.handle, patch))).toEqual([
        "findAndModify",
      ]);
      expect(await store.getSessionData(session.handle)).toEqual(want);
      const doc = await tokenCollection.findOne({ handle: session.handle });
      expect(doc?.data).toEqual({
        "~a%2eb": 1,
        "~%24op": { "~c%2ed": 2 },
        "~~t": "t",
        nested: { z: 3 },
      });
    });

    it("ASVS 5.0 7.3.1, 7.3.2: only a live session merges (idle expiry, absolute cap); an expired one is null, nothing written", async () => {
      const { tokens, tokenCollection, userId } = await setup();
      let now = Date.UTC(2026, 0, 1);
      const store = new DatabaseSessionStore<string>({
        database: tokens,
        clock: () => now,
        lifetimeSeconds: 60,
        maxLifetimeSeconds: 3600,
      });
      const { session } = await store.createSession(userId, { data: { a: 1 } });
      now += 60_000; // idle-expired
      expect(await store.mergeSessionData(session.handle, { b: 1 })).toBeNull();
      expect((await tokenCollection.findOne({ handle: session.handle }))?.data).toEqual({ a: 1 });
      // Past the cap, even with an idle lifetime left (renewals wrote a long one).
      await tokenCollection.updateOne(
        { handle: session.handle },
        { $set: { lifetime_seconds: 86_400, expires_at: new Date(now + 86_400_000) } },
      );
      now = Date.UTC(2026, 0, 1) + 3600_000;
      expect(await store.mergeSessionData(session.handle, { b: 1 })).toBeNull();
      expect((await tokenCollection.findOne({ handle: session.handle }))?.data).toEqual({ a: 1 });
    });

    it("the size bound: a merge data_bytes may push past maxDataBytes is read then written exactly (SESSION_DATA_TOO_LARGE only when the exact merge is over); data_bytes re-established", async () => {
      const { store, tokenCollection, userId } = await setup(100);
      const { session } = await store.createSession(userId, { data: { a: "x".repeat(60) } });
      const { handle } = session;
      const bytes = async () => (await tokenCollection.findOne({ handle }))?.data_bytes;
      expect(await bytes()).toBe(JSON.stringify({ a: "x".repeat(60) }).length);
      // Over the bound exactly: refused, nothing written.
      await expect(store.mergeSessionData(handle, { b: "y".repeat(40) })).rejects.toThrow(
        SessionDataTooLargeError,
      );
      expect(await store.getSessionData(handle)).toEqual({ a: "x".repeat(60) });
      // Replacing `a` by a value as long: data_bytes (an upper bound) refuses, the store's
      // read and write merge exactly (the declined write, a find and an update) and store
      // the exact size again.
      const replace = { a: "z".repeat(60) };
      expect(await trips(() => store.mergeSessionData(handle, replace))).toEqual([
        "findAndModify",
        "find",
        "update",
      ]);
      expect(await store.getSessionData(handle)).toEqual(replace);
      expect(await bytes()).toBe(JSON.stringify(replace).length);
      // Room again: one round trip.
      expect(await trips(() => store.mergeSessionData(handle, { a: null, s: 1 }))).toEqual([
        "findAndModify",
      ]);
      expect(await store.getSessionData(handle)).toEqual({ s: 1 });
    });

    it("a row of an earlier release (no data_bytes / expires_at) is merged by the read and write, then in one round trip", async () => {
      const { store, tokenCollection, userId } = await setup();
      const { session } = await store.createSession(userId, { data: { a: 1 } });
      const { handle } = session;
      await tokenCollection.updateOne({ handle }, { $unset: { data_bytes: "", expires_at: "" } });
      expect(await trips(() => store.mergeSessionData(handle, { b: 2 }))).toEqual([
        "findAndModify",
        "find",
        "update",
      ]);
      expect(await store.getSessionData(handle)).toEqual({ a: 1, b: 2 });
      expect(await trips(() => store.mergeSessionData(handle, { c: 3 }))).toEqual([
        "findAndModify",
      ]);
      expect(await store.getSessionData(handle)).toEqual({ a: 1, b: 2, c: 3 });
    });

    it(`20 concurrent merges of distinct keys ${serverKind === "ferretdb" ? "(FerretDB v1 rewrites whole documents: some may be lost, none invented, data_bytes still bounds the data)" : "all land"}`, async () => {
      const { store, tokenCollection, userId } = await setup();
      const { session } = await store.createSession(userId, { data: { base: true } });
      const { handle } = session;
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.mergeSessionData(handle, { [`k${i}`]: i })),
      );
      for (const [i, result] of results.entries()) expect(result?.[`k${i}`]).toBe(i);
      const data = (await store.getSessionData(handle)) ?? {};
      const doc = await tokenCollection.findOne({ handle });
      expect(doc?.data_bytes).toBeGreaterThanOrEqual(JSON.stringify(data).length);
      expect(data.base).toBe(true);
      for (const [key, value] of Object.entries(data)) {
        if (key !== "base") expect(`k${value}`).toBe(key);
      }
      if (serverKind !== "ferretdb") expect(Object.keys(data)).toHaveLength(21);
    });
  },
);
