// Seeds every store with the same users and writes the token pools the load generator
// picks from at random: one line per token, `Header: value`.
import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MikroORM } from "@mikro-orm/core";
import { PostgreSqlDriver } from "@mikro-orm/postgresql";
import { SqliteDriver } from "@mikro-orm/sql";
import { generateOpaqueToken, hashToken, PasswordHelper } from "@tessera/core";
import { sessionIdFromDigest } from "@tessera/core/internal";
import { AccessToken, MikroOrmAccessTokenDatabase, User } from "@tessera/db-mikroorm";
import { TesseraSqliteDialect } from "@tessera/db-mikroorm/sqlite";
import { MongoAccessTokenDatabase, MongoUserDatabase } from "@tessera/db-mongo";
import { DatabaseSessionStore } from "@tessera/strategy-database";
import { JWTStrategy } from "@tessera/strategy-jwt";
import { RedisStrategy } from "@tessera/strategy-redis";
import { Redis } from "ioredis";
import { SignJWT } from "jose";
import { MongoClient } from "mongodb";
import pg from "pg";
import { refreshStrategy } from "../servers/tessera-refresh.ts";
import { JWT_SECRET, PASSWORD, SESSION_LIFETIME_SECONDS } from "./shared.ts";

export interface BenchUser {
  id: string;
  email: string;
  hashedPassword: string;
  isActive: boolean;
  isSuperuser: boolean;
  isVerified: boolean;
}

export interface Seeded {
  sqliteFile: string;
  /** Token pools by name: the file holds one `Header: value` line per token. */
  pools: Record<string, string>;
  /** Emails of the seeded users (all with password {@link PASSWORD}). */
  emails: string[];
}

const bearer = (t: string) => `Authorization: Bearer ${t}`;

function writePool(dir: string, name: string, lines: string[]): string {
  const file = join(dir, `${name}.txt`);
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

async function seedMikroOrm(orm: MikroORM, users: BenchUser[], tokens: string[]): Promise<void> {
  await orm.schema.create();
  const em = orm.em.fork();
  const now = new Date();
  for (let i = 0; i < users.length; i += 500) {
    await em.insertMany(User, users.slice(i, i + 500));
  }
  const rows = users.map((u, i) => {
    const digest = hashToken(tokens[i] as string);
    // As DatabaseSessionStore.createSession writes a session: its handle (which getData
    // reads by), and a little data (a preference, as the example app keeps).
    return {
      token: digest,
      user: u.id,
      createdAt: now,
      lifetimeSeconds: SESSION_LIFETIME_SECONDS,
      handle: sessionIdFromDigest(digest),
      data: { theme: "dark" },
    };
  });
  for (let i = 0; i < rows.length; i += 500) {
    await em.insertMany(AccessToken, rows.slice(i, i + 500));
  }
}

/** FastAPI Users' SQLAlchemy tables (SQLAlchemyBaseUserTableUUID, SQLAlchemyBaseAccessTokenTableUUID). */
async function seedFastApiUsers(
  postgresUrl: string,
  users: BenchUser[],
  tokens: string[],
): Promise<string> {
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  await admin.query("create database fastapi_users");
  await admin.end();
  const url = postgresUrl.replace(/\/[^/]*$/, "/fastapi_users");
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`
    create table "user" (
      id uuid primary key, email varchar(320) not null, hashed_password varchar(1024) not null,
      is_active boolean not null, is_superuser boolean not null, is_verified boolean not null);
    create unique index ix_user_email on "user" (email);
    create table accesstoken (
      token varchar(43) primary key, created_at timestamptz not null,
      user_id uuid not null references "user"(id) on delete cascade);
    create index ix_accesstoken_created_at on accesstoken (created_at);`);
  for (const u of users) {
    await client.query(`insert into "user" values ($1, $2, $3, true, false, false)`, [
      u.id,
      u.email,
      u.hashedPassword,
    ]);
  }
  for (let i = 0; i < users.length; i++) {
    await client.query("insert into accesstoken values ($1, now(), $2)", [tokens[i], users[i]?.id]);
  }
  await client.end();
  return url;
}

