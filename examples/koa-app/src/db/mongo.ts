import { objectIdStringParser } from "@tessera/core";
import {
  fastFailClientOptions,
  MongoAccessTokenDatabase,
  type MongoAccessTokenDocument,
  type MongoMfaDocument,
  type MongoOAuthAccountKeyDocument,
  type MongoPasskeyDocument,
  MongoUserDatabase,
  type MongoUserDocument,
} from "@tessera/db-mongo";
import { MongoClient } from "mongodb";
import type { Store, User } from "./store.js";

/**
 * MongoDB (or a MongoDB-protocol server such as FerretDB) through the native driver
 * (`MONGODB_URL=mongodb://host:27017/app`; the path names the database).
 * `maxLifetimeSeconds` is the sessions' absolute cap: a TTL index lets the server delete
 * tokens past it, where the server supports TTL indexes.
 */
export async function openMongo(
  url: string,
  dbName: string,
  maxLifetimeSeconds: number,
): Promise<Store> {
  const client = new MongoClient(url, fastFailClientOptions);
  // Connect before serving: driver 7 closes for good a client whose first connect failed.
  await client.connect();
  const db = client.db(dbName);
  const tokenCollection = db.collection<MongoAccessTokenDocument>("access_tokens");
  const users = new MongoUserDatabase<User>(db.collection<MongoUserDocument>("users"), {
    accessTokenCollection: tokenCollection,
    // The users' "Sign in with …" links live in their documents; one key per provider
    // account in this collection decides who holds it (unique, even on FerretDB v1).
    oauthAccountKeyCollection: db.collection<MongoOAuthAccountKeyDocument>("oauth_account_keys"),
    // Second factors (one document per user with TOTP or recovery codes) and passkeys.
    mfaCollection: db.collection<MongoMfaDocument>("mfa"),
    passkeyCollection: db.collection<MongoPasskeyDocument>("passkeys"),
  });
  const tokens = new MongoAccessTokenDatabase<User>(tokenCollection, { users });
  await users.ensureIndexes();
  // FerretDB v1 has no TTL indexes (ttl: "unsupported"): the app's hourly cleanup covers it.
  await tokens.ensureIndexes({ maxLifetimeSeconds });
  return {
    kind: "mongodb",
    idParser: objectIdStringParser,
    // The driver pools connections and the adapters keep no per-request state.
    scope: (_ctx, next) => next(),
    users: () => users,
    tokens: () => tokens,
    ping: async () => {
      await db.command({ ping: 1 });
    },
    close: () => client.close(),
  };
}
