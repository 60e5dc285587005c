// Peer: koa-jwt (jsonwebtoken), verify only, with the secret imported once as a KeyObject
// (its fastest form) and the algorithm pinned.
import { createSecretKey } from "node:crypto";
import Koa from "koa";
import koaJwt from "koa-jwt";
import { JWT_SECRET } from "../lib/shared.ts";
import { meRouter } from "./common.ts";

export async function koaJwtApp(
  secret: string | Buffer | import("node:crypto").KeyObject,
): Promise<Koa> {
  const app = new Koa();
  const auth = koaJwt({ secret: secret as string, algorithms: ["HS256"] });
  app.use(meRouter([auth], (ctx) => ctx.state.user.sub).routes());
  return app;
}

export const build = () => koaJwtApp(createSecretKey(Buffer.from(JWT_SECRET)));
