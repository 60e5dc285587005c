// Session data by handle on db-mikroorm's MongoDB path (issue 14), watched through the
// driver's command monitoring on the harness's server (FerretDB v1 where mongod is absent,
// as in CI): getData, setData and mergeData are one command each — mergeData one
// findAndModify of `$set` / `$unset` per patch key, bounded by `data_bytes` and
// `expires_at` (MongoAccessToken) — and the store's exact read and write answer whatever
// that write declines.
import { SessionDataTooLargeError } from "@tessera/core";
import { userCreateData } from "@tessera/core/testing";
import { DatabaseSessionStore } from "@tessera/strategy-database";
import type { CommandStartedEvent, MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  MikroOrmAccessTokenDatabase,
  MikroOrmUserDatabase,
  MongoAccessToken,
  MongoUser,
} from "../../packages/db-mikroorm/src/index.js";
import { openTestOrm, type TestOrm } from "../../packages/db-mikroorm/src/test-utils/orm.js";

const serverKind = inject("services")?.mongo.kind ?? "external";

describe(`db-mikroorm/mongodb session data (${serverKind})`, () => {
  let db: TestOrm;
  let client: MongoClient;
  beforeAll(async () => {
    db = await openTestOrm("mongodb", [MongoUser, MongoAccessToken], {
      driverOptions: { serverSelectionTimeoutMS: 5000, monitorCommands: true },
    });
    client = (db.orm.em.getConnection() as unknown as { getClient(): MongoClient }).getClient();
  });
  afterAll(() => db?.close());

  /** The names of the commands `fn` sends: its round trips. */
  async function trips(fn: () => Promise<unknown>): Promise<string[]> {
    const events: CommandStartedEvent[] = [];
    const listener = (event: CommandStartedEvent) => events.push(event);
    client.on("commandStarted", listener);
    try {
      await fn();
    } finally {
      client.off("commandStarted", listener);
    }
    return events.map((event) => event.commandName);
  }

  const collection = () =>
    (db.orm.em.getConnection() as unknown as { getDb(): import("mongodb").Db })
      .getDb()
      .collection<Record<string, unknown>>("access_token");

  async function setup(maxDataBytes = 64 * 1024) {
    const em = db.em();
    const tokens = new MikroOrmAccessTokenDatabase(em, MongoAccessToken);
    const store = new DatabaseSessionStore<string>({
      database: tokens as never,
      limits: { maxDataBytes, maxClaimsBytes: 4096 },
    });
    const users = new MikroOrmUserDatabase(em, MongoUser);
    const user = await users.create(userCreateData(`${Math.random()}@example.com`));
    return { store, userId: String(user.id) };
  }

  it("getData, setData and mergeData are one round trip each; mergeData is one findAndModify from the first merge on", async () => {
    const { store, userId } = await setup();
    const { session } = await store.createSession(userId, { data: { a: 1 } });
    const { handle } = session;
    expect(await trips(() => store.mergeSessionData(handle, { b: 2 }))).toEqual(["findAndModify"]);
    expect(await trips(() => store.getSessionData(handle))).toEqual(["find"]);
    expect(await trips(() => store.setSessionData(handle, { c: 3 }))).toEqual(["update"]);
    expect(await trips(() => store.mergeSessionData(handle, { d: 4, c: null }))).toEqual([
      "findAndModify",
    ]);
    expect(await store.getSessionData(handle)).toEqual({ d: 4 });
    const bare = (await store.createSession(userId)).session.handle;
    expect(await trips(() => store.mergeSessionData(bare, { k: "v" }))).toEqual(["findAndModify"]);
    expect(await store.getSessionData(bare)).toEqual({ k: "v" });
  });

  it("keys are stored escaped as core's toMongoJson does, nested values replaced whole, null deletes", async () => {
    const { store, userId } = await setup();
    const { session } = await store.createSession(userId, {
      data: { nested: { x: 1, y: 2 }, gone: true },
    });
    const patch = { "a.b": 1, $op: { "c.d": 2 }, "~t": "t", nested: { z: 3 }, gone: null };
    const want = { "a.b": 1, $op: { "c.d": 2 }, "~t": "t", nested: { z: 3 } };
    expect(await store.mergeSessionData(session.handle, patch)).toEqual(want);
    expect(await store.getSessionData(session.handle)).toEqual(want);
    const doc = await collection().findOne({ handle: session.handle });
    expect(doc?.data).toEqual({
      "~a%2eb": 1,
      "~%24op": { "~c%2ed": 2 },
      "~~t": "t",
      nested: { z: 3 },
    });
  });

  it("ASVS 5.0 7.3.1, 7.3.2: only a live session merges (idle expiry, absolute cap); an expired one is null, nothing written", async () => {
    const { userId } = await setup();
    let now = Date.UTC(2026, 0, 1);
    const store = new DatabaseSessionStore<string>({
      database: new MikroOrmAccessTokenDatabase(db.em(), MongoAccessToken) as never,
      clock: () => now,
      lifetimeSeconds: 60,
      maxLifetimeSeconds: 3600,
    });
    const { session } = await store.createSession(userId, { data: { a: 1 } });
    now += 60_000;
    expect(await store.mergeSessionData(session.handle, { b: 1 })).toBeNull();
    expect((await collection().findOne({ handle: session.handle }))?.data).toEqual({ a: 1 });
    await collection().updateOne(
      { handle: session.handle },
      { $set: { lifetime_seconds: 86_400, expires_at: new Date(now + 86_400_000) } },
    );
    now = Date.UTC(2026, 0, 1) + 3600_000;
    expect(await store.mergeSessionData(session.handle, { b: 1 })).toBeNull();
    expect((await collection().findOne({ handle: session.handle }))?.data).toEqual({ a: 1 });
  });

  it("the size bound: what data_bytes refuses is read then written exactly, SESSION_DATA_TOO_LARGE only when the exact merge is over; a row without data_bytes merges the same way, then in one round trip", async () => {
    const { store, userId } = await setup(100);
    const { session } = await store.createSession(userId, { data: { a: "x".repeat(60) } });
    const { handle } = session;
    const bytes = async () => (await collection().findOne({ handle }))?.data_bytes;
    expect(await bytes()).toBe(JSON.stringify({ a: "x".repeat(60) }).length);
    await expect(store.mergeSessionData(handle, { b: "y".repeat(40) })).rejects.toThrow(
      SessionDataTooLargeError,
    );
    const replace = { a: "z".repeat(60) };
    expect(await trips(() => store.mergeSessionData(handle, replace))).toEqual([
      "findAndModify",
      "find",
      "update",
    ]);
    expect(await store.getSessionData(handle)).toEqual(replace);
    expect(await bytes()).toBe(JSON.stringify(replace).length);
    // A document of an earlier release: no data_bytes, no expires_at.
    await collection().updateOne({ handle }, { $unset: { data_bytes: "", expires_at: "" } });
    expect(await store.mergeSessionData(handle, { a: null, s: 1 })).toEqual({ s: 1 });
    expect(await trips(() => store.mergeSessionData(handle, { t: 2 }))).toEqual(["findAndModify"]);
    expect(await store.getSessionData(handle)).toEqual({ s: 1, t: 2 });
  });

  it(`20 concurrent merges of distinct keys ${serverKind === "ferretdb" ? "(FerretDB v1 rewrites whole documents: some may be lost, none invented, data_bytes still bounds the data)" : "all land"}`, async () => {
    const { store, userId } = await setup();
    const { session } = await store.createSession(userId, { data: { base: true } });
    const { handle } = session;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.mergeSessionData(handle, { [`k${i}`]: i })),
    );
    for (const [i, result] of results.entries()) expect(result?.[`k${i}`]).toBe(i);
    const data = (await store.getSessionData(handle)) ?? {};
    const doc = await collection().findOne({ handle });
    expect(doc?.data_bytes).toBeGreaterThanOrEqual(JSON.stringify(data).length);
    expect(data.base).toBe(true);
    for (const [key, value] of Object.entries(data)) {
      if (key !== "base") expect(`k${value}`).toBe(key);
    }
    if (serverKind !== "ferretdb") expect(Object.keys(data)).toHaveLength(21);
  });
});
