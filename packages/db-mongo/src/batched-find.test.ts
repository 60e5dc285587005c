import { ServiceUnavailableError } from "@tessera/core";
import { type ClientSession, type Document, MongoNetworkError, ObjectId } from "mongodb";
import { describe, expect, it, vi } from "vitest";
import { findById, MAX_BATCH, MAX_IN_FLIGHT, SLOT_LEASE_MS } from "./batched-find.js";
import { MongoAccessTokenDatabase } from "./mongo-access-token-database.js";
import { MongoUserDatabase } from "./mongo-user-database.js";

// The batching itself, against a scripted collection: which commands are sent and how
// their answers are handed out. test/db-mongo/batching.test.ts runs the adapters'
// batched reads against the harness's server.

interface Sent {
  method: "findOne" | "find";
  filter: Document;
  options: Document | undefined;
}

/**
 * A collection holding `docs`, answering findOne/find by `_id` ($in) as a server would;
 * `fail` may make a command fail, and each answer waits for `held` when set.
 */
function scripted(docs: Document[], fail?: () => Error | null) {
  const sent: Sent[] = [];
  const state: { held?: Promise<void> } = {};
  const matches = (filter: Document) => (doc: Document) => {
    const wanted: unknown[] = filter._id?.$in ?? [filter._id];
    return wanted.some((id) =>
      id instanceof ObjectId
        ? doc._id instanceof ObjectId && doc._id.equals(id)
        : typeof doc._id === "string" && doc._id === id,
    );
  };
  const collection = {
    dbName: "app",
    collectionName: "things",
    async findOne(filter: Document, options?: Document) {
      sent.push({ method: "findOne", filter, options });
      await state.held;
      const error = fail?.();
      if (error) throw error;
      return docs.find(matches(filter)) ?? null;
    },
    find(filter: Document, options?: Document) {
      sent.push({ method: "find", filter, options });
      return {
        async toArray() {
          await state.held;
          const error = fail?.();
          if (error) throw error;
          return docs.filter(matches(filter));
        },
      };
    },
  };
  return { sent, state, collection: collection as never };
}

/** After the batch timer of lookups asked before (timers of equal delay run in order). */
const nextTurn = () => new Promise((resolve) => setTimeout(resolve, 0));

const hex = (n: number) => n.toString(16).padStart(64, "0");

