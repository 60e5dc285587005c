import {
  type AccessTokenCreate,
  type AccessTokenDatabase,
  type AccessTokenProtocol,
  type AccessTokenRotation,
  type AccessTokenUpdate,
  type AccessTokenWithUserReader,
  ConfigurationError,
  InvalidIDError,
  type JsonObject,
  type UserProtocol,
} from "@tessera/core";
import { fromMongoJson, toMongoJson } from "@tessera/core/internal";
import type { ClientSession, Collection, Filter } from "mongodb";
import { findByField, findById } from "./batched-find.js";
import { withFeature } from "./capabilities.js";
import { runDriver } from "./driver-errors.js";
import { deleteExpiredByScan, expiredFilter, liveFilter } from "./expired-tokens.js";
import { ensureIndex, ensureTtlIndex, type MongoTtlIndexStatus } from "./indexes.js";
import { expiresAt, jsonBytes, mergeWrite } from "./merge-data.js";
import type { MongoUserDatabase } from "./mongo-user-database.js";
import {
  fromTokenDocument,
  isDigest,
  type MongoAccessTokenDocument,
  SESSION_FIELDS,
  tokenUpdateSet,
} from "./token-document.js";
import type { MongoUser, MongoUserDocument } from "./user-document.js";

/**
 * Options of {@link MongoAccessTokenDatabase}.
 *
 * @example
 * const tokens = new MongoAccessTokenDatabase(tokenCollection, { users });
 */
export interface MongoAccessTokenDatabaseOptions<U extends UserProtocol<string>> {
  /**
   * The users adapter: gives the id type, and the collection `getByTokenWithUser` joins
   * with (`$lookup`), which must be in the same database as the tokens.
   */
  users: MongoUserDatabase<U>;
  /**
   * A session every operation runs in; see `MongoUserDatabaseOptions.session`.
   * @default undefined
   */
  session?: ClientSession;
}

/**
 * Options of {@link MongoAccessTokenDatabase.ensureIndexes}.
 *
 * @example
 * await tokens.ensureIndexes({ maxLifetimeSeconds: 30 * 24 * 3600 });
 */
export interface MongoAccessTokenIndexOptions {
  /**
   * When set, a TTL index on `created_at` lets the server delete tokens this many seconds
   * after creation. Set it to the strategy's absolute cap (`DatabaseStrategy`'s
   * `maxLifetimeSeconds`), never less: sliding renewal extends `lifetime_seconds`, not
   * `created_at`, so a shorter TTL would log out active users.
   * @default undefined (no TTL index; run `deleteExpired` on a schedule)
   */
  maxLifetimeSeconds?: number;
}

/**
 * What {@link MongoAccessTokenDatabase.ensureIndexes} did about the TTL index.
 *
 * @example
 * const { ttl } = await tokens.ensureIndexes({ maxLifetimeSeconds });
 * if (ttl === "unsupported") scheduleDeleteExpired(); // FerretDB v1
 */
export interface MongoAccessTokenIndexReport {
  /** `"active"`, `"unsupported"` (no TTL indexes on this server) or `"disabled"`. */
  ttl: MongoTtlIndexStatus;
}

/** `getByTokenWithUser`'s answer: the token row and its user, read together. */
export interface MongoAccessTokenWithUser<U> {
  accessToken: AccessTokenProtocol<string>;
  user: U;
}

type TokenRow = MongoAccessTokenDocument & { user?: MongoUserDocument[] };

/**
 * An {@link AccessTokenDatabase} on a MongoDB collection, with a one-round-trip
 * `getByTokenWithUser` (an aggregation with `$lookup` into the users collection).
 *
 * A token is stored with its digest as `_id` (see {@link MongoAccessTokenDocument}), so
 * every lookup by digest is an `_id` equality and `_id`'s own unique index refuses a
 * digest stored twice (the driver's E11000, rethrown as it is).
 *
 * On servers without `$lookup` (FerretDB v1) `getByTokenWithUser` reads the token, then the
 * user: two round trips. On servers without `$expr` (FerretDB v1) `deleteExpired` scans the
 * tokens created before `now` and deletes the expired ones by `_id`. Each is detected from
 * the server's NotImplemented answer once and remembered for the collection.
 *
 * @example
 * const tokenCollection = db.collection<MongoAccessTokenDocument>("access_tokens");
 * const tokens = new MongoAccessTokenDatabase(tokenCollection, { users });
 * await tokens.ensureIndexes({ maxLifetimeSeconds: 30 * 24 * 3600 });
 * const strategy = new DatabaseStrategy({ database: tokens, maxLifetimeSeconds: 30 * 24 * 3600 });
 */
