// Reference (not a safe server): the Bearer JWT's payload decoded WITHOUT checking its
// signature or any claim, the user looked up in an in-process Map by `sub`, in one async
// middleware. What any token middleware with an in-process user costs on this machine
// before any security work: the JWT verify path's ceiling.
import type Koa from "koa";
import KoaApp from "koa";
import pg from "pg";
import { env } from "../lib/shared.ts";
import { meRouter } from "./common.ts";
import { bearerToken } from "./handwritten.ts";

export async function build(): Promise<Koa> {
  const client = new pg.Client({ connectionString: env("POSTGRES_URL") });
  await client.connect();
  const { rows } = await client.query<{ id: string; email: string }>(
    `select id, email from "user"`,
  );
  await client.end();
  const users = new Map(rows.map((r) => [r.id, { id: r.id, email: r.email }]));
  const app = new KoaApp();
  const auth: Koa.Middleware = async (ctx, next) => {
    const payload = bearerToken(ctx as Koa.Context)?.split(".")[1];
    const sub = payload ? JSON.parse(Buffer.from(payload, "base64url").toString()).sub : undefined;
    const user = typeof sub === "string" ? users.get(sub) : undefined;
    if (!user) {
      ctx.status = 401;
      return;
    }
    ctx.state.user = user;
    await next();
  };
  app.use(meRouter([auth], (ctx) => ctx.state.user.id).routes());
  return app;
}