/**
 * Seeds PostgreSQL and SQLite always (every JWT variant reads its users there), and the
 * other stores only for the pools `wanted` names.
 */
export async function seed(
  dir: string,
  urls: { postgresUrl: string; redisUrl: string; mongoUrl: string | null },
  count: number,
  wanted: ReadonlySet<string>,
): Promise<Seeded & { fastapiPostgresUrl: string }> {
  mkdirSync(dir, { recursive: true });
  const hashedPassword = await new PasswordHelper().hash(PASSWORD);
  const users: BenchUser[] = Array.from({ length: count }, (_, i) => ({
    id: randomUUID(),
    email: `user${i}@bench.example`,
    hashedPassword,
    isActive: true,
    isSuperuser: false,
    isVerified: false,
  }));
  const pools: Record<string, string> = {};

  // Opaque database tokens: the same digests in PostgreSQL and SQLite.
  const dbTokens = users.map(() => generateOpaqueToken());
  const pgOrm = await MikroORM.init({
    driver: PostgreSqlDriver,
    clientUrl: urls.postgresUrl,
    entities: [User, AccessToken],
  });
  await seedMikroOrm(pgOrm, users, dbTokens);
  if (wanted.has("refresh")) pools.refresh = await seedRefresh(dir, pgOrm, users);
  await pgOrm.close();
  const sqliteFile = join(dir, "bench.sqlite");
  const sqliteOrm = await MikroORM.init({
    driver: SqliteDriver,
    dbName: sqliteFile,
    driverOptions: new TesseraSqliteDialect(sqliteFile),
    entities: [User, AccessToken],
  });
  await seedMikroOrm(sqliteOrm, users, dbTokens);
  await sqliteOrm.close();
  pools.db = writePool(dir, "db", dbTokens.map(bearer));

  // JWTs signed by Tessera's strategy; koa-jwt and passport-jwt verify the same tokens.
  const jwt = new JWTStrategy<BenchUser, string>({
    secret: JWT_SECRET,
    lifetimeSeconds: SESSION_LIFETIME_SECONDS,
  });
  pools.jwt = writePool(
    dir,
    "jwt",
    await Promise.all(users.map(async (u) => bearer(await jwt.writeToken(u)))),
  );

  const fastapiPostgresUrl = [...wanted].some((p) => p.startsWith("fastapi"))
    ? await seedFastApi(dir, pools, urls, users)
    : "";
  if (wanted.has("redis")) pools.redis = await seedRedis(dir, urls.redisUrl, users);
  if (wanted.has("mongo")) {
    if (!urls.mongoUrl) throw new Error("the mongo pool needs a MongoDB-protocol server");
    pools.mongo = await seedMongo(dir, urls.mongoUrl, users, hashedPassword);
  }
  return { sqliteFile, pools, emails: users.map((u) => u.email), fastapiPostgresUrl };
}

/**
 * RefreshTokenStrategy's access tokens, one per user: a real login's pair (its session in
 * PostgreSQL, as DatabaseSessionStore keeps it), of which the pool keeps the access token.
 */
async function seedRefresh(dir: string, orm: MikroORM, users: BenchUser[]): Promise<string> {
  const strategy = refreshStrategy(
    new DatabaseSessionStore<string>({
      database: new MikroOrmAccessTokenDatabase(orm.em.fork(), AccessToken) as never,
      lifetimeSeconds: SESSION_LIFETIME_SECONDS,
    }),
  );
  const tokens: string[] = [];
  for (const u of users) tokens.push((await strategy.writeTokenPair(u)).accessToken);
  return writePool(dir, "refresh", tokens.map(bearer));
}

