import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { UserManager, type UserProtocol } from "@tessera/core";
import { mikroOrmSchema, strategySessions } from "./adapters.js";
import type {
  CliSchema,
  CliSessionStore,
  EnvironmentConnectionOptions,
  TesseraCliConnection,
} from "./config.js";
import {
  type DatabaseTarget,
  describeTarget,
  parseDatabaseTarget,
  redactUrl,
} from "./database-url.js";
import { CliError, ExitCode, isConnectionError } from "./exit-codes.js";

type User = UserProtocol<string>;
type Connection = TesseraCliConnection<User, string>;

/** The example app's password rules: the 10,000 most common passwords are refused. */
export const DEFAULT_PASSWORD_POLICY = { rejectCommonPasswords: true } as const;

/** A day: the example app's longest access-token lifetime (`ACCESS_TOKEN_LIFETIME_SECONDS`). */
const DEFAULT_JWT_MAX_LIFETIME_SECONDS = 86_400;

const REDIS_EXPIRES = "Redis expires sessions by itself (each key has a TTL): nothing to purge";

/**
 * Opens Tessera's own tables or collections from connection strings, as the example app
 * lays them out: on SQL, db-mikroorm's `User` (UUID ids), `AccessToken`, `OAuthAccount`,
 * `MfaTotp`, `MfaRecoveryCode`, `Passkey`; on MongoDB, db-mongo's `users`, `access_tokens`,
 * `oauth_account_keys`, `mfa`, `passkeys` collections. With a Redis URL, the sessions of
 * the Redis strategy and the JWT revocation store are reached too.
 *
 * Drivers are imported only when used. A server that cannot be reached throws a
 * {@link CliError} with {@link ExitCode.UNAVAILABLE}.
 */
export async function connectFromEnvironment(
  options: EnvironmentConnectionOptions,
  env: NodeJS.ProcessEnv,
  command: string,
): Promise<Connection> {
  const target = parseDatabaseTarget({
    DATABASE_URL: "databaseUrl" in options ? options.databaseUrl : env.DATABASE_URL,
    MONGODB_URL: "mongodbUrl" in options ? options.mongodbUrl : env.MONGODB_URL,
  });
  const redisUrl = ("redisUrl" in options ? options.redisUrl : env.REDIS_URL) || undefined;
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
  };
  try {
    const base =
      target.kind === "mongodb"
        ? await openMongo(target, closers)
        : await openMikroOrm(target, closers, command === "migrate up");
    const sessions: Record<string, CliSessionStore<User>> = { database: base.sessions };
    if (redisUrl) Object.assign(sessions, await openRedis(redisUrl, options, closers));
    const userManager = new UserManager<User, string>({
      userDb: base.users,
      idParser: base.idParser,
      passwordPolicy: options.passwordPolicy ?? DEFAULT_PASSWORD_POLICY,
      // Never used: the CLI issues no verification or reset tokens.
      verificationTokenSecret: randomBytes(32).toString("base64url"),
      resetPasswordTokenSecret: randomBytes(32).toString("base64url"),
    });
    return { userManager, sessions, schema: base.schema, close };
  } catch (error) {
    await close();
    throw error;
  }
}

interface Base {
  users: ConstructorParameters<typeof UserManager<User, string>>[0]["userDb"];
  idParser: NonNullable<ConstructorParameters<typeof UserManager<User, string>>[0]["idParser"]>;
  sessions: CliSessionStore<User>;
  schema: CliSchema;
}

const unavailable = (where: string, reason: string, cause?: unknown) =>
  new CliError(ExitCode.UNAVAILABLE, `cannot connect to ${where}: ${reason}`, { cause });

