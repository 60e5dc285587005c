import { defineEntity, p } from "@mikro-orm/core";
import type { JsonObject } from "@tessera/core";
import type { EntityTarget } from "../types.js";
import { MongoUser, User } from "./user.js";

/**
 * The fields of an access token at rest, as an abstract MikroORM entity: `token` (the
 * SHA-256 digest, never the token itself; the primary key, so unique), `created_at` and
 * `lifetime_seconds`, the nullable session fields `handle`, `last_used_at`, `ip_address`,
 * `user_agent`, `data` and `claims`, and the nullable refresh-token digests
 * `refresh_digest` and `refresh_parent_digest` (see `accessTokenSessionColumnsSql`
 * and `accessTokenRefreshColumnsSql` to migrate a table of an earlier release).
 * Extend it with a `user` relation made by {@link accessTokenUser}.
 *
 * @example
 * export const AppAccessToken = defineEntity({
 *   name: "AppAccessToken",
 *   tableName: "app_access_token",
 *   extends: AccessTokenBase,
 *   properties: { user: () => accessTokenUser(AppUser) },
 * });
 */
export const AccessTokenBase = defineEntity({
  name: "TesseraAccessTokenBase",
  abstract: true,
  properties: {
    /** The SHA-256 hex digest of the token (64 characters); the primary key. */
    token: p.string().length(64).primary().fieldName("token"),
    /** When the token was issued; it expires at `createdAt + lifetimeSeconds`. */
    createdAt: p.datetime().fieldName("created_at"),
    /** Lifetime in seconds from `createdAt`; sliding renewal raises it. */
    lifetimeSeconds: p.integer().fieldName("lifetime_seconds"),
    // The session fields (issue 14): nullable, so rows of an earlier release stay valid.
    /** The session's public handle, a hash of the digest; indexed (data is reached by it). */
    handle: p.string().length(64).nullable().index().fieldName("handle"),
    /** When the session was last used, written with the sliding renewal only. */
    lastUsedAt: p.datetime().nullable().fieldName("last_used_at"),
    /** The client address the session was created from (at most 64 characters). */
    ipAddress: p.string().length(64).nullable().fieldName("ip_address"),
    /** The user agent the session was created from (at most 512 characters). */
    userAgent: p.string().length(512).nullable().fieldName("user_agent"),
    /** Server-side session data: `jsonb` on PostgreSQL, JSON text on SQLite. */
    data: p.json<JsonObject>().nullable().fieldName("data"),
    /** The session's custom claims, stored as `data` is. */
    claims: p.json<JsonObject>().nullable().fieldName("claims"),
    // The refresh-token fields (issue 15): null on every row but a refresh session's.
    /** SHA-256 hex digest of the session's current refresh token. */
    refreshDigest: p.string().length(64).nullable().fieldName("refresh_digest"),
    /** SHA-256 hex digest of its parent, accepted until the current one is used. */
    refreshParentDigest: p.string().length(64).nullable().fieldName("refresh_parent_digest"),
  },
});

/**
 * The `user` relation of an access-token entity: column `user_id`, indexed, and
 * `ON DELETE CASCADE` on SQL so deleting a user deletes their tokens. On MongoDB, which has
 * no foreign keys, `MikroOrmUserDatabase.delete` reads the cascade rule from this relation
 * and deletes the tokens itself.
 *
 * @example
 * properties: { user: () => accessTokenUser(AppUser) }
 */
export function accessTokenUser<const Target extends EntityTarget>(user: Target) {
  return p.manyToOne(user).fieldName("user_id").deleteRule("cascade").index();
}

/**
 * The default access-token entity for SQL drivers, pointing at {@link User}, in the table
 * `access_token`.
 *
 * @example
 * const tokens = new MikroOrmAccessTokenDatabase(em, AccessToken);
 */
export const AccessToken = defineEntity({
  name: "AccessToken",
  tableName: "access_token",
  extends: AccessTokenBase,
  properties: {
    user: () => accessTokenUser(User),
  },
});

/**
 * The default access-token entity for `@mikro-orm/mongodb`, pointing at {@link MongoUser},
 * in the collection `access_token`. The digest is the document's `_id`: MongoDB keeps
 * `_id` unique without a second index. Two fields more than the SQL entity, kept by the
 * adapter so that `mergeDataByHandle` is one `findAndModify` with plain operators (no
 * update pipeline or `$expr`, which FerretDB v1 lacks): `data_bytes`, an upper bound of the
 * data's JSON bytes, and `expires_at`, `created_at + lifetime_seconds`. An entity of the
 * app's own without them is merged by the session store's read and write.
 *
 * @example
 * const tokens = new MikroOrmAccessTokenDatabase(em, MongoAccessToken);
 */
export const MongoAccessToken = defineEntity({
  name: "MongoAccessToken",
  tableName: "access_token",
  extends: AccessTokenBase,
  properties: {
    token: p.string().primary().fieldName("_id"),
    user: () => accessTokenUser(MongoUser),
    /** An upper bound of `data`'s JSON bytes (exact when set whole, plus each merged patch's). */
    dataBytes: p.integer().nullable().fieldName("data_bytes"),
    /** `createdAt + lifetimeSeconds`, written with either; at worst behind, never ahead. */
    expiresAt: p.datetime().nullable().fieldName("expires_at"),
  },
});
