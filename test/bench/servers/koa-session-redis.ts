// Peer: koa-session with a koa-redis store (signed cookie, session JSON in Redis; no user
// read). `POST /login?id=` creates a session: the orchestrator seeds the pool through it.
import { Router } from "@koa/router";
import Koa from "koa";
import redisStore from "koa-redis";
import session from "koa-session";
import { env, SESSION_KEYS, SESSION_LIFETIME_SECONDS } from "../lib/shared.ts";
import { meRouter } from "./common.ts";

export async function build(): Promise<Koa> {
  const url = new URL(env("REDIS_URL"));
  const app = new Koa();
  app.keys = SESSION_KEYS;
  const store = redisStore({ host: url.hostname, port: Number(url.port) }) as never;
  app.use(session({ store, maxAge: SESSION_LIFETIME_SECONDS * 1000 }, app));
  const login = new Router();
  login.post("/login", (ctx) => {
    (ctx.session as unknown as { userId: string }).userId = String(ctx.query.id);
    ctx.status = 204;
  });
  app.use(login.routes());
  const auth: Koa.Middleware = async (ctx, next) => {
    if (!ctx.session?.userId) {
      ctx.status = 401;
      return;
    }
    await next();
  };
  app.use(meRouter([auth], (ctx) => ctx.session?.userId).routes());
  return app;
}
