import { randomBytes } from "node:crypto";
import {
  fastFailClientOptions,
  MongoAccessTokenDatabase,
  type MongoAccessTokenDocument,
  MongoUserDatabase,
  type MongoUserDocument,
} from "@tessera/db-mongo";
import { MongoClient, ObjectId } from "mongodb";
import { describeAdapterConformance } from "./suite.js";

// MONGODB_URL comes from the service harness (test/harness), or from the environment.
const url = process.env.MONGODB_URL;
if (!url) throw new Error("MONGODB_URL is not set: run through vitest (the harness sets it)");
const client = new MongoClient(url, fastFailClientOptions);
// One database per file (and per run), dropped at the end: files run in parallel.
const db = client.db(`tessera_conf_objectid_${randomBytes(6).toString("hex")}`);
const userCollection = db.collection<MongoUserDocument>("users");
const tokenCollection = db.collection<MongoAccessTokenDocument>("access_tokens");
const users = new MongoUserDatabase(userCollection, { accessTokenCollection: tokenCollection });
const tokens = new MongoAccessTokenDatabase(tokenCollection, { users });

describeAdapterConformance<string>({
  name: "db-mongo/objectId",
  setup: async () => {
    await users.ensureIndexes();
    await tokens.ensureIndexes();
  },
  reset: async () => {
    await userCollection.deleteMany({});
    await tokenCollection.deleteMany({});
  },
  teardown: async () => {
    await db.dropDatabase();
    await client.close();
  },
  users: () => users,
  tokens: () => tokens,
  unknownId: new ObjectId().toHexString(),
  malformedIds: [
    "not-an-object-id",
    "",
    "zzzzzzzzzzzzzzzzzzzzzzzz", // 24 characters, not hex
    "abcdefghijkl", // 12 bytes: `new ObjectId()` alone would accept it
    `${new ObjectId().toHexString()} `,
    { $ne: null },
    { $gt: "" },
    [new ObjectId().toHexString()],
    new ObjectId(), // an ObjectId object where the string form is expected
    42,
    null,
    "f".repeat(100_000),
  ],
  storedTokenValues: async () =>
    (await tokenCollection.find({}, { projection: { token: 1 } }).toArray()).map((d) => d.token),
  extraField: { key: "displayName", value: "Ada Lovelace" },
});