/** Redis sessions with a user snapshot (the snapshot-off variant ignores it and reads PostgreSQL). */
async function seedRedis(dir: string, redisUrl: string, users: BenchUser[]): Promise<string> {
  const redis = new Redis(redisUrl);
  const redisStrategy = new RedisStrategy<BenchUser, string>({
    redis,
    lifetimeSeconds: SESSION_LIFETIME_SECONDS,
    snapshot: true,
  });
  const redisTokens: string[] = [];
  for (const u of users) redisTokens.push(await redisStrategy.writeToken(u));
  redis.disconnect();
  return writePool(dir, "redis", redisTokens.map(bearer));
}

/**
 * MongoDB protocol (db-mongo): ObjectId users of their own, and their tokens stored by the
 * adapter (`{ _id: digest, user_id, created_at, lifetime_seconds }`), which the
 * hand-written mongo-two-finds variant reads too.
 */
async function seedMongo(
  dir: string,
  mongoUrl: string,
  users: BenchUser[],
  hashedPassword: string,
): Promise<string> {
  const mongo = new MongoClient(mongoUrl);
  await mongo.connect();
  const db = mongo.db("bench");
  const tokenCollection = db.collection("access_tokens");
  const mongoUsers = new MongoUserDatabase<BenchUser>(db.collection("users"), {
    accessTokenCollection: tokenCollection as never,
  });
  const mongoTokens = new MongoAccessTokenDatabase<BenchUser>(tokenCollection as never, {
    users: mongoUsers,
  });
  await mongoUsers.ensureIndexes();
  await mongoTokens.ensureIndexes();
  const mongoTokenList: string[] = [];
  for (const u of users) {
    const created = await mongoUsers.create({
      email: u.email,
      hashedPassword,
      isActive: true,
      isSuperuser: false,
      isVerified: false,
    });
    const token = generateOpaqueToken();
    const digest = hashToken(token);
    // With its handle, as DatabaseSessionStore.createSession writes a session: a row without
    // one is given it on its first read, a one-time write that is not what a request costs.
    await mongoTokens.create({
      token: digest,
      userId: created.id,
      createdAt: new Date(),
      lifetimeSeconds: SESSION_LIFETIME_SECONDS,
      handle: sessionIdFromDigest(digest),
    });
    mongoTokenList.push(token);
  }
  await mongo.close();
  return writePool(dir, "mongo", mongoTokenList.map(bearer));
}

/**
 * FastAPI Users: its own database, its JWT shape (aud fastapi-users:auth), its Redis keys,
 * and its access-token table (which keeps the token itself, not a digest).
 */
async function seedFastApi(
  dir: string,
  pools: Record<string, string>,
  urls: { postgresUrl: string; redisUrl: string },
  users: BenchUser[],
): Promise<string> {
  const fastTokens = users.map(() => randomBytes(32).toString("base64url"));
  const fastapiPostgresUrl = await seedFastApiUsers(urls.postgresUrl, users, fastTokens);
  pools["fastapi-db"] = writePool(dir, "fastapi-db", fastTokens.map(bearer));
  const fastRedis = users.map(() => randomBytes(32).toString("base64url"));
  const redis = new Redis(urls.redisUrl);
  const pipeline = redis.pipeline();
  users.forEach((u, i) => {
    pipeline.set(`fastapi_users_token:${fastRedis[i]}`, u.id, "EX", SESSION_LIFETIME_SECONDS);
  });
  await pipeline.exec();
  pools["fastapi-redis"] = writePool(dir, "fastapi-redis", fastRedis.map(bearer));
  const key = new TextEncoder().encode(JWT_SECRET);
  const exp = Math.floor(Date.now() / 1000) + SESSION_LIFETIME_SECONDS;
  const fastJwt = await Promise.all(
    users.map((u) =>
      new SignJWT({ sub: u.id, aud: ["fastapi-users:auth"], exp })
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .sign(key),
    ),
  );
  pools["fastapi-jwt"] = writePool(dir, "fastapi-jwt", fastJwt.map(bearer));
  redis.disconnect();
  return fastapiPostgresUrl;
}
