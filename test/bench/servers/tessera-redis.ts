// Tessera's Redis strategy: one EVALSHA reads (and when due renews) the session; the user
// comes from the session's snapshot, or from PostgreSQL when snapshots are off.
import { MikroOrmUserDatabase, User } from "@tessera/db-mikroorm";
import { RedisStrategy, recommendedRedisOptions } from "@tessera/strategy-redis";
import { Redis } from "ioredis";
import type Koa from "koa";
import type { BenchUser } from "../lib/seed.ts";
import { env, SESSION_LIFETIME_SECONDS } from "../lib/shared.ts";
import { openOrm } from "./orm.ts";
import { backend, type MeReads, tesseraApp } from "./tessera-common.ts";

export async function redisApp(snapshot: boolean, reads: MeReads = "user"): Promise<Koa> {
  const redis = new Redis(env("REDIS_URL"), { ...recommendedRedisOptions, lazyConnect: true });
  await redis.connect();
  const strategy = new RedisStrategy<BenchUser, string>({
    redis,
    lifetimeSeconds: SESSION_LIFETIME_SECONDS,
    snapshot,
  });
  const auth = backend("redis", () => strategy);
  if (snapshot) {
    // Never read: every session carries its user.
    const none = { get: async () => null };
    return tesseraApp({ backends: [auth], userDb: none as never, reads }).app;
  }
  const orm = await openOrm("postgresql");
  const users = new MikroOrmUserDatabase(orm.em, User);
  return tesseraApp({ backends: [auth], userDb: users as never, reads }).app;
}
