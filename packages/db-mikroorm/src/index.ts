/**
 * `@tessera/db-mikroorm`: Tessera's user and access-token adapters on MikroORM (v7),
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
  accessTokenRefreshColumnsSql,
  accessTokenSessionColumnsSql,
  type SessionColumnsTable,
} from "./entities/session-columns.js";
export { MongoUser, User, UserBase } from "./entities/user.js";
export type { MikroOrmAdapterOptions } from "./options.js";
export { withRequestEntityManager } from "./request-context.js";
export type { EntityTarget, PlainUser, TokenUserOf, Unbranded, UserIdOf } from "./types.js";
export { MikroOrmUserDatabase } from "./user-database.js";
