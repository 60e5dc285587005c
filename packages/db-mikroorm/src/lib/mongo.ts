// MongoDB reads and deletes: MikroORM's MongoConnection (find / aggregate / deleteMany take
// field names and native values), documents mapped by MikroORM's compiled result mapper.
// MongoDB-protocol servers without `$lookup` or `$expr` (FerretDB v1 answers
// NotImplemented, code 238) are detected on first use and served by a fallback.
import type { EntityManager, EntityProperty, Transaction } from "@mikro-orm/core";
import { type EntityModel, plainFromRow, type Row } from "./model.js";

type Entity = EntityModel["meta"]["class"];

/** The slice of MikroORM's MongoConnection this package uses. */
interface MongoConnection {
  find(
    entity: Entity,
    where: Row,
    opts?: { limit?: number; ctx?: Transaction; fields?: string[]; orderBy?: Row[] },
  ): Promise<Row[]>;
  aggregate(entity: Entity, pipeline: Row[], ctx?: Transaction): Promise<Row[]>;
  deleteMany(entity: Entity, where: Row, ctx?: Transaction): Promise<{ affectedRows: number }>;
  getClient(): object;
  getCollection(entity: Entity): MongoCollection;
}

/** The slice of the driver's Collection `mongoUpdateByHandle` uses. */
interface MongoCollection {
  updateOne(where: Row, update: Row, options: object): Promise<{ matchedCount: number }>;
  countDocuments(where: Row, options: object): Promise<number>;
  findOne(where: Row, options: object): Promise<Row | null>;
  findOneAndUpdate(where: Row, update: Row, options: object): Promise<Row | null>;
}

const conn = (em: EntityManager) => em.getConnection() as unknown as MongoConnection;
const trx = (em: EntityManager) => em.getTransactionContext();

// Per MongoClient: which optional server features answered NotImplemented.
const missing = new WeakMap<object, Set<string>>();

/** True when the server said it does not implement something (FerretDB v1: code 238). */
function isNotImplemented(error: unknown): boolean {
  const e = error as { code?: unknown; codeName?: unknown; message?: unknown };
  return (
    e?.code === 238 ||
    e?.codeName === "NotImplemented" ||
    e?.code === 40324 || // "Unrecognized pipeline stage name"
    e?.code === 168 // InvalidPipelineOperator
  );
}

/**
 * Runs `op` unless this server is known to lack `feature`; on NotImplemented, remembers
 * that and runs `fallback` (this time and from now on).
 */
async function withFallback<T>(
  em: EntityManager,
  feature: string,
  op: () => Promise<T>,
  fallback: () => Promise<T>,
): Promise<T> {
  const client = conn(em).getClient();
  if (missing.get(client)?.has(feature)) return fallback();
  try {
    return await op();
  } catch (error) {
    if (!isNotImplemented(error)) throw error;
    const set = missing.get(client) ?? new Set<string>();
    set.add(feature);
    missing.set(client, set);
    return fallback();
  }
}

/** Which optional features the server behind `em` was found to lack (for reports and tests). */
export function mongoMissingFeatures(em: EntityManager): string[] {
  return [...(missing.get(conn(em).getClient()) ?? [])];
}

/** One document whose `prop` equals `value`, as a plain object; null when there is none. */
export async function mongoFindOne(
  em: EntityManager,
  model: EntityModel,
  prop: EntityProperty,
  value: unknown,
): Promise<Row | null> {
  const field = prop.fieldNames[0] ?? prop.name;
  const [doc] = await conn(em).find(
    model.meta.class,
    { [field]: value },
    { limit: 1, ctx: trx(em) },
  );
  return doc ? plainFromRow(model, doc) : null;
}

/** Every document whose `prop` equals `value`, oldest `orderBy` first, as plain objects. */
export async function mongoFindMany(
  em: EntityManager,
  model: EntityModel,
  prop: EntityProperty,
  value: unknown,
  orderBy: EntityProperty,
): Promise<Row[]> {
  const field = prop.fieldNames[0] ?? prop.name;
  const sort = [{ [orderBy.fieldNames[0] ?? orderBy.name]: 1 }];
  const docs = await conn(em).find(
    model.meta.class,
    { [field]: value },
    { orderBy: sort, ctx: trx(em) },
  );
  return docs.map((doc) => plainFromRow(model, doc));
}

/**
 * A token and its user: one aggregation with `$lookup` where the server has it, else two
 * finds. A token whose user is gone reads as nothing.
 */
