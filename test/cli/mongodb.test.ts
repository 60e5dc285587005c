// `tessera` on the harness's MongoDB-protocol server (mongod, or FerretDB over SQLite) in a
// scratch database, with Redis: migrate makes db-mongo's indexes.
import { randomBytes } from "node:crypto";
import {
  fastFailClientOptions,
  MongoAccessTokenDatabase,
  type MongoAccessTokenDocument,
  MongoUserDatabase,
} from "@tessera/db-mongo";
import { MongoClient } from "mongodb";
import { cliScenario } from "./scenario.js";

const server = process.env.MONGODB_URL as string;
const name = `tessera_cli_${process.pid}_${randomBytes(4).toString("hex")}`;
const url = Object.assign(new URL(server), { pathname: `/${name}` }).href;

cliScenario(
  "MongoDB",
  async () => {
    const client = new MongoClient(server, fastFailClientOptions);
    await client.connect();
    const db = client.db(name);
    return {
      env: { MONGODB_URL: url },
      firstMigration: /users\.email_unique/,
      expectedSchema: [
        "users.email_unique",
        "users.oauth_accounts_unique",
        "access_tokens.user_id",
        "access_tokens.handle",
        "oauth_account_keys.user_id",
        "passkeys.user_id",
      ],
      async schema() {
        const names: string[] = [];
        for (const collection of ["users", "access_tokens", "oauth_account_keys", "passkeys"]) {
          for (const index of await db.collection(collection).listIndexes().toArray()) {
            names.push(`${collection}.${String(index.name)}`);
          }
        }
        return names;
      },
      async open() {
        const tokenCollection = db.collection<MongoAccessTokenDocument>("access_tokens");
        const users = new MongoUserDatabase(db.collection("users"), {
          accessTokenCollection: tokenCollection,
        });
        const tokens = new MongoAccessTokenDatabase(tokenCollection, { users });
        return { users, tokens: () => tokens, close: async () => undefined };
      },
      async drop() {
        await db.dropDatabase();
        await client.close();
      },
    };
  },
  process.env.REDIS_URL,
);
