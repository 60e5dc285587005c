import type { EntityManager, EntityProperty } from "@mikro-orm/core";
import type {
  AccessTokenCreate,
  AccessTokenDatabase,
  AccessTokenProtocol,
  AccessTokenRotation,
  AccessTokenUpdate,
  AccessTokenWithUserReader,
  JsonObject,
  UserProtocol,
} from "@tessera/core";
import { fromMongoJson, toMongoJson } from "@tessera/core/internal";
import { updateByHandle } from "./lib/by-handle.js";
import { guard } from "./lib/errors.js";
import { deleteExpired } from "./lib/expired.js";
import { mergeDataByHandle } from "./lib/merge.js";
import { type EntityModel, modelOf, type Row, toDbId } from "./lib/model.js";
import { canMergeOnMongo, jsonBytes, mongoMergeData } from "./lib/mongo.js";
import { rotateRefresh } from "./lib/rotate.js";
import { findMany, findOne, findTokenWithUser, insert, prop } from "./lib/store.js";
import { type AdapterSettings, type MikroOrmAdapterOptions, settingsOf } from "./options.js";
import type { EntityTarget, PlainUser, TokenUserOf, UserIdOf } from "./types.js";

// A SHA-256 hex digest is 64 characters; anything far longer is not a digest we stored.
const MAX_DIGEST = 255;
const isDigest = (v: unknown): v is string =>
  typeof v === "string" && v.length > 0 && v.length <= MAX_DIGEST;
// A session handle is 32 characters (the column holds 64).
const isHandle = (v: unknown): v is string =>
  typeof v === "string" && v.length > 0 && v.length <= 64;
const expiresAt = (createdAt: Date, lifetimeSeconds: number) =>
  new Date(createdAt.getTime() + lifetimeSeconds * 1000);

/**
 * Tessera's `AccessTokenDatabase` on MikroORM, over a request-scoped EntityManager and an
 * access-token entity built on `AccessTokenBase` with a `user` relation
 * (`accessTokenUser`). It also reads a token and its user in one round trip
 * (`getByTokenWithUser`: an SQL join, or a MongoDB `$lookup`), which the database strategy
 * uses on every authenticated request: on the fast path (the default on PostgreSQL and
 * TesseraSqliteDialect) one precompiled statement, else `em.findOne` with a joined
 * `populate`. Only digests are ever stored or looked up.
 *
 * @example
 * const tokens = new MikroOrmAccessTokenDatabase(em, AccessToken);
 * const strategy = new DatabaseStrategy({ accessTokenDb: tokens, lifetimeSeconds: 3600 });
 */
export class MikroOrmAccessTokenDatabase<
  T extends object,
  ID = UserIdOf<TokenUserOf<T>>,
  U extends UserProtocol<ID> = PlainUser<TokenUserOf<T>> & UserProtocol<ID>,