export async function mongoTokenWithUser(
  em: EntityManager,
  token: EntityModel,
  relation: EntityProperty,
  user: EntityModel,
  digest: string,
): Promise<{ token: Row; user: Row } | null> {
  const tokenPk = token.pk.fieldNames[0] ?? "_id";
  const localField = relation.fieldNames[0] ?? relation.name;
  const userPk = user.pk.fieldNames[0] ?? "_id";
  return withFallback(
    em,
    "$lookup",
    async () => {
      const [doc] = await conn(em).aggregate(
        token.meta.class,
        [
          { $match: { [tokenPk]: digest } },
          { $limit: 1 },
          {
            $lookup: { from: user.meta.collection, localField, foreignField: userPk, as: "__user" },
          },
        ],
        trx(em),
      );
      const userDoc = (doc?.__user as Row[] | undefined)?.[0];
      return doc && userDoc
        ? { token: plainFromRow(token, doc), user: plainFromRow(user, userDoc) }
        : null;
    },
    async () => {
      const [doc] = await conn(em).find(
        token.meta.class,
        { [tokenPk]: digest },
        { limit: 1, ctx: trx(em) },
      );
      if (!doc) return null;
      const [userDoc] = await conn(em).find(
        user.meta.class,
        { [userPk]: doc[localField] },
        { limit: 1, ctx: trx(em) },
      );
      return userDoc
        ? { token: plainFromRow(token, doc), user: plainFromRow(user, userDoc) }
        : null;
    },
  );
}

const BATCH = 500;

/**
 * Deletes the tokens expired at `now`: one `deleteMany` with `$expr` where the server has
 * it; else a scan of `created_at <= now` (projected to three fields) and deletes in batches,
 * each conditioned on the lifetime it read, so a renewal in between is not undone.
 */
export async function mongoDeleteExpired(
  em: EntityManager,
  model: EntityModel,
  now: Date,
): Promise<number> {
  const createdAt = model.meta.properties.createdAt?.fieldNames[0] ?? "created_at";
  const lifetime = model.meta.properties.lifetimeSeconds?.fieldNames[0] ?? "lifetime_seconds";
  const pk = model.pk.fieldNames[0] ?? "_id";
  return withFallback(
    em,
    "$expr",
    async () => {
      const expired = {
        $lte: [{ $add: [`$${createdAt}`, { $multiply: [`$${lifetime}`, 1000] }] }, now],
      };
      const res = await conn(em).deleteMany(model.meta.class, { $expr: expired }, trx(em));
      return res.affectedRows;
    },
    async () => {
      const docs = await conn(em).find(
        model.meta.class,
        { [createdAt]: { $lte: now } },
        { fields: [pk, createdAt, lifetime], ctx: trx(em) },
      );
      const expired = docs.filter(
        (d) => (d[createdAt] as Date).getTime() + Number(d[lifetime]) * 1000 <= now.getTime(),
      );
      let deleted = 0;
      for (let i = 0; i < expired.length; i += BATCH) {
        const or = expired
          .slice(i, i + BATCH)
          .map((d) => ({ [pk]: d[pk], [lifetime]: d[lifetime] }));
        deleted += (await conn(em).deleteMany(model.meta.class, { $or: or }, trx(em))).affectedRows;
      }
      return deleted;
    },
  );
}

/**
 * `$set`s `changes` (field names, stored form) on the document whose handle is `handle`, live
 * at `live.now` when given: first one `updateOne` filtered on `expires_at` where the entity
 * has it (a live row matches: one round trip), then one with `$expr` where the server has
 * it; else the document is read, checked here, and written only while its lifetime is still
 * the one read.
 */
export async function mongoUpdateByHandle(
  em: EntityManager,
  model: EntityModel,
  handle: string,
  changes: Row,
  live: { now: Date; maxLifetimeSeconds: number } | undefined,
): Promise<boolean> {
  const field = (name: string, fallback: string) =>
    model.meta.properties[name]?.fieldNames[0] ?? fallback;
  const createdAt = field("createdAt", "created_at");
  const lifetime = field("lifetimeSeconds", "lifetime_seconds");
  const set: Row = {};
  for (const [key, value] of Object.entries(changes)) set[field(key, key)] = value;
  const collection = conn(em).getCollection(model.meta.class);
  const session = trx(em);
  const options = session ? { session } : {};
  const filter: Row = { [field("handle", "handle")]: handle };
  const write = async (where: Row) =>
    Object.keys(set).length === 0
      ? (await collection.countDocuments(where, { ...options, limit: 1 })) > 0
      : (await collection.updateOne(where, { $set: set }, options)).matchedCount > 0;
  if (!live) return write(filter);
  const { now } = live;
  filter[createdAt] = { $gt: new Date(now.getTime() - live.maxLifetimeSeconds * 1000) };
  // One round trip for a live row on every server where the entity keeps `expires_at`; no
  // match (expired, unknown, or `expires_at` absent or behind): the exact check below.
  if (model.meta.properties.expiresAt) {
    const expiresAt = field("expiresAt", "expires_at");
    if (await write({ ...filter, [expiresAt]: { $gt: now } })) return true;
  }
  return withFallback(
    em,
    "$expr",
    () =>
      write({
        ...filter,
        $expr: { $gt: [{ $add: [`$${createdAt}`, { $multiply: [`$${lifetime}`, 1000] }] }, now] },
      }),
    async () => {
      const pk = model.pk.fieldNames[0] ?? "_id";
      const doc = await collection.findOne(filter, {
        ...options,
        projection: { [pk]: 1, [createdAt]: 1, [lifetime]: 1 },
      });
      if (!doc) return false;
      const seconds = Number(doc[lifetime]);
      if ((doc[createdAt] as Date).getTime() + seconds * 1000 <= now.getTime()) return false;
      return write({ [pk]: doc[pk], [lifetime]: doc[lifetime] });
    },
  );
}

