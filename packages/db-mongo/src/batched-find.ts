// Lookups by `_id` shared across requests. Every authenticated request reads its token by
// `_id` (the digest), and on servers without `$lookup` its user by `_id`; the driver's CPU
// per command (measured at 230-540 µs) and the server's cost per command dominate such a
// read. So the lookups asked in one event-loop turn go to the server as one
// `find({ _id: { $in } })` per collection, and each caller gets the document its own
// `findOne({ _id })` would have read. The design is @tessera/db-mikroorm's
// `queryOneBatched` (src/lib/query-one.ts), with two differences, both measured on FerretDB
// v1 (docs/packages/db-mongo.md, "Batched lookups"):
//
// - One batch per collection on the wire at a time: lookups asked meanwhile collect into
//   the next. FerretDB v1 pushes only a single `_id` equality down to SQLite; an `$in` is
//   filtered in Go over every document of the collection (15 ms at 1,000 documents against
//   2.3 ms for one `_id` find), so a small batch every turn was slower than no batching.
// - The batch is sent from a 0 ms timer, not `setImmediate`. Both run after the poll phase,
//   but the check phase (setImmediate) also runs after a pooled socket whose peer closed it
//   was destroyed and before its 'close' is handled (close-callbacks phase); a command the
//   driver (mongodb 7.9) writes then waits forever for 'drain'. Seen as a hung read in
//   test/conformance/mongo-outage.test.ts, and in isolation 2 of 12 times against 0 of 42
//   from a timer. The timer costs about 1 ms of latency when the process is idle.
import type { ClientSession, Collection, Document, Filter, ObjectId, WithId } from "mongodb";

/** An `_id` value that can be batched: a string (digest, UUID) or an ObjectId. */
export type BatchableId = string | ObjectId;

// Sharing one command cuts the driver's and the server's cost per command; more lookups
// per batch than this wait for the next one (one reply stays far below BSON's 16 MB).
export const MAX_BATCH = 128;

// At most this many batches of one collection are on the wire at once; lookups asked
// meanwhile collect into the next batch, sent when one comes back. (2 measured 25-35% fewer
// requests per second than 1 on FerretDB v1.)
export const MAX_IN_FLIGHT = 1;

// How long a batch on the wire keeps the next one waiting at most: above an `$in` batch's
// time on FerretDB v1 under load (a full scan of 1,000 documents: 15-60 ms), far below the
// driver's outage timeouts (1 s with fastFailClientOptions). While the server is down each
// batch waits those timeouts out; with a longer lease, every batch would also wait for the
// ones before it, and a request's 503 would come after seconds instead of about one.
export const SLOT_LEASE_MS = 100;

interface Waiter {
  readonly id: BatchableId;
  readonly key: string;
  readonly resolve: (doc: Document | null) => void;
  readonly reject: (error: unknown) => void;
}

/** The lookups of one collection object that wait to be sent, and how many batches are out. */
interface Lane {
  readonly collection: Collection<Document>;
  /** The batch collecting callers, not yet full. */
  collecting: Waiter[] | undefined;
  /** Full batches (MAX_BATCH callers) waiting for their turn, oldest first. */
  readonly full: Waiter[][];
  /** Batches sent and not yet answered. */
  sending: number;
  /** Whether a timer to send the next batch is pending. */
  scheduled: boolean;
}

// Collections whose last batch failed. Their batches go out without waiting for the ones on
// the wire (MAX_IN_FLIGHT is for a healthy server): during an outage every batch only waits
// out the driver's own timeouts, so each request's 503 comes as fast as an unbatched
// lookup's. The first success restores the limit. Kept apart from the lanes, which are
// forgotten whenever nothing waits.
const failing = new WeakSet<object>();

// Per collection object: a collection carries its read preference, read concern and BSON
// options, so only lookups that would read alike share a command. An entry lives while
// lookups wait or are on the wire, and is removed once its last batch is answered.
const lanes = new WeakMap<object, Lane>();

const isObjectId = (value: unknown): value is ObjectId =>
  typeof value === "object" &&
  value !== null &&
  (value as { _bsontype?: unknown })._bsontype === "ObjectId" &&
  typeof (value as { toHexString?: unknown }).toHexString === "function";

/**
 * How a stored `_id` is matched to the callers that asked for it: its BSON type and its
 * canonical string (an ObjectId's 24 hex digits, a string as it is), so a string `_id`
 * spelled like an ObjectId never answers an ObjectId lookup, nor the reverse. Null for
 * any other type, which no batched lookup asks for.
 */
export function idKey(value: unknown): string | null {
  if (typeof value === "string") return `s:${value}`;
  if (isObjectId(value)) return `o:${value.toHexString()}`;
  return null;
}