export class MongoAccessTokenDatabase<U extends UserProtocol<string> = MongoUser>
  implements
    AccessTokenDatabase<AccessTokenProtocol<string>, string>,
    AccessTokenWithUserReader<AccessTokenProtocol<string>, U, string>
{
  /** The access-token collection. */
  readonly collection: Collection<MongoAccessTokenDocument>;
  private readonly users: MongoUserDatabase<U>;
  private readonly session: ClientSession | undefined;

  constructor(
    collection: Collection<MongoAccessTokenDocument>,
    options: MongoAccessTokenDatabaseOptions<U>,
  ) {
    if (options.users.collection.dbName !== collection.dbName) {
      throw new ConfigurationError(
        `$lookup joins within one database: tokens are in "${collection.dbName}", ` +
          `users in "${options.users.collection.dbName}"`,
      );
    }
    this.collection = collection;
    this.users = options.users;
    this.session = options.session;
  }

  /**
   * The token row with this digest, or null (also for a non-string digest, without
   * querying). Without a session, the lookups of one event-loop turn share one
   * `find({ _id: { $in } })` (see the package docs, "Batched lookups").
   */
  async getByToken(digest: string): Promise<AccessTokenProtocol<string> | null> {
    if (!isDigest(digest)) return null;
    const doc = await runDriver(() => findById(this.collection, digest, this.session));
    return doc ? fromTokenDocument(doc) : null;
  }

  /**
   * The token row and its user in one round trip (`$lookup`, one aggregate per call); null
   * when either is missing. Where `$lookup` is missing (FerretDB v1): `getByToken`, then
   * the users adapter's `get`, each batched with the other requests of its event-loop turn.
   */
  async getByTokenWithUser(digest: string): Promise<MongoAccessTokenWithUser<U> | null> {
    if (!isDigest(digest)) return null;
    return runDriver(() =>
      withFeature(
        this.collection,
        "lookup",
        async () => {
          const [row] = await this.collection
            .aggregate<TokenRow>(
              [
                { $match: { _id: digest } },
                { $limit: 1 },
                {
                  $lookup: {
                    from: this.users.collection.collectionName,
                    localField: "user_id",
                    foreignField: "_id",
                    as: "user",
                  },
                },
              ],
              this.options(),
            )
            .toArray();
          const userDoc = row?.user?.[0];
          if (!row || !userDoc) return null;
          return { accessToken: fromTokenDocument(row), user: this.users.toUser(userDoc) };
        },
        async () => {
          const accessToken = await this.getByToken(digest);
          const user = accessToken && (await this.users.get(accessToken.userId));
          return accessToken && user ? { accessToken, user } : null;
        },
      ),
    );
  }

  /**
   * Stores a token row, its digest as `_id`. `userId` must be a well-formed id of the users'
   * id type. A digest stored already fails with the driver's duplicate-key error (E11000).
   */
  async create(data: AccessTokenCreate<string>): Promise<AccessTokenProtocol<string>> {
    const userId = this.users.toStoredId(data.userId);
    if (userId === null) throw new InvalidIDError();
    if (!isDigest(data.token)) throw new TypeError("token must be a non-empty digest string");
    const doc: MongoAccessTokenDocument = {
      _id: data.token,
      user_id: userId,
      created_at: new Date(data.createdAt.getTime()),
      lifetime_seconds: data.lifetimeSeconds,
      expires_at: expiresAt(data.createdAt, data.lifetimeSeconds),
      data_bytes: data.data ? jsonBytes(data.data) : 2,
    };
    for (const [key, field] of Object.entries(SESSION_FIELDS)) {
      const value = data[key as keyof typeof SESSION_FIELDS];
      if (value === undefined || value === null) continue;
      (doc as unknown as Record<string, unknown>)[field] =
        key === "data" || key === "claims" ? toMongoJson(value as JsonObject) : value;
    }
    await runDriver(() => this.collection.insertOne(doc, this.options()));
    return fromTokenDocument(doc);
  }

  /**
   * `$set`s the given fields (sliding renewal: `lifetimeSeconds` with `lastUsedAt`; session
   * data, claims, a handle); `createdAt` never changes. With them `expires_at` (from the
   * given or the read lifetime) and, with data, its exact `data_bytes`.
   */
  async update(
    accessToken: AccessTokenProtocol<string>,
    data: AccessTokenUpdate,
  ): Promise<AccessTokenProtocol<string>> {
    const set = tokenUpdateSet(data);
    if (isDigest(accessToken.token) && Object.keys(set).length > 0) {
      // Lifetimes only grow: from a row read earlier, `expires_at` is at worst behind.
      const lifetime = data.lifetimeSeconds ?? accessToken.lifetimeSeconds;
      set.expires_at = expiresAt(accessToken.createdAt, lifetime);
      const filter = { _id: accessToken.token };
      await runDriver(() => this.collection.updateOne(filter, { $set: set }, this.options()));
    }
    const changes = Object.fromEntries(Object.entries(data).filter(([, v]) => v !== undefined));
    return { ...accessToken, ...changes };
  }

  /**
   * The token row whose session handle is `handle` (indexed by `ensureIndexes`), or null.
   * Without a session, the lookups of one event-loop turn share one
   * `find({ handle: { $in } })`, as `getByToken`'s do.
   */
  async getByHandle(handle: string): Promise<AccessTokenProtocol<string> | null> {
    if (typeof handle !== "string" || handle.length === 0 || handle.length > 64) return null;
    const doc = await runDriver(() => findByField(this.collection, "handle", handle, this.session));
    return doc ? fromTokenDocument(doc) : null;
  }

  /**
   * `$set`s data and/or claims of the row whose handle is `handle`: one `updateOne`, true
   * when a row matched (`matchedCount`). With `live`, an expired row does not match: the cap
   * is checked on `created_at`, the idle lifetime first on `expires_at` (one round trip for
   * a live row, on every server); when that matches nothing, on `created_at +
   * lifetime_seconds` by the server with `$expr`, or where `$expr` is missing (FerretDB v1)
   * by reading the row, checking it here and writing only if its `lifetime_seconds` is still
   * the one read.
   */
  async updateByHandle(
    handle: string,
    fields: Pick<AccessTokenUpdate, "data" | "claims">,
    live?: { now: Date; maxLifetimeSeconds: number },
  ): Promise<boolean> {
    if (typeof handle !== "string" || handle.length === 0 || handle.length > 64) return false;
    const set = tokenUpdateSet({ data: fields.data, claims: fields.claims });
    const filter: Filter<MongoAccessTokenDocument> = { handle };
    if (live) {
      const cap = new Date(live.now.getTime() - live.maxLifetimeSeconds * 1000);
      filter.created_at = { $gt: cap };
    }
    const write = async (where: Filter<MongoAccessTokenDocument>) => {
      if (Object.keys(set).length === 0) {
        return (await this.collection.countDocuments(where, { ...this.options(), limit: 1 })) > 0;
      }
      const result = await this.collection.updateOne(where, { $set: set }, this.options());
      return result.matchedCount > 0;
    };
    if (!live) return runDriver(() => write(filter));
    const now = live.now;
    // One round trip for a live row: `expires_at` (kept with `lifetime_seconds`, see
    // MongoAccessTokenDocument) checked like any field. No match (expired, unknown, or a row
    // without it or with it behind its lifetime): the exact check below decides.
    if (await runDriver(() => write({ ...filter, expires_at: { $gt: now } }))) return true;
    return runDriver(() =>
      withFeature(
        this.collection,
        "expr",
        () => write({ ...filter, ...liveFilter(now) }),
        async () => {
          const doc = await this.collection.findOne(filter, {
            ...this.options(),
            projection: { _id: 1, created_at: 1, lifetime_seconds: 1 },
          });
          if (!doc) return false;
          if (doc.created_at.getTime() + doc.lifetime_seconds * 1000 <= now.getTime()) return false;
          return write({ _id: doc._id, lifetime_seconds: doc.lifetime_seconds });
        },
      ),
    );
  }

  /**
   * Merges `patch` into the data of the live row whose handle is `handle`: one
   * `findOneAndUpdate` with a `$set` / `$unset` of `data.<key>` per patch key (escaped as
   * stored), so merges of distinct keys never write each other's keys (on MongoDB, which
   * applies each update atomically per document, concurrent ones all land; FerretDB v1
   * rewrites the whole document, so there concurrent ones can lose each other, as a read
   * and a write would). The filter checks liveness on `created_at` and `expires_at` and the
   * size on `data_bytes` (see {@link MongoAccessTokenDocument}), which the update raises by
   * the patch's bytes. Null when nothing was written: no live row, over the bound as
   * `data_bytes` counts, or a row without those fields; the session store then reads and
   * writes, exactly.
   */
  async mergeDataByHandle(
    handle: string,
    patch: JsonObject,
    maxBytes: number,
    live: { now: Date; maxLifetimeSeconds: number },
  ): Promise<JsonObject | null> {
    if (typeof handle !== "string" || handle.length === 0 || handle.length > 64) return null;
    const write = mergeWrite(handle, patch, maxBytes, live);
    if (!write) return null;
    const doc = await runDriver(() =>
      this.collection.findOneAndUpdate(write.filter, write.update, {
        // No projection: FerretDB v1's findAndModify has no `fields`.
        ...this.options(),
        returnDocument: "after",
      }),
    );
    return doc ? fromMongoJson(doc.data ?? {}) : null;
  }

  /**
   * Writes a refresh-token rotation (current and parent digests, the renewed lifetime,
   * `last_used_at`) to the row `digest` only while its `refresh_digest` is still `expected`:
   * one `updateOne({ _id, refresh_digest }, { $set })`, true when it matched. MongoDB applies
   * filter and update atomically per document, so of concurrent rotations from one digest
   * exactly one matches (FerretDB v1 reads then writes: there several may, each writing the
   * same child when the children are derived from the parent).
   */
  async rotateRefresh(
    digest: string,
    expected: string,
    rotation: AccessTokenRotation,
  ): Promise<boolean> {
    if (!isDigest(digest) || !isDigest(expected)) return false;
    const filter = { _id: digest, refresh_digest: expected };
    const set = {
      refresh_digest: rotation.refreshDigest,
      refresh_parent_digest: rotation.refreshParentDigest,
      lifetime_seconds: rotation.lifetimeSeconds,
      last_used_at: new Date(rotation.lastUsedAt.getTime()),
    };
    const result = await runDriver(() =>
      this.collection.updateOne(filter, { $set: set }, this.options()),
    );
    return result.matchedCount > 0;
  }

  /** Deletes one token (logout). */
  async delete(accessToken: AccessTokenProtocol<string>): Promise<void> {
    if (!isDigest(accessToken.token)) return;
    const filter = { _id: accessToken.token };
    await runDriver(() => this.collection.deleteOne(filter, this.options()));
  }

  /**
   * Deletes every token of a user (log out everywhere), but `exceptDigest` when given. A
   * malformed id deletes nothing.
   */
  async deleteAllForUser(userId: string, options: { exceptDigest?: string } = {}): Promise<void> {
    const stored = this.users.toStoredId(userId);
    if (stored === null) return;
    const except = options.exceptDigest;
    const filter = isDigest(except)
      ? { user_id: stored, _id: { $ne: except } }
      : { user_id: stored };
    await runDriver(() => this.collection.deleteMany(filter, this.options()));
  }

  /**
   * Every token row of the user, oldest first, expired ones included (for session
   * listing). A malformed id lists nothing, without querying.
   */
  async listByUser(userId: string): Promise<AccessTokenProtocol<string>[]> {
    const stored = this.users.toStoredId(userId);
    if (stored === null) return [];
    const docs = await runDriver(() =>
      this.collection.find({ user_id: stored }, this.options()).sort({ created_at: 1 }).toArray(),
    );
    return docs.map(fromTokenDocument);
  }

  /** Deletes every token expired at `now` (`created_at + lifetime_seconds <= now`); returns how many. */
  async deleteExpired(now: Date): Promise<number> {
    const tokens = this.collection;
    return runDriver(() =>
      withFeature(
        this.collection,
        "expr",
        async () => (await tokens.deleteMany(expiredFilter(now), this.options())).deletedCount,
        () => deleteExpiredByScan(tokens, now, this.options()),
      ),
    );
  }

  /**
   * Creates the index on `user_id` (log out everywhere, session listing, user deletion),
   * the index on `handle` (session data by handle) and, with `maxLifetimeSeconds`, a TTL index on `created_at`. Idempotent. The digest is
   * `_id`, unique by itself: no index on it is needed. Resolves with whether the TTL index
   * is active; FerretDB v1 has no TTL indexes.
   *
   * @example
   * const { ttl } = await tokens.ensureIndexes({ maxLifetimeSeconds: 30 * 24 * 3600 });
   * if (ttl !== "active") setInterval(() => tokens.deleteExpired(new Date()), 3600_000).unref();
   */
  async ensureIndexes(
    options: MongoAccessTokenIndexOptions = {},
  ): Promise<MongoAccessTokenIndexReport> {
    const tokens = this.collection;
    await ensureIndex(tokens, "user_id", "user_id");
    await ensureIndex(tokens, "handle", "handle");
    return {
      ttl: await ensureTtlIndex(tokens, "created_at", "created_at_ttl", options.maxLifetimeSeconds),
    };
  }

  private options(): { session?: ClientSession } {
    return this.session ? { session: this.session } : {};
  }
}
