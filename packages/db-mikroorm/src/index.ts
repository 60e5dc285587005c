/**
 * `@tessera/db-mikroorm`: Tessera's user (with OAuth accounts, second factors and passkeys) and access-token adapters on MikroORM (v7),
 * tested on PostgreSQL, SQLite (node:sqlite) and MongoDB.
 */

export { MikroOrmAccessTokenDatabase } from "./access-token-database.js";
export {
  AccessToken,
  AccessTokenBase,
  accessTokenUser,
  MongoAccessToken,
} from "./entities/access-token.js";
export {
  MfaRecoveryCode,
  MfaRecoveryCodeBase,
  MfaTotp,
  MfaTotpBase,
  MongoMfaRecoveryCode,
  MongoMfaTotp,
  MongoPasskey,
  mfaUser,
  Passkey,
  PasskeyBase,
} from "./entities/mfa.js";
export { type MfaTablesTarget, mfaTablesSql } from "./entities/mfa-sql.js";
export {
  MongoOAuthAccount,
  OAuthAccount,
  OAuthAccountBase,
  oauthAccountUser,
} from "./entities/oauth-account.js";
export { type OAuthAccountsTable, oauthAccountsTableSql } from "./entities/oauth-accounts-sql.js";
export {
  accessTokenRefreshColumnsSql,
  accessTokenSessionColumnsSql,
  type SessionColumnsTable,
} from "./entities/session-columns.js";
export { MongoUser, User, UserBase } from "./entities/user.js";
export type {
  MikroOrmAdapterOptions,
  MikroOrmMfaEntities,
  MikroOrmUserDatabaseOptions,
} from "./options.js";
export { withRequestEntityManager } from "./request-context.js";
export type { EntityTarget, PlainUser, TokenUserOf, Unbranded, UserIdOf } from "./types.js";
export {
  MikroOrmUserDatabase,
  type MikroOrmUserDatabaseConstructor,
} from "./user-database.js";