async function openMikroOrm(
  target: Extract<DatabaseTarget, { kind: "postgresql" | "sqlite" }>,
  closers: (() => Promise<unknown>)[],
  createDatabase: boolean,
): Promise<Base> {
  const [{ MikroORM }, { uuidIdParser }, db, { DatabaseStrategy }] = await Promise.all([
    import("@mikro-orm/core"),
    import("@tessera/core"),
    import("@tessera/db-mikroorm"),
    import("@tessera/strategy-database"),
  ]);
  const entities = [
    db.User,
    db.AccessToken,
    db.OAuthAccount,
    db.MfaTotp,
    db.MfaRecoveryCode,
    db.Passkey,
  ];
  const where = describeTarget(target);
  let orm: InstanceType<typeof MikroORM>;
  if (target.kind === "postgresql") {
    const { PostgreSqlDriver } = await import("@mikro-orm/postgresql");
    orm = await MikroORM.init({
      driver: PostgreSqlDriver,
      clientUrl: target.url,
      entities,
      // Created by `migrate` alone (below), never as a side effect of another command.
      ensureDatabase: false,
      // A server that is down fails the command within seconds instead of hanging it.
      driverOptions: { connectionTimeoutMillis: 3000, statement_timeout: 30_000 },
    });
  } else {
    const [{ SqliteDriver }, { TesseraSqliteDialect }] = await Promise.all([
      import("@mikro-orm/sql"),
      import("@tessera/db-mikroorm/sqlite"),
    ]);
    if (createDatabase) {
      mkdirSync(dirname(target.file), { recursive: true });
    } else if (!existsSync(target.file)) {
      // Opening it would create an empty database: say what is wrong instead.
      throw new CliError(
        ExitCode.FAILED,
        `${where} does not exist: create it with tessera migrate, or check DATABASE_URL`,
      );
    }
    orm = await MikroORM.init({
      driver: SqliteDriver,
      dbName: target.file,
      driverOptions: new TesseraSqliteDialect(target.file),
      entities,
      ensureDatabase: false,
    });
  }
  closers.push(() => orm.close(true));
  const schema = mikroOrmSchema(orm, where);
  if (createDatabase && target.kind === "postgresql") {
    try {
      await (orm.schema as unknown as { ensureDatabase(): Promise<boolean> }).ensureDatabase();
    } catch (error) {
      // A failed ensureDatabase leaves the ORM connected to the management database, where
      // no table may go: this one is closed whatever happens next.
      await orm.close(true);
      closers.pop();
      // Another process created it meanwhile (42P04 duplicate_database, or 23505 on the
      // catalog's unique index when both got past the existence check): open it anew.
      const code = (error as { code?: unknown }).code;
      if (code === "42P04" || code === "23505") {
        return openMikroOrm(target, closers, false);
      }
      if (isConnectionError(error)) throw unavailable(where, messageOf(error), error);
      throw new CliError(
        ExitCode.FAILED,
        `${where}: cannot create the database: ${messageOf(error)}`,
        { cause: error },
      );
    }
  }
  try {
    // MikroORM connects lazily: one query proves the server answers (checkConnection() says
    // "not established" until a first query has run).
    await orm.em.getConnection().execute("select 1");
  } catch (error) {
    // 3D000 invalid_catalog_name: the server answers, the database is not there.
    if ((error as { code?: unknown }).code === "3D000") {
      throw new CliError(
        ExitCode.FAILED,
        `${where}: the database does not exist: create it with tessera migrate, or check DATABASE_URL`,
        { cause: error },
      );
    }
    throw unavailable(where, messageOf(error), error);
  }
  const mfa = { totp: db.MfaTotp, recoveryCode: db.MfaRecoveryCode, passkey: db.Passkey };
  const em = orm.em.fork();
  return {
    users: new db.MikroOrmUserDatabase(em, db.User, { oauthAccount: db.OAuthAccount, mfa }),
    idParser: uuidIdParser,
    sessions: strategySessions(
      new DatabaseStrategy<User>({
        database: new db.MikroOrmAccessTokenDatabase(orm.em.fork(), db.AccessToken),
      }),
    ),
    schema,
  };
}

/** The indexes db-mongo's `ensureIndexes` makes (the TTL index is the app's choice). */
export const MONGO_INDEXES: Readonly<Record<string, readonly string[]>> = {
  users: ["email_unique", "oauth_accounts_unique"],
  access_tokens: ["user_id", "handle"],
  oauth_account_keys: ["user_id"],
  passkeys: ["user_id"],
};

