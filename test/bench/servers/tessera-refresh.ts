// Tessera's refresh-token sessions (RefreshTokenStrategy): a JWT access token with a `sid`
// claim, verified with no store call, and `POST /auth/refresh/refresh` rotating the refresh
// token in a session store (DatabaseSessionStore on PostgreSQL, or RedisSessionStore).
//
// - "memory": `GET /me` with the seeded access tokens (lib/seed.ts, sessions in PostgreSQL),
//   users in process: the verify path beside tessera-jwt-memory. Its session store is an
//   empty in-process one: a path that read the store would find no session and answer 401,
//   which the run's start-up check refuses, so the figures are those of a path with no store.
// - "postgresql", "redis": the login and refresh routes (lib/refresh-rate.ts logs in, then
//   refreshes), sessions in PostgreSQL (db-mikroorm) or Redis, users in PostgreSQL.
import type { RefreshSessionStore } from "@tessera/core";
import { MemoryAccessTokenDatabase } from "@tessera/core/testing";
import {
  AccessToken,
  MikroOrmAccessTokenDatabase,
  MikroOrmUserDatabase,
  User,
} from "@tessera/db-mikroorm";
import { DatabaseSessionStore } from "@tessera/strategy-database";
import { JwtKeySet, RefreshTokenStrategy } from "@tessera/strategy-jwt";
import { RedisSessionStore, recommendedRedisOptions } from "@tessera/strategy-redis";
import { Redis } from "ioredis";
import type Koa from "koa";
import type { BenchUser } from "../lib/seed.ts";
import { env, JWT_SECRET, REFRESH_SECRET, SESSION_LIFETIME_SECONDS } from "../lib/shared.ts";
import { openOrm } from "./orm.ts";
import { backend, tesseraApp } from "./tessera-common.ts";
import { memoryUsers } from "./tessera-jwt.ts";

const keys = JwtKeySet.from([{ secret: JWT_SECRET }]);

/**
 * The strategy of every refresh variant and of the seed: HS256 access tokens as the JWT
 * variants' (same secret, its own audience), living as long as theirs (no expiry during a
 * run), and refresh sessions idle-expiring after the same lifetime.
 */
export function refreshStrategy(
  sessions: RefreshSessionStore<string>,
): RefreshTokenStrategy<BenchUser, string> {
  return new RefreshTokenStrategy<BenchUser, string>({
    sessions,
    keys,
    refreshSecret: REFRESH_SECRET,
    accessTokenLifetimeSeconds: SESSION_LIFETIME_SECONDS,
  });
}

export async function refreshApp(store: "memory" | "postgresql" | "redis"): Promise<Koa> {
  if (store === "memory") {
    const sessions = new DatabaseSessionStore<string>({
      database: new MemoryAccessTokenDatabase(),
      lifetimeSeconds: SESSION_LIFETIME_SECONDS,
    });
    const strategy = refreshStrategy(sessions);
    const auth = backend("refresh", () => strategy);
    return tesseraApp({ backends: [auth], userDb: (await memoryUsers()) as never }).app;
  }
  const orm = await openOrm("postgresql");
  let sessions: RefreshSessionStore<string>;
  if (store === "postgresql") {
    sessions = new DatabaseSessionStore<string>({
      database: new MikroOrmAccessTokenDatabase(orm.em, AccessToken) as never,
      lifetimeSeconds: SESSION_LIFETIME_SECONDS,
    });
  } else {
    const redis = new Redis(env("REDIS_URL"), { ...recommendedRedisOptions, lazyConnect: true });
    await redis.connect();
    sessions = new RedisSessionStore<string>({ redis, lifetimeSeconds: SESSION_LIFETIME_SECONDS });
  }
  const strategy = refreshStrategy(sessions);
  const auth = backend("refresh", () => strategy);
  const { app, tessera } = tesseraApp({
    backends: [auth],
    userDb: new MikroOrmUserDatabase(orm.em, User) as never,
    // The chains' logins come from one address all at once: they would be throttled (429).
    rateLimit: false,
  });
  app.use(tessera.authRouter(auth, { prefix: "/auth/refresh" }).routes());
  return app;
}
