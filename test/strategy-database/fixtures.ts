// The databases DatabaseSessionStore is tested on, for session-store.test.ts and
// refresh-rotation.test.ts: PostgreSQL, SQLite and the MongoDB protocol through
// @tessera/db-mikroorm, and the MongoDB protocol through @tessera/db-mongo.
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
import { openTestOrm, type TestOrm } from "../../packages/db-mikroorm/src/test-utils/orm.js";
import { mongoAdapters } from "../db-mongo/fixture.js";

export type Tokens = AccessTokenDatabase<AccessTokenProtocol<string>, string>;

/** One database a store suite runs on, with what the suites' fixtures need. */
export interface StoreDatabase {
  name: string;
  /** On the MongoDB protocol (where FerretDB v1 may stand in for mongod). */
  mongo: boolean;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  tokens(): Tokens;
  createUser(): Promise<string>;
}

/** False when the harness runs FerretDB v1, whose filtered updates are a read then a write. */
export const mongoAtomic = inject("services")?.mongo.kind !== "ferretdb";

const email = () => `${randomUUID()}@example.com`;

/** Every database, each with a database (or MongoDB database) of its own named `prefix`…. */
export function storeDatabases(prefix: string): StoreDatabase[] {
  const mikroorm = (["postgresql", "sqlite", "mongodb"] as const).map((driver): StoreDatabase => {
    let db: TestOrm;
    const mongo = driver === "mongodb";
    return {
      name: `db-mikroorm/${driver}`,
      mongo,
      setup: async () => {
        db = await openTestOrm(driver, mongo ? [MongoUser, MongoAccessToken] : [User, AccessToken]);
      },
      teardown: () => db.close(),
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
    };
  });
  const client = new MongoClient(
    process.env.MONGODB_URL ?? "mongodb://unset",
    fastFailClientOptions,
  );
  const database = client.db(`${prefix}_${randomBytes(6).toString("hex")}`);
  const { users, tokens } = mongoAdapters(database, "objectId");
  const native: StoreDatabase = {
    name: "db-mongo",
    mongo: true,
    setup: async () => {
      await users.ensureIndexes();
      await tokens.ensureIndexes();
    },
    teardown: async () => {
      await database.dropDatabase();
      await client.close();
    },
    tokens: () => tokens,
    createUser: async () => (await users.create(userCreateData(email()))).id,
  };
  return [...mikroorm, native];
}
