// Reference: the Redis strategy's single read written by hand — the Bearer token's SHA-256
// digest, one HMGET of the session hash with the same ioredis options Tessera recommends
// (auto-pipelining, command timeout), no lifetime checks, no renewal, the user id from the
// hash. What any Redis session lookup costs on this machine: the Redis strategy's ceiling.
import { hashToken } from "@tessera/core";
import { recommendedRedisOptions } from "@tessera/strategy-redis";
import { Redis } from "ioredis";
import type Koa from "koa";
import KoaApp from "koa";
import { env } from "../lib/shared.ts";
import { meRouter } from "./common.ts";
import { bearerToken } from "./handwritten.ts";

const PREFIX = "tessera:token:";

export async function build(): Promise<Koa> {
  const redis = new Redis(env("REDIS_URL"), { ...recommendedRedisOptions, lazyConnect: true });
  await redis.connect();
  const app = new KoaApp();
  const auth: Koa.Middleware = async (ctx, next) => {
    const token = bearerToken(ctx as Koa.Context);
    if (token === null) {
      ctx.status = 401;
      return;
    }
    const [userId] = await redis.hmget(PREFIX + hashToken(token), "u");
    if (!userId) {
      ctx.status = 401;
      return;
    }
    ctx.state.userId = userId;
    await next();
  };
  app.use(meRouter([auth], (ctx) => ctx.state.userId).routes());
  return app;
}