describe("findById", () => {
  it("sends the lookups of one turn as one find with $in of the distinct ids; each caller gets its own document", async () => {
    const docs = [{ _id: hex(1), n: 1 }, { _id: hex(2), n: 2 }, { _id: hex(3) }];
    const { sent, collection } = scripted(docs);
    const asked = [hex(1), hex(2), hex(9), hex(1), hex(3), hex(8)];
    const found = await Promise.all(asked.map((id) => findById(collection, id, undefined)));
    expect(found).toEqual([docs[0], docs[1], null, docs[0], docs[2], null]);
    expect(sent).toEqual([
      {
        method: "find",
        filter: { _id: { $in: [hex(1), hex(2), hex(9), hex(3), hex(8)] } },
        options: { limit: 5, batchSize: 5 },
      },
    ]);
  });

  it("a lone lookup is findOne({ _id }); several callers of one id share one findOne", async () => {
    const doc = { _id: hex(1), tags: ["a"] };
    const { sent, collection } = scripted([doc]);
    expect(await findById(collection, hex(1), undefined)).toBe(doc);
    const [a, b] = await Promise.all([
      findById(collection, hex(1), undefined),
      findById(collection, hex(1), undefined),
    ]);
    expect(sent).toEqual([
      { method: "findOne", filter: { _id: hex(1) }, options: undefined },
      { method: "findOne", filter: { _id: hex(1) }, options: undefined },
    ]);
    // Each caller has a document of its own (fields may be changed freely).
    expect(a).toEqual(doc);
    expect(b).toEqual(doc);
    expect(a).not.toBe(b);
  });

  it("matches ids by BSON type and value: an ObjectId never gets a string _id spelled alike", async () => {
    const oid = new ObjectId();
    const other = new ObjectId();
    const docs = [
      { _id: oid.toHexString(), kind: "string" },
      { _id: other, kind: "objectId" },
    ];
    const { collection } = scripted(docs);
    const found = await Promise.all([
      findById(collection, new ObjectId(oid.toHexString()), undefined),
      findById(collection, oid.toHexString(), undefined),
      findById(collection, new ObjectId(other.toHexString()), undefined),
      findById(collection, other.toHexString(), undefined),
    ]);
    expect(found).toEqual([null, docs[0], docs[1], null]);
  });

  it(`sends at most ${MAX_BATCH} lookups per find; later ones go in the next`, async () => {
    const { sent, collection } = scripted([{ _id: hex(299) }]);
    const found = await Promise.all(
      Array.from({ length: 300 }, (_, i) => findById(collection, hex(i), undefined)),
    );
    expect(found.filter(Boolean)).toEqual([{ _id: hex(299) }]);
    expect(sent.map((s) => s.filter._id.$in.length)).toEqual([128, 128, 44]);
  });

  it(`while a batch is on the wire (at most ${MAX_IN_FLIGHT}), lookups of later turns collect into the next one`, async () => {
    const { sent, state, collection } = scripted([{ _id: hex(1) }, { _id: hex(4) }]);
    let release = () => {};
    state.held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const first = [hex(1), hex(2)].map((id) => findById(collection, id, undefined));
    await nextTurn();
    expect(sent).toHaveLength(1); // the first batch is out, unanswered
    const second = [findById(collection, hex(3), undefined)];
    await nextTurn();
    second.push(findById(collection, hex(4), undefined), findById(collection, hex(5), undefined));
    await nextTurn();
    expect(sent).toHaveLength(1); // still waiting for the first
    release();
    expect(await Promise.all(first)).toEqual([{ _id: hex(1) }, null]);
    expect(await Promise.all(second)).toEqual([null, { _id: hex(4) }, null]);
    expect(sent.map((s) => s.filter)).toEqual([
      { _id: { $in: [hex(1), hex(2)] } },
      { _id: { $in: [hex(3), hex(4), hex(5)] } },
    ]);
  });

  it(`a batch unanswered after ${SLOT_LEASE_MS} ms no longer holds the next one back`, async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const { sent, state, collection } = scripted([]);
      state.held = new Promise<void>(() => {}); // a command the driver never answers
      const stuck = findById(collection, hex(1), undefined);
      await vi.advanceTimersByTimeAsync(0);
      expect(sent).toHaveLength(1);
      state.held = undefined;
      const next = findById(collection, hex(2), undefined);
      await vi.advanceTimersByTimeAsync(SLOT_LEASE_MS - 1);
      expect(sent).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(10); // the lease ends, then the next batch's timer
      expect(sent).toHaveLength(2);
      expect(await next).toBeNull();
      expect(sent.map((s) => s.filter)).toEqual([{ _id: hex(1) }, { _id: hex(2) }]);
      void stuck;
    } finally {
      vi.useRealTimers();
    }
  });

  it("after a failed batch, batches go out without waiting for the one on the wire (an outage's 503s stay fast); a success restores the limit", async () => {
    let failing = true;
    const { sent, state, collection } = scripted([{ _id: hex(9) }], () =>
      failing ? new MongoNetworkError("connection refused") : null,
    );
    await expect(findById(collection, hex(1), undefined)).rejects.toThrow(MongoNetworkError);
    // The server is still down: the next batch is out, unanswered (waiting out a timeout).
    let release = () => {};
    state.held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const waiting = findById(collection, hex(2), undefined);
    await nextTurn();
    expect(sent).toHaveLength(2);
    const meanwhile = findById(collection, hex(3), undefined);
    await nextTurn();
    expect(sent).toHaveLength(3); // not held back by the batch on the wire
    failing = false;
    release();
    expect(await waiting).toBeNull();
    expect(await meanwhile).toBeNull();
    // Healthy again: one batch on the wire at a time.
    state.held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const a = findById(collection, hex(9), undefined);
    await nextTurn();
    const b = findById(collection, hex(4), undefined);
    await nextTurn();
    expect(sent).toHaveLength(4);
    release();
    expect(await a).toEqual({ _id: hex(9) });
    expect(await b).toBeNull();
    expect(sent).toHaveLength(5);
  });

  it("lookups of different turns, or on different collections, do not share a command", async () => {
    const a = scripted([]);
    const b = scripted([]);
    await Promise.all([
      findById(a.collection, hex(1), undefined),
      findById(b.collection, hex(2), undefined),
    ]);
    await findById(a.collection, hex(3), undefined);
    expect(a.sent.map((s) => s.filter)).toEqual([{ _id: hex(1) }, { _id: hex(3) }]);
    expect(b.sent.map((s) => s.filter)).toEqual([{ _id: hex(2) }]);
  });

  it("a failed find rejects every caller with its error; the next turn sends anew", async () => {
    let down = true;
    const failure = new MongoNetworkError("connection reset");
    const { sent, collection } = scripted([{ _id: hex(1) }], () => (down ? failure : null));
    const results = await Promise.allSettled(
      [hex(1), hex(2), hex(1)].map((id) => findById(collection, id, undefined)),
    );
    expect(results).toEqual(Array(3).fill({ status: "rejected", reason: failure }));
    down = false;
    expect(await findById(collection, hex(1), undefined)).toEqual({ _id: hex(1) });
    expect(sent.map((s) => s.method)).toEqual(["find", "findOne"]);
  });

  it("with a session each lookup is the caller's own findOne, in the session, at once", async () => {
    const session = { id: "s" } as unknown as ClientSession;
    const { sent, collection } = scripted([{ _id: hex(1) }]);
    await Promise.all([
      findById(collection, hex(1), session),
      findById(collection, hex(2), session),
    ]);
    expect(sent).toEqual([
      { method: "findOne", filter: { _id: hex(1) }, options: { session } },
      { method: "findOne", filter: { _id: hex(2) }, options: { session } },
    ]);
  });
});

