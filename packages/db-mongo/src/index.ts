/**
 * `@tessera/db-mongo`: Tessera's user (with OAuth accounts, second factors and passkeys) and access-token adapters on the native `mongodb`
 * driver (a peer dependency), for MongoDB and MongoDB-protocol servers such as FerretDB.
 */
export { fastFailClientOptions } from "./client-options.js";
export type { MongoIdType, MongoStoredId } from "./ids.js";
export type { MongoTtlIndexStatus } from "./indexes.js";
export type { MongoMfaDocument, MongoPasskeyDocument } from "./mfa.js";
export {
  MongoAccessTokenDatabase,
  type MongoAccessTokenDatabaseOptions,
  type MongoAccessTokenIndexOptions,
  type MongoAccessTokenIndexReport,
  type MongoAccessTokenWithUser,
} from "./mongo-access-token-database.js";
export { MongoUserDatabase, type MongoUserDatabaseOptions } from "./mongo-user-database.js";
export type {
  MongoOAuthAccountDocument,
  MongoOAuthAccountKeyDocument,
} from "./oauth-accounts.js";
export type { MongoAccessTokenDocument } from "./token-document.js";
export type { MongoUser, MongoUserDocument } from "./user-document.js";