/**
 * `$set`s `changes` on the one document matching `where` (both by property name, values
 * in stored form): one `updateOne`, true when a document matched. The server applies filter
 * and update atomically per document (FerretDB v1 reads then writes: not atomic there).
 */
export async function mongoUpdateWhere(
  em: EntityManager,
  model: EntityModel,
  where: Row,
  changes: Row,
): Promise<boolean> {
  const field = (name: string) => model.meta.properties[name]?.fieldNames[0] ?? name;
  const filter: Row = {};
  for (const [key, value] of Object.entries(where)) filter[field(key)] = value;
  const set: Row = {};
  for (const [key, value] of Object.entries(changes)) set[field(key)] = value;
  const session = trx(em);
  const collection = conn(em).getCollection(model.meta.class);
  const result = await collection.updateOne(filter, { $set: set }, session ? { session } : {});
  return result.matchedCount > 0;
}

/** The UTF-8 bytes of a value's JSON, as the session store measures session data. */
export const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

/**
 * Whether the token entity has the two fields {@link mongoMergeData} needs (`dataBytes`,
 * `expiresAt`: `MongoAccessToken` has them) on MongoDB.
 */
export const canMergeOnMongo = (model: EntityModel): boolean =>
  model.mongo && !!model.meta.properties.dataBytes && !!model.meta.properties.expiresAt;

/**
 * mergeDataByHandle on MongoDB, with plain update operators only (FerretDB v1 has no update
 * pipelines and no `$expr`): one `findOneAndUpdate` that `$set`s / `$unset`s
 * `data.<escaped key>` per patch key (`patch` and `escaped` are the same keys, as given and
 * as stored), filtered on the handle, `created_at` (the cap), `expires_at` (the idle expiry)
 * and `data_bytes <= maxBytes - grows`, where `grows` bounds what the keys set add (`"key":value,`
 * each), and raising `data_bytes` by it. The stored data (escaped), or null when nothing
 * matched: no live row, over the bound as `data_bytes` counts, or a document without those
 * fields.
 */
export async function mongoMergeData(
  em: EntityManager,
  model: EntityModel,
  handle: string,
  patch: Row,
  escaped: Row,
  maxBytes: number,
  live: { now: Date; maxLifetimeSeconds: number },
): Promise<Row | null> {
  const field = (name: string, fallback: string) =>
    model.meta.properties[name]?.fieldNames[0] ?? fallback;
  const data = field("data", "data");
  const dataBytes = field("dataBytes", "data_bytes");
  const $set: Row = {};
  const $unset: Row = {};
  for (const [key, value] of Object.entries(escaped)) {
    if (value === null) $unset[`${data}.${key}`] = "";
    else $set[`${data}.${key}`] = value;
  }
  let grows = 0;
  for (const [key, value] of Object.entries(patch)) {
    if (value !== null) grows += jsonBytes(key) + 1 + jsonBytes(value) + 1;
  }
  const filter: Row = {
    [field("handle", "handle")]: handle,
    [field("createdAt", "created_at")]: {
      $gt: new Date(live.now.getTime() - live.maxLifetimeSeconds * 1000),
    },
    [field("expiresAt", "expires_at")]: { $gt: live.now },
    [dataBytes]: { $lte: maxBytes - grows },
  };
  const update: Row = { $inc: { [dataBytes]: grows } };
  if (Object.keys($set).length > 0) update.$set = $set;
  if (Object.keys($unset).length > 0) update.$unset = $unset;
  const session = trx(em);
  // No projection: FerretDB v1's findAndModify has no `fields`.
  const doc = await conn(em)
    .getCollection(model.meta.class)
    .findOneAndUpdate(filter, update, { ...(session ? { session } : {}), returnDocument: "after" });
  return doc ? ((doc[data] as Row | null | undefined) ?? {}) : null;
}
