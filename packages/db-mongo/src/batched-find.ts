// Lookups by `_id` (or by another field of Tessera's own strings, a session handle) of
// concurrent requests share one `find({ <field>: { $in } })` per collection and field,
// through `dataloader` (as db-mikroorm's lookups do), one batch on the wire at a time, sent
// from a timer. Why each choice, with its measurements: docs/packages/db-mongo.md, "Internals".
import DataLoader from "dataloader";
import type { ClientSession, Collection, Document, Filter, ObjectId, WithId } from "mongodb";

/** An `_id` value that can be batched: a string (digest, UUID) or an ObjectId. */
export type BatchableId = string | ObjectId;

/** The most ids one find carries; lookups beyond wait for the next. */
export const MAX_BATCH = 128;

/** Batches of one collection on the wire at once, while its server answers. */
export const MAX_IN_FLIGHT = 1;

/**
 * How long a batch on the wire holds the next one back at most: above a batch's time under
 * load, below the driver's outage timeouts, so an outage's 503s stay about a second.
 */
export const SLOT_LEASE_MS = 100;

/** The batches of one collection object: its loader and what is waiting to be sent. */
interface Lane {
  readonly loader: DataLoader<BatchableId, Document | null>;
  /** Batches closed by dataloader (full, or their turn over), oldest first, unsent. */
  readonly waiting: (() => void)[];
  /** Batches sent and not yet answered (or whose lease ran out). */
  sending: number;
  /** Whether a timer to send the next batches is pending. */
  timer: boolean;
  /** Whether the last batch failed: batches then go out without waiting for the wire. */
  failing: boolean;
}

// Per collection object and field: a collection carries its read preference, read concern
// and BSON options, so only lookups that would read alike share a command.
const lanes = new WeakMap<object, Map<string, Lane>>();

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
  return findByField(collection, "_id", id, session);
}

/**
 * The first document of `collection` whose `field` is `value`, or null: what
 * `findOne({ [field]: value })` reads, batched as {@link findById} batches (one
 * `find({ [field]: { $in } })` per turn and field). For fields holding values Tessera
 * makes and compares as they are (a session handle); `_id` is {@link findById}.
 */
export function findByField<T extends Document>(
  collection: Collection<T>,
  field: string,
  value: BatchableId,
  session: ClientSession | undefined,
): Promise<WithId<T> | null> {
  const filter = { [field]: value } as Filter<T>;
  if (session) return collection.findOne(filter, { session });
  if (idKey(value) === null) return collection.findOne(filter);
  return laneOf(collection as unknown as Collection<Document>, field).loader.load(
    value,
  ) as Promise<WithId<T> | null>;
}

function laneOf(collection: Collection<Document>, field: string): Lane {
  let byField = lanes.get(collection);
  if (!byField) {
    byField = new Map();
    lanes.set(collection, byField);
  }
  let lane = byField.get(field);
  if (!lane) {
    const created: Lane = {
      loader: new DataLoader((ids) => send(collection, field, created, ids), {
        cache: false,
        maxBatchSize: MAX_BATCH,
        // dataloader closes a batch when it is full or handed here; it goes out from our timer.
        batchScheduleFn: (dispatch) => {
          created.waiting.push(dispatch);
          schedule(created);
        },
      }),
      waiting: [],
      sending: 0,
      timer: false,
      failing: false,
    };
    lane = created;
    byField.set(field, lane);
  }
  return lane;
}

const inFlightLimit = (lane: Lane) => (lane.failing ? Number.POSITIVE_INFINITY : MAX_IN_FLIGHT);

/** Sends the waiting batches from a 0 ms timer, as far as the in-flight limit allows. */
function schedule(lane: Lane): void {
  if (lane.timer || lane.waiting.length === 0 || lane.sending >= inFlightLimit(lane)) return;
  lane.timer = true;
  setTimeout(() => {
    lane.timer = false;
    while (lane.waiting.length > 0 && lane.sending < inFlightLimit(lane)) {
      (lane.waiting.shift() as () => void)(); // dataloader calls `send` with the batch's ids
    }
    schedule(lane);
  }, 0);
}

/** Sends one batch, holding a slot until it is answered or its lease runs out. */
async function send(
  collection: Collection<Document>,
  field: string,
  lane: Lane,
  ids: readonly BatchableId[],
): Promise<(Document | null)[]> {
  lane.sending++;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    clearTimeout(lease);
    lane.sending--;
    schedule(lane);
  };
  // A command the driver never answers must not hold every later lookup of the collection.
  const lease = setTimeout(release, SLOT_LEASE_MS);
  lease.unref();
  try {
    const docs = await read(collection, field, ids);
    lane.failing = false;
    return docs;
  } catch (error) {
    lane.failing = true;
    throw error;
  } finally {
    release();
  }
}

/** The document of each id (in the callers' order), read by one command. */
async function read(
  collection: Collection<Document>,
  field: string,
  ids: readonly BatchableId[],
): Promise<(Document | null)[]> {
  const keys = ids.map(idKey) as string[];
  // One value per distinct id: requests with the same token or user share its read.
  const distinct: BatchableId[] = [];
  const seen = new Set<string>();
  ids.forEach((id, i) => {
    if (seen.has(keys[i] as string)) return;
    seen.add(keys[i] as string);
    distinct.push(id);
  });
  const byKey = new Map<string, Document>();
  if (distinct.length === 1) {
    const doc = await collection.findOne({ [field]: distinct[0] } as Filter<Document>);
    if (doc) byKey.set(keys[0] as string, doc);
  } else {
    // `limit` and `batchSize` keep the whole answer in the find's first reply (the server's
    // default first batch is 101 documents), with no cursor left open on the server. `_id`
    // is unique; another field may not be, so there every match is read (no limit).
    const unique = field === "_id";
    const docs = await collection
      .find({ [field]: { $in: distinct } } as Filter<Document>, {
        ...(unique ? { limit: distinct.length } : {}),
        batchSize: distinct.length,
      })
      .toArray();
    for (const doc of docs) {
      const key = idKey(doc[field]);
      if (key !== null && !byKey.has(key)) byKey.set(key, doc);
    }
  }
  // A document asked for by several callers goes to the first as read and to the others as
  // shallow copies, so a caller that changes its document does not change another's.
  const given = new Set<Document>();
  return keys.map((key) => {
    const doc = byKey.get(key);
    if (!doc) return null;
    if (given.has(doc)) return { ...doc };
    given.add(doc);
    return doc;
  });
}
