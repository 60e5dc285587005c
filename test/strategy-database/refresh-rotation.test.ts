// DatabaseSessionStore's refresh-token rotation (issue 15) on real databases, with real
// parallel calls: PostgreSQL, SQLite and the MongoDB protocol through @tessera/db-mikroorm,
// and the MongoDB protocol through @tessera/db-mongo. The same cases run on memory beside
// the store (packages/strategy-database/src/session-store.test.ts).
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
import { describeRefreshSessionStore } from "../../packages/strategy-database/src/test-utils/refresh-store-cases.js";
import { mongoAdapters } from "../db-mongo/fixture.js";

type Tokens = AccessTokenDatabase<AccessTokenProtocol<string>, string>;
const email = () => `${randomUUID()}@example.com`;
// FerretDB v1 (the harness's stand-in for mongod) runs a filtered update as a read then a
// write: there the race cases check what holds without an atomic conditional write.
const mongoAtomic = inject("services")?.mongo.kind !== "ferretdb";

for (const driver of ["postgresql", "sqlite", "mongodb"] satisfies DriverKind[]) {
  let db: TestOrm;
  const mongo = driver === "mongodb";
  describeRefreshSessionStore({
    name: `db-mikroorm/${driver}`,
    setup: async () => {
      db = await openTestOrm(driver, mongo ? [MongoUser, MongoAccessToken] : [User, AccessToken]);
    },
    teardown: () => db.close(),
    atomicConditionalUpdates: mongo ? mongoAtomic : true,
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
  const database = client.db(`tessera_refresh_${randomBytes(6).toString("hex")}`);
  const { users, tokens } = mongoAdapters(database, "objectId");
  describeRefreshSessionStore({
    name: "db-mongo",
    setup: async () => {
      await users.ensureIndexes();
      await tokens.ensureIndexes();
    },
    teardown: async () => {
      await database.dropDatabase();
      await client.close();
    },
    atomicConditionalUpdates: mongoAtomic,
    tokens: () => tokens,
    createUser: async () => (await users.create(userCreateData(email()))).id,
  });
}