/**
 * The document of `collection` whose `_id` is `id`, or null: what `findOne({ _id: id })`
 * reads. Without a session, the lookups on the same collection object that are asked in
 * one event-loop turn share one `find({ _id: { $in: [...] } })`, sent once the turn is over
 * (after the poll phase: by then every request whose bytes arrived in it has asked); while
 * a batch is on the wire, new lookups collect into the next one. A lone lookup is sent as
 * `findOne({ _id })`; callers asking for the same `_id` share one read. Nothing is cached:
 * each read is sent after its caller asked. A failed command rejects every caller with its
 * error (the adapters' `runDriver` maps outages per caller). With a session (its causal
 * order, or a transaction) the lookup is the caller's own `findOne`, sent at once.
 */
export function findById<T extends Document>(
  collection: Collection<T>,
  id: BatchableId,
  session: ClientSession | undefined,
): Promise<WithId<T> | null> {
  if (session) return collection.findOne({ _id: id } as Filter<T>, { session });
  const key = idKey(id);
  if (key === null) return collection.findOne({ _id: id } as Filter<T>);
  let lane = lanes.get(collection);
  if (!lane) {
    lane = {
      collection: collection as unknown as Collection<Document>,
      collecting: undefined,
      full: [],
      sending: 0,
      scheduled: false,
    };
    lanes.set(collection, lane);
  }
  let waiters = lane.collecting;
  if (!waiters) {
    waiters = [];
    lane.collecting = waiters;
  }
  if (waiters.length + 1 >= MAX_BATCH) {
    lane.full.push(waiters);
    lane.collecting = undefined;
  }
  schedule(lane);
  return new Promise<Document | null>((resolve, reject) => {
    (waiters as Waiter[]).push({ id, key, resolve, reject });
  }) as Promise<WithId<T> | null>;
}

/** Sends the next batch once this turn is over, if a slot is free and a batch waits. */
/** How many batches of the lane's collection may be on the wire now. */
const inFlightLimit = (lane: Lane) =>
  failing.has(lane.collection) ? Number.POSITIVE_INFINITY : MAX_IN_FLIGHT;

function schedule(lane: Lane): void {
  if (lane.scheduled || lane.sending >= inFlightLimit(lane)) return;
  if (lane.full.length === 0 && !lane.collecting) {
    // Nothing waits and nothing is out: the lane is forgotten until the next lookup.
    if (lane.sending === 0 && lanes.get(lane.collection) === lane) lanes.delete(lane.collection);
    return;
  }
  lane.scheduled = true;
  setTimeout(sendNext, 0, lane);
}

function sendNext(lane: Lane): void {
  lane.scheduled = false;
  const limit = inFlightLimit(lane);
  while (lane.sending < limit) {
    let waiters = lane.full.shift();
    if (!waiters) {
      waiters = lane.collecting;
      lane.collecting = undefined;
    }
    if (!waiters) break;
    lane.sending++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      clearTimeout(lease);
      lane.sending--;
      schedule(lane);
    };
    // A command the driver never answers (mongodb 7.9 can wait forever for a socket that
    // died) must not hold every later lookup of the collection: after the lease the slot
    // is free again, and only this batch's callers still wait for their answer.
    const lease = setTimeout(release, SLOT_LEASE_MS);
    lease.unref();
    void send(lane.collection, waiters).then((ok) => {
      if (ok) failing.delete(lane.collection);
      else failing.add(lane.collection);
      release();
    });
  }
  schedule(lane);
}

/** Sends one batch and answers its waiters; resolves with whether the command succeeded. */
async function send(collection: Collection<Document>, waiters: Waiter[]): Promise<boolean> {
  try {
    // One value per distinct id: requests with the same token or user share its read.
    const ids: BatchableId[] = [];
    const seen = new Set<string>();
    for (const waiter of waiters) {
      if (seen.has(waiter.key)) continue;
      seen.add(waiter.key);
      ids.push(waiter.id);
    }
    if (ids.length === 1) {
      const doc = await collection.findOne({ _id: ids[0] } as Filter<Document>);
      resolveAll(waiters, () => doc);
      return true;
    }
    // `limit` and `batchSize` keep the whole answer in the find's first reply (the server's
    // default first batch is 101 documents), with no cursor left open on the server.
    const docs = await collection
      .find({ _id: { $in: ids } } as Filter<Document>, { limit: ids.length, batchSize: ids.length })
      .toArray();
    const byKey = new Map<string, Document>();
    for (const doc of docs) {
      const key = idKey(doc._id);
      if (key !== null && !byKey.has(key)) byKey.set(key, doc);
    }
    resolveAll(waiters, (waiter) => byKey.get(waiter.key) ?? null);
    return true;
  } catch (error) {
    for (const waiter of waiters) waiter.reject(error);
    return false;
  }
}

/**
 * Hands each waiter its document. A document asked for by several waiters goes to the
 * first as read and to the others as shallow copies, so a caller (or an app's `toUser`)
 * that changes its document's fields does not change another request's.
 */
function resolveAll(waiters: Waiter[], docFor: (waiter: Waiter) => Document | null): void {
  const given = new Set<Document>();
  for (const waiter of waiters) {
    const doc = docFor(waiter);
    if (doc === null) {
      waiter.resolve(null);
    } else if (given.has(doc)) {
      waiter.resolve({ ...doc });
    } else {
      given.add(doc);
      waiter.resolve(doc);
    }
  }
}
