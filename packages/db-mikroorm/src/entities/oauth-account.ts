import { defineEntity, p } from "@mikro-orm/core";
import type { EntityTarget } from "../types.js";
import { MongoUser, User } from "./user.js";

/**
 * The fields of an OAuth account link at rest (FastAPI Users' `oauth_accounts`), as an
 * abstract MikroORM entity: `oauth_name`, `account_id`, `account_email`, `access_token`,
 * `expires_at`, `refresh_token`, with a unique index on `(oauth_name, account_id)` (one
 * provider account is linked to at most one user: the database decides races). Extend it
 * with an id whose order is the order of inserts (an autoincrement integer, MongoDB's
 * ObjectId: `listOAuthAccounts` is oldest first by it) and a `user` relation made by
 * {@link oauthAccountUser}. To add the table to a database of an earlier release, see
 * `oauthAccountsTableSql`.
 *
 * @example
 * export const AppOAuthAccount = defineEntity({
 *   name: "AppOAuthAccount",
 *   tableName: "app_oauth_accounts",
 *   extends: OAuthAccountBase,
 *   properties: {
 *     id: p.integer().primary().autoincrement(),
 *     user: () => oauthAccountUser(AppUser),
 *   },
 * });
 */
export const OAuthAccountBase = defineEntity({
  name: "TesseraOAuthAccountBase",
  abstract: true,
  uniques: [{ properties: ["oauthName", "accountId"] }],
  properties: {
    /** The provider's name in the app (`google`, `github`); FastAPI Users' 100 characters. */
    oauthName: p.string().length(100).fieldName("oauth_name"),
    /** The account's id at the provider (OIDC `sub` is at most 255 ASCII characters). */
    accountId: p.string().length(320).fieldName("account_id"),
    /** The account's email at the provider. */
    accountEmail: p.string().length(320).fieldName("account_email"),
    /** The provider's access token, encrypted by the OAuth flow: text, a few KB at most. */
    accessToken: p.text().fieldName("access_token"),
    /**
     * When the access token expires, in epoch seconds; null when unknown. A 64-bit
     * integer, so 2038 is no limit (read as a JavaScript number).
     */
    expiresAt: p.bigint("number").nullable().fieldName("expires_at"),
    /** The provider's refresh token, encrypted by the OAuth flow; null when none was issued. */
    refreshToken: p.text().nullable().fieldName("refresh_token"),
  },
});

/**
 * The `user` relation of an OAuth account entity: column `user_id`, indexed, and
 * `ON DELETE CASCADE` on SQL so deleting a user deletes their links. On MongoDB, which has
 * no foreign keys, `MikroOrmUserDatabase.delete` reads the cascade rule from this relation
 * and deletes the links itself.
 *
 * @example
 * properties: { user: () => oauthAccountUser(AppUser) }
 */
export function oauthAccountUser<const Target extends EntityTarget>(user: Target) {
  return p.manyToOne(user).fieldName("user_id").deleteRule("cascade").index();
}

/**
 * The default OAuth account entity for SQL drivers, pointing at {@link User}, in the table
 * `oauth_accounts`, with an autoincrement integer id (Tessera shows it as a string).
 *
 * @example
 * const orm = await MikroORM.init({ entities: [User, AccessToken, OAuthAccount], ... });
 * const users = new MikroOrmUserDatabase(em, User, { oauthAccount: OAuthAccount });
 */
export const OAuthAccount = defineEntity({
  name: "OAuthAccount",
  tableName: "oauth_accounts",
  extends: OAuthAccountBase,
  properties: {
    id: p.integer().primary().autoincrement(),
    user: () => oauthAccountUser(User),
  },
});

/**
 * The default OAuth account entity for `@mikro-orm/mongodb`, pointing at {@link MongoUser},
 * in the collection `oauth_accounts` (the same unique index, made by `orm.schema.create()`
 * or `orm.schema.ensureIndexes()`), with an ObjectId `_id` shown as its hex string `id`.
 *
 * @example
 * const users = new MikroOrmUserDatabase(em, MongoUser, { oauthAccount: MongoOAuthAccount });
 */
export const MongoOAuthAccount = defineEntity({
  name: "MongoOAuthAccount",
  tableName: "oauth_accounts",
  extends: OAuthAccountBase,
  properties: {
    _id: p.type("ObjectId").primary(),
    id: p.string().serializedPrimaryKey(),
    user: () => oauthAccountUser(MongoUser),
  },
});