async function openMongo(
  target: Extract<DatabaseTarget, { kind: "mongodb" }>,
  closers: (() => Promise<unknown>)[],
): Promise<Base> {
  const [{ MongoClient }, { objectIdStringParser }, mongo, { DatabaseStrategy }] =
    await Promise.all([
      import("mongodb"),
      import("@tessera/core"),
      import("@tessera/db-mongo"),
      import("@tessera/strategy-database"),
    ]);
  const where = describeTarget(target);
  const client = new MongoClient(target.url, mongo.fastFailClientOptions);
  closers.push(() => client.close());
  try {
    await client.connect();
    await client.db(target.dbName).command({ ping: 1 });
  } catch (error) {
    throw unavailable(where, messageOf(error), error);
  }
  const db = client.db(target.dbName);
  const tokenCollection =
    db.collection<import("@tessera/db-mongo").MongoAccessTokenDocument>("access_tokens");
  const users = new mongo.MongoUserDatabase<User>(db.collection("users"), {
    accessTokenCollection: tokenCollection,
    oauthAccountKeyCollection: db.collection("oauth_account_keys"),
    mfaCollection: db.collection("mfa"),
    passkeyCollection: db.collection("passkeys"),
  });
  const tokens = new mongo.MongoAccessTokenDatabase<User>(tokenCollection, { users });
  const existing = async () => {
    const names = new Set<string>();
    const collections = new Set(
      (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name),
    );
    for (const collection of Object.keys(MONGO_INDEXES)) {
      if (!collections.has(collection)) continue;
      for (const index of await db.collection(collection).listIndexes().toArray()) {
        names.add(`${collection}.${String(index.name)}`);
      }
    }
    return names;
  };
  const pending = async () => {
    const have = await existing();
    return Object.entries(MONGO_INDEXES).flatMap(([collection, indexes]) =>
      indexes.map((index) => `${collection}.${index}`).filter((name) => !have.has(name)),
    );
  };
  return {
    users,
    idParser: objectIdStringParser,
    sessions: strategySessions(new DatabaseStrategy<User>({ database: tokens })),
    schema: {
      description: where,
      pending,
      async up() {
        const before = await existing();
        await users.ensureIndexes();
        await tokens.ensureIndexes();
        const after = await existing();
        return [...after].filter((name) => !before.has(name)).sort();
      },
    },
  };
}

async function openRedis(
  url: string,
  options: EnvironmentConnectionOptions,
  closers: (() => Promise<unknown>)[],
): Promise<Record<string, CliSessionStore<User>>> {
  const [{ Redis }, { RedisStrategy }, { RedisJwtRevocationStore }] = await Promise.all([
    import("ioredis"),
    import("@tessera/strategy-redis"),
    import("@tessera/strategy-redis/jwt"),
  ]);
  const where = `Redis ${redactUrl(url)}`;
  // One attempt, no reconnection: a command-line tool reports an outage, it does not wait it out.
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2000,
    commandTimeout: 5000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // ioredis reports the socket's error as an event and rejects connect() with "Connection
  // is closed": keep the first for the message.
  let socketError: unknown;
  redis.on("error", (error: unknown) => {
    socketError ??= error;
  });
  closers.push(async () => redis.disconnect());
  try {
    await redis.connect();
  } catch (error) {
    throw unavailable(where, messageOf(socketError ?? error), socketError ?? error);
  }
  const maxLifetime = options.jwtMaxLifetimeSeconds ?? DEFAULT_JWT_MAX_LIFETIME_SECONDS;
  const revocations = new RedisJwtRevocationStore({ redis });
  return {
    redis: strategySessions(new RedisStrategy<User, string>({ redis }), REDIS_EXPIRES),
    "jwt-revocation": {
      revokeUser: async (user) => {
        const now = Date.now();
        await revocations.revokeUserTokens({
          sub: String(user.id),
          cutoff: new Date(now),
          expiresAt: new Date(now + maxLifetime * 1000),
        });
      },
      expiresItself:
        "revocation entries expire in Redis with the tokens they cover: nothing to purge",
    },
  };
}

function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return error.errors.map(messageOf).join("; ");
  }
  return error instanceof Error ? error.message || error.name : String(error);
}