> implements
    AccessTokenDatabase<AccessTokenProtocol<ID>, ID>,
    AccessTokenWithUserReader<AccessTokenProtocol<ID>, U, ID>
{
  readonly #em: EntityManager;
  readonly #entity: EntityTarget<T>;
  readonly #settings: AdapterSettings;
  #model?: { token: EntityModel; user: EntityModel; relation: EntityProperty };

  /**
   * @param em the request's fork (see `withRequestEntityManager`), or the ORM's global `orm.em`
   *   made once: no fork per request (see the package docs, "no fork at all")
   * @param entity the access-token entity: `AccessToken`, `MongoAccessToken`, or the app's own
   * @param options the fast path and prepared statements (see {@link MikroOrmAdapterOptions})
   */
  constructor(em: EntityManager, entity: EntityTarget<T>, options?: MikroOrmAdapterOptions) {
    this.#em = em;
    this.#entity = entity;
    this.#settings = settingsOf(options);
  }

  get #m() {
    if (!this.#model) {
      const token = modelOf(this.#em, this.#entity);
      const relation = prop(token, "user");
      if (!relation.targetMeta)
        throw new TypeError(`${token.meta.className}.user is not a relation`);
      const user = modelOf(this.#em, relation.targetMeta.class);
      this.#model = { token, user, relation };
    }
    return this.#model;
  }

  /** The token with this digest, or null. */
  async getByToken(digest: string): Promise<AccessTokenProtocol<ID> | null> {
    if (!isDigest(digest)) return null;
    const { token } = this.#m;
    const row = await guard(() => findOne(this.#em, token, token.pk, digest, this.#settings));
    return row ? this.#toProtocol(row) : null;
  }

  /** The token and its user in one round trip; null when either is missing. */
  async getByTokenWithUser(
    digest: string,
  ): Promise<{ accessToken: AccessTokenProtocol<ID>; user: U } | null> {
    if (!isDigest(digest)) return null;
    const { token, relation, user } = this.#m;
    const both = await guard(() =>
      findTokenWithUser(this.#em, token, relation, user, digest, this.#settings),
    );
    return both ? { accessToken: this.#toProtocol(both.token), user: both.user as U } : null;
  }

  /** Stores a token (its digest) for a user. */
  async create(data: AccessTokenCreate<ID>): Promise<AccessTokenProtocol<ID>> {
    const { token, user } = this.#m;
    const userId = toDbId(user, data.userId);
    if (userId === undefined) throw new TypeError("AccessTokenDatabase.create: not a user id");
    const { userId: _, ...rest } = data;
    const stored = this.#toStored({ ...rest, user: userId } as Row);
    if (canMergeOnMongo(token)) {
      stored.dataBytes = data.data ? jsonBytes(data.data) : 2;
      stored.expiresAt = expiresAt(data.createdAt, data.lifetimeSeconds);
    }
    const row = await guard(() => insert(this.#em, token, stored));
    return this.#toProtocol(row);
  }

  /**
   * Writes the given fields (sliding renewal: `lifetimeSeconds` with `lastUsedAt`; session
   * data, claims, a handle); `createdAt` is unchanged.
   */
  async update(
    accessToken: AccessTokenProtocol<ID>,
    data: AccessTokenUpdate,
  ): Promise<AccessTokenProtocol<ID>> {
    const changes: Row = {};
    for (const [key, value] of Object.entries(data)) if (value !== undefined) changes[key] = value;
    if (isDigest(accessToken.token) && Object.keys(changes).length > 0) {
      const { token } = this.#m;
      const where = { [token.pk.name]: accessToken.token };
      const stored = this.#toStored(changes);
      if (canMergeOnMongo(token)) {
        // Lifetimes only grow: from a row read earlier, `expiresAt` is at worst behind.
        const lifetime = data.lifetimeSeconds ?? accessToken.lifetimeSeconds;
        stored.expiresAt = expiresAt(accessToken.createdAt, lifetime);
        if (data.data !== undefined) stored.dataBytes = jsonBytes(data.data);
      }
      await guard(() => this.#em.nativeUpdate(token.meta.class, where, stored));
    }
    return { ...accessToken, ...changes };
  }

  /**
   * The token whose session handle is `handle` (an indexed column), or null. On the fast path
   * on PostgreSQL, the lookups of one event-loop turn share one `= any(?)` statement, as
   * token lookups do (`getSessionData` of many requests at once).
   */
  async getByHandle(handle: string): Promise<AccessTokenProtocol<ID> | null> {
    if (!isHandle(handle)) return null;
    const { token } = this.#m;
    const row = await guard(() =>
      findOne(this.#em, token, prop(token, "handle"), handle, this.#settings, true),
    );
    return row ? this.#toProtocol(row) : null;
  }

  /**
   * Writes data and/or claims of the row whose handle is `handle` in one native update
   * (`UPDATE … WHERE handle = ?`, on MongoDB an `updateOne`); true when a row matched. With
   * `live`, an expired row does not match (checked in the same statement; on a MongoDB server
   * without `$expr`, FerretDB v1, the row is read first).
   */
  async updateByHandle(
    handle: string,
    fields: Pick<AccessTokenUpdate, "data" | "claims">,
    live?: { now: Date; maxLifetimeSeconds: number },
  ): Promise<boolean> {
    if (!isHandle(handle)) return false;
    const changes: Row = {};
    if (fields.data !== undefined) changes.data = fields.data;
    if (fields.claims !== undefined) changes.claims = fields.claims;
    const { token } = this.#m;
    const stored = this.#toStored(changes);
    if (fields.data !== undefined && canMergeOnMongo(token)) {
      stored.dataBytes = jsonBytes(fields.data);
    }
    return guard(() => updateByHandle(this.#em, token, handle, stored, live));
  }

  /**
   * Merges `patch` into the session data of the live row whose handle is `handle` in one
   * `UPDATE … RETURNING` that computes the merge from the row itself (PostgreSQL `jsonb`
   * `||` and `-`; SQLite `json_set`/`json_remove` per top-level key) and bounds its size in
   * the WHERE; on MongoDB one `findOneAndUpdate` of `$set`/`$unset` per key bounded by the
   * stored `data_bytes` and `expires_at` (see `MongoAccessToken`). The merged data, or null
   * when nothing was written (the session store then reads and writes).
   */
  async mergeDataByHandle(
    handle: string,
    patch: JsonObject,
    maxBytes: number,
    live: { now: Date; maxLifetimeSeconds: number },
  ): Promise<JsonObject | null> {
    if (!isHandle(handle)) return null;
    const { token } = this.#m;
    if (token.mongo) {
      const entries = Object.entries(patch);
      // `data.` names no field: a patch with an empty key is merged by the store.
      if (!canMergeOnMongo(token) || entries.length === 0 || entries.some(([k]) => k === "")) {
        return null;
      }
      const escaped = toMongoJson(patch);
      const stored = await guard(() =>
        mongoMergeData(this.#em, token, handle, patch, escaped, maxBytes, live),
      );
      return stored ? fromMongoJson(stored as JsonObject) : null;
    }
    return guard(() => mergeDataByHandle(this.#em, token, handle, patch, maxBytes, live));
  }

  /**
   * Writes a refresh-token rotation (the current and parent digests, the renewed lifetime,
   * `lastUsedAt`) to the row `digest` only while its refresh digest is still `expected`: one
   * `UPDATE … WHERE token = ? AND refresh_digest = ?` (on MongoDB an `updateOne`); true when
   * a row matched. Of concurrent rotations from one digest exactly one matches.
   */
  async rotateRefresh(
    digest: string,
    expected: string,
    rotation: AccessTokenRotation,
  ): Promise<boolean> {
    if (!isDigest(digest) || !isDigest(expected)) return false;
    const { refreshDigest, refreshParentDigest, lifetimeSeconds, lastUsedAt } = rotation;
    const changes = { refreshDigest, refreshParentDigest, lifetimeSeconds, lastUsedAt };
    return guard(() => rotateRefresh(this.#em, this.#m.token, digest, expected, changes));
  }

  /** Deletes one token (logout). */
  async delete(accessToken: AccessTokenProtocol<ID>): Promise<void> {
    if (!isDigest(accessToken.token)) return;
    const { token } = this.#m;
    await guard(() =>
      this.#em.nativeDelete(token.meta.class, { [token.pk.name]: accessToken.token }),
    );
  }

  /** Deletes every token of a user (log out everywhere), but `exceptDigest` when given. */
  async deleteAllForUser(userId: ID, options: { exceptDigest?: string } = {}): Promise<void> {
    const { token, user, relation } = this.#m;
    const dbId = toDbId(user, userId);
    if (dbId === undefined) return;
    const where: Row = { [relation.name]: dbId };
    if (isDigest(options.exceptDigest)) where[token.pk.name] = { $ne: options.exceptDigest };
    await guard(() => this.#em.nativeDelete(token.meta.class, where));
  }

  /** Every token of a user, oldest first (expired ones included): for listing sessions. */
  async listByUser(userId: ID): Promise<AccessTokenProtocol<ID>[]> {
    const { token, user, relation } = this.#m;
    const dbId = toDbId(user, userId);
    if (dbId === undefined) return [];
    const rows = await guard(() =>
      findMany(this.#em, token, relation, dbId, prop(token, "createdAt")),
    );
    return rows.map((row) => this.#toProtocol(row));
  }

  /** Deletes every token expired at `now` (`createdAt + lifetimeSeconds <= now`); returns how many. */
  async deleteExpired(now: Date): Promise<number> {
    return guard(() => deleteExpired(this.#em, this.#m.token, now));
  }

  /** Data and claims as MongoDB can hold them: `$`-leading and dotted keys escaped. */
  #toStored(row: Row): Row {
    if (!this.#m.token.mongo) return row;
    const stored = { ...row };
    for (const key of ["data", "claims"] as const) {
      const value = row[key] as JsonObject | null | undefined;
      if (value) stored[key] = toMongoJson(value);
    }
    return stored;
  }

  #toProtocol(row: Row): AccessTokenProtocol<ID> {
    const { token: _t, user, dataBytes: _b, expiresAt: _e, ...rest } = row;
    const { token } = this.#m;
    if (token.mongo) {
      if (rest.data) rest.data = fromMongoJson(rest.data as JsonObject);
      if (rest.claims) rest.claims = fromMongoJson(rest.claims as JsonObject);
    }
    return {
      ...rest,
      token: row[token.idKey] as string,
      userId: user as ID,
    } as AccessTokenProtocol<ID>;
  }
}