describe("the adapters' batched reads", () => {
  const userA = {
    _id: new ObjectId(),
    email: "a@x",
    hashed_password: "h",
    is_active: true,
    is_superuser: false,
    is_verified: true,
  };
  const userB = { ...userA, _id: new ObjectId(), email: "b@x" };
  const token = (n: number, user: { _id: ObjectId }) => ({
    _id: hex(n),
    user_id: user._id,
    created_at: new Date("2030-01-01T00:00:00.000Z"),
    lifetime_seconds: 60,
  });

  function adapters(fail?: () => Error) {
    const users = scripted([userA, userB], fail);
    const tokens = scripted([token(1, userA), token(2, userB), token(3, userA)], fail);
    const userDb = new MongoUserDatabase(users.collection);
    const tokenDb = new MongoAccessTokenDatabase(tokens.collection, { users: userDb });
    return { users, tokens, userDb, tokenDb };
  }

  it("getByToken and users.get of one turn share one find per collection", async () => {
    const { users, tokens, userDb, tokenDb } = adapters();
    const [t1, t2, missing, u1, u2, gone] = await Promise.all([
      tokenDb.getByToken(hex(1)),
      tokenDb.getByToken(hex(2)),
      tokenDb.getByToken(hex(7)),
      userDb.get(userA._id.toHexString()),
      userDb.get(userB._id.toHexString()),
      userDb.get(new ObjectId().toHexString()),
    ]);
    expect([t1?.userId, t2?.userId, missing]).toEqual([
      userA._id.toHexString(),
      userB._id.toHexString(),
      null,
    ]);
    expect([u1?.email, u2?.email, gone]).toEqual(["a@x", "b@x", null]);
    expect(tokens.sent.map((s) => s.method)).toEqual(["find"]);
    expect(users.sent.map((s) => s.method)).toEqual(["find"]);
  });

  it("an outage during a batch is ServiceUnavailableError for every caller, caused by the one failure", async () => {
    const failure = new MongoNetworkError("connection reset");
    const { users, tokens, userDb, tokenDb } = adapters(() => failure);
    const results = await Promise.allSettled([
      tokenDb.getByToken(hex(1)),
      tokenDb.getByToken(hex(2)),
      userDb.get(userA._id.toHexString()),
      userDb.get(userB._id.toHexString()),
    ]);
    for (const result of results) {
      expect(result.status).toBe("rejected");
      const reason = (result as PromiseRejectedResult).reason;
      expect(reason).toBeInstanceOf(ServiceUnavailableError);
      expect(reason.cause).toBe(failure);
    }
    expect(tokens.sent).toHaveLength(1);
    expect(users.sent).toHaveLength(1);
  });

  it("an adapter made with a session does not batch", async () => {
    const session = { id: "s" } as unknown as ClientSession;
    const users = scripted([userA, userB]);
    const userDb = new MongoUserDatabase(users.collection, { session });
    await Promise.all([userDb.get(userA._id.toHexString()), userDb.get(userB._id.toHexString())]);
    expect(users.sent.map((s) => [s.method, s.options])).toEqual([
      ["findOne", { session }],
      ["findOne", { session }],
    ]);
  });
});
