import { randomBytes } from "node:crypto";
import {
  type AccessTokenDatabase,
  type AccessTokenProtocol,
  type AccessTokenWithUserReader,
  type IdParser,
  objectIdStringParser,
  type UserDatabase,
  type UserProtocol,
  uuidIdParser,
} from "@tessera/core";
import { MemoryAccessTokenDatabase, MemoryUserDatabase } from "@tessera/core/testing";
import { MikroOrmAccessTokenDatabase, MikroOrmUserDatabase } from "@tessera/db-mikroorm";
import {
  MongoAccessTokenDatabase,
  MongoUserDatabase,
  type MongoUserDocument,
} from "@tessera/db-mongo";
import { type Collection, MongoClient } from "mongodb";
import {
  AppAccessToken,
  AppMfa,
  AppOAuthAccount,
  AppUser,
} from "../../packages/db-mikroorm/src/test-utils/app-entities.js";
import { openTestOrm, type TestOrm } from "../../packages/db-mikroorm/src/test-utils/orm.js";

/** The user every store hands out: the protocol plus an app's own fields. */
export type StoreUser = UserProtocol<string> & Record<string, unknown>;
type Tokens = AccessTokenDatabase<AccessTokenProtocol<string>, string> &
  AccessTokenWithUserReader<AccessTokenProtocol<string>, StoreUser, string>;

/**
 * Where the HTTP suite keeps users and tokens. `users()`/`tokens()` return adapters for
 * one request (a fresh EntityManager fork on MikroORM), as an app would build them.
 */
export interface TestStore {
  kind: StoreKind;
  idParser: IdParser<string>;
  users(): UserDatabase<StoreUser, string>;
  tokens(): Tokens;
  /** Every stored token value (digests), straight from the database. */
  tokenDigests(): Promise<string[]>;
  /** How many users are stored, counted by the database. */
  userCount(): Promise<number>;
  /** Empties users and tokens. */
  reset(): Promise<void>;
}

/** Stores the HTTP suite runs on: `TESSERA_HTTP_STORE`, default `memory`. */
export type StoreKind = "memory" | "mikroorm-postgresql" | "mongo";

let memory: { users: MemoryUserDatabase; tokens: MemoryAccessTokenDatabase } | undefined;

function memoryStore(): TestStore {
  return {
    kind: "memory",
    idParser: uuidIdParser,
    users: () => memory?.users as unknown as UserDatabase<StoreUser, string>,
    tokens: () => memory?.tokens as unknown as Tokens,
    tokenDigests: async () => [...(memory?.tokens.tokens.keys() ?? [])],
    userCount: async () => memory?.users.users.size ?? 0,
    reset: async () => {
      const users = new MemoryUserDatabase();
      memory = { users, tokens: new MemoryAccessTokenDatabase(users) };
    },
  };
}

let orm: TestOrm | undefined;

async function postgresStore(): Promise<TestStore> {
  orm ??= await openTestOrm("postgresql", [
    AppUser,
    AppAccessToken,
    AppOAuthAccount,
    // Second factors and passkeys (issue 17).
    AppMfa.totp,
    AppMfa.recoveryCode,
    AppMfa.passkey,
  ]);
  const o = orm;
  // Raw statements name the test's own schema: the connection's search_path does not.
  const schema = String(o.orm.config.get("schema"));
  return {
    kind: "mikroorm-postgresql",
    idParser: uuidIdParser,
    users: () =>
      // With OAuth accounts (issue 16), as an app offering "Sign in with…" configures it.
      new MikroOrmUserDatabase(o.em(), AppUser, {
        oauthAccount: AppOAuthAccount,
        // Second factors and passkeys (issue 17): an MfaDatabase.
        mfa: AppMfa,
      }) as unknown as UserDatabase<StoreUser, string>,
    tokens: () => new MikroOrmAccessTokenDatabase(o.em(), AppAccessToken) as unknown as Tokens,
    tokenDigests: async () =>
      (
        (await o
          .em()
          .getConnection()
          .execute(`select token from "${schema}".app_access_token`)) as {
          token: string;
        }[]
      ).map((r) => r.token),
    userCount: async () =>
      Number(
        (
          (await o
            .em()
            .getConnection()
            .execute(`select count(*) as n from "${schema}".app_user`)) as { n: string }[]
        )[0]?.n,
      ),
    reset: async () => {
      await o
        .em()
        .getConnection()
        .execute(`truncate "${schema}".app_access_token, "${schema}".app_user cascade`);
    },
  };
}

let mongo:
  | {
      client: MongoClient;
      users: MongoUserDatabase<StoreUser>;
      tokens: MongoAccessTokenDatabase<StoreUser>;
      oauthAccountKeys: Collection;
      mfa: Collection;
      passkeys: Collection;
    }
  | undefined;

async function mongoStore(): Promise<TestStore> {
  if (!mongo) {
    const url = process.env.MONGODB_URL;
    if (!url)
      throw new Error("MONGODB_URL is not set: run the tests through vitest (test/harness)");
    const client = await new MongoClient(url, { serverSelectionTimeoutMS: 5000 }).connect();
    const db = client.db(`tessera_http_${process.pid}_${randomBytes(3).toString("hex")}`);
    const accessTokens = db.collection("access_tokens");
    const oauthAccountKeys = db.collection("oauth_account_keys");
    const mfa = db.collection("mfa");
    const passkeys = db.collection("passkeys");
    const users = new MongoUserDatabase<StoreUser>(db.collection<MongoUserDocument>("users"), {
      accessTokenCollection: accessTokens as never,
      // With OAuth accounts (issue 16), as an app offering "Sign in with…" configures it.
      oauthAccountKeyCollection: oauthAccountKeys as never,
      // Second factors and passkeys (issue 17): an MfaDatabase.
      mfaCollection: mfa as never,
      passkeyCollection: passkeys as never,
    });
    const tokens = new MongoAccessTokenDatabase<StoreUser>(accessTokens as never, { users });
    await users.ensureIndexes();
    await tokens.ensureIndexes();
    mongo = { client, users, tokens, oauthAccountKeys, mfa, passkeys };
  }
  const m = mongo;
  return {
    kind: "mongo",
    idParser: objectIdStringParser,
    users: () => m.users as unknown as UserDatabase<StoreUser, string>,
    tokens: () => m.tokens as unknown as Tokens,
    // The digest is the token document's `_id`.
    tokenDigests: async () => (await m.tokens.collection.find({}).toArray()).map((d) => d._id),
    userCount: () => m.users.collection.countDocuments({}),
    reset: async () => {
      await m.tokens.collection.deleteMany({});
      await m.users.collection.deleteMany({});
      await m.oauthAccountKeys.deleteMany({});
      await m.mfa.deleteMany({});
      await m.passkeys.deleteMany({});
    },
  };
}

/** The store selected by `TESSERA_HTTP_STORE`, emptied. */
export async function openStore(): Promise<TestStore> {
  const kind = (process.env.TESSERA_HTTP_STORE ?? "memory") as StoreKind;
  const store =
    kind === "memory"
      ? memoryStore()
      : kind === "mikroorm-postgresql"
        ? await postgresStore()
        : await mongoStore();
  await store.reset();
  return store;
}
