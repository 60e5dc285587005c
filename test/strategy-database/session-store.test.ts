// DatabaseSessionStore's rules (issue 14) on real databases: PostgreSQL, SQLite and the
// MongoDB protocol through @tessera/db-mikroorm, and the MongoDB protocol through
// @tessera/db-mongo. The same cases run on memory beside the store.
import { randomBytes, randomUUID } from "node:crypto";
import type { AccessTokenDatabase, AccessTokenProtocol } from "@tessera/core";
import { userCreateData } from "@tessera/core/testing";
import {
  AccessToken,
  MikroOrmAccessTokenDatabase,
  MikroOrmUserDatabase,
  MongoAccessToken,
  MongoUser,
  User,
} from "@tessera/db-mikroorm";
import { fastFailClientOptions } from "@tessera/db-mongo";
import { MongoClient } from "mongodb";
import { inject } from "vitest";
import {
  type DriverKind,
  openTestOrm,
  type TestOrm,
} from "../../packages/db-mikroorm/src/test-utils/orm.js";
import { describeSessionStore } from "../../packages/strategy-database/src/test-utils/session-store-cases.js";
import { mongoAdapters } from "../db-mongo/fixture.js";

type Tokens = AccessTokenDatabase<AccessTokenProtocol<string>, string>;
const email = () => `${randomUUID()}@example.com`;

for (const driver of ["postgresql", "sqlite", "mongodb"] satisfies DriverKind[]) {
  let db: TestOrm;
  const mongo = driver === "mongodb";
  describeSessionStore({
    name: `db-mikroorm/${driver}`,
    setup: async () => {
      db = await openTestOrm(driver, mongo ? [MongoUser, MongoAccessToken] : [User, AccessToken]);
    },
    teardown: () => db.close(),
    // On MongoDB one findAndModify of `$set`/`$unset` per key (MongoAccessToken): atomic per
    // document on MongoDB, not on FerretDB v1 (test/db-mikroorm/mongodb.session-data.test.ts).
    mergesInPlace: !mongo || inject("services")?.mongo.kind !== "ferretdb",
    tokens: () =>
      (mongo
        ? new MikroOrmAccessTokenDatabase(db.em(), MongoAccessToken)
        : new MikroOrmAccessTokenDatabase(db.em(), AccessToken)) as unknown as Tokens,
    createUser: async () => {
      const users = mongo
        ? new MikroOrmUserDatabase(db.em(), MongoUser)
        : new MikroOrmUserDatabase(db.em(), User);
      return String((await users.create(userCreateData(email()))).id);
    },
  });
}

{
  const client = new MongoClient(
    process.env.MONGODB_URL ?? "mongodb://unset",
    fastFailClientOptions,
  );
  const database = client.db(`tessera_sessions_${randomBytes(6).toString("hex")}`);
  const { users, tokens } = mongoAdapters(database, "objectId");
  describeSessionStore({
    name: "db-mongo",
    setup: async () => {
      await users.ensureIndexes();
      await tokens.ensureIndexes();
    },
    teardown: async () => {
      await database.dropDatabase();
      await client.close();
    },
    // One findAndModify of `$set`/`$unset` per key: atomic per document on MongoDB; FerretDB
    // v1 rewrites whole documents, so there concurrent merges can lose each other
    // (test/db-mongo/session-data.test.ts pins what holds there).
    mergesInPlace: inject("services")?.mongo.kind !== "ferretdb",
    tokens: () => tokens,
    createUser: async () => (await users.create(userCreateData(email()))).id,
  });
}
