import { randomBytes } from "node:crypto";
import type { AdapterFixture } from "@tessera/core/testing";
import {
  fastFailClientOptions,
  MongoAccessTokenDatabase,
  type MongoAccessTokenDocument,
  type MongoIdType,
  type MongoMfaDocument,
  type MongoOAuthAccountKeyDocument,
  type MongoPasskeyDocument,
  MongoUserDatabase,
  type MongoUserDocument,
} from "@tessera/db-mongo";
import { type Db, MongoClient } from "mongodb";
import { inject } from "vitest";

/**
 * db-mongo's two adapters wired as its docs show, on the collections `names` of `db`: the
 * users adapter knows the tokens collection (deleting a user deletes their tokens) and the
 * OAuth account keys, the tokens adapter reads users through it. No index is created.
 */
export function mongoAdapters(
  db: Db,
  idType: MongoIdType | undefined,
  names: { users: string; tokens: string; oauthKeys?: string; mfa?: string; passkeys?: string } = {
    users: "users",
    tokens: "access_tokens",
  },
) {
  const userCollection = db.collection<MongoUserDocument>(names.users);
  const tokenCollection = db.collection<MongoAccessTokenDocument>(names.tokens);
  const oauthKeyCollection = db.collection<MongoOAuthAccountKeyDocument>(
    names.oauthKeys ?? "oauth_account_keys",
  );
  const mfaCollection = db.collection<MongoMfaDocument>(names.mfa ?? "mfa");
  const passkeyCollection = db.collection<MongoPasskeyDocument>(names.passkeys ?? "passkeys");
  const users = new MongoUserDatabase(userCollection, {
    ...(idType ? { idType } : {}),
    accessTokenCollection: tokenCollection,
    oauthAccountKeyCollection: oauthKeyCollection,
    mfaCollection,
    passkeyCollection,
  });
  const tokens = new MongoAccessTokenDatabase(tokenCollection, { users });
  return {
    userCollection,
    tokenCollection,
    oauthKeyCollection,
    mfaCollection,
    passkeyCollection,
    users,
    tokens,
  };
}

/**
 * The conformance fixture of @tessera/db-mongo for one id type: its own database per file
 * (and per run), dropped at the end, since files run in parallel. MONGODB_URL comes from
 * the service harness (test/harness), or from the environment.
 */
export function mongoFixture(
  idType: MongoIdType,
  ids: Pick<AdapterFixture<string>, "unknownId" | "malformedIds">,
): AdapterFixture<string> {
  const url = process.env.MONGODB_URL;
  if (!url) throw new Error("MONGODB_URL is not set: run through vitest (the harness sets it)");
  const client = new MongoClient(url, fastFailClientOptions);
  const db = client.db(`tessera_conf_${idType.toLowerCase()}_${randomBytes(6).toString("hex")}`);
  const {
    userCollection,
    tokenCollection,
    oauthKeyCollection,
    mfaCollection,
    passkeyCollection,
    users,
    tokens,
  } = mongoAdapters(db, idType);
  return {
    name: `db-mongo/${idType}`,
    setup: async () => {
      await users.ensureIndexes();
      await tokens.ensureIndexes();
    },
    reset: async () => {
      await userCollection.deleteMany({});
      await tokenCollection.deleteMany({});
      await oauthKeyCollection.deleteMany({});
      await mfaCollection.deleteMany({});
      await passkeyCollection.deleteMany({});
    },
    teardown: async () => {
      await db.dropDatabase();
      await client.close();
    },
    users: () => users,
    tokens: () => tokens,
    ...ids,
    // The digest is the token document's `_id`.
    storedTokenValues: async () => (await tokenCollection.find({}).toArray()).map((d) => d._id),
    extraField: { key: "displayName", value: "Ada Lovelace" },
    atomicConditionalUpdates: inject("services")?.mongo.kind !== "ferretdb",
  };
}
