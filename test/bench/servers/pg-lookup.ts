// Peers: hand-written lookups with `pg` on Tessera's tables — FastAPI Users' shape (the
// token row, then the user row: two round trips) and one JOIN. Plain parameterized
// queries, as such code is usually written; the token is hashed as Tessera stores it.
import Koa from "koa";
import pg from "pg";
import { env } from "../lib/shared.ts";
import { meRouter } from "./common.ts";
import { bearerToken, digest, live } from "./handwritten.ts";

export async function pgApp(mode: "two-queries" | "join"): Promise<Koa> {
  const pool = new pg.Pool({ connectionString: env("POSTGRES_URL"), max: 10 });
  const auth: Koa.Middleware = async (ctx, next) => {
    const token = bearerToken(ctx as Koa.Context);
    let user: { id: string; is_active: boolean } | undefined;
    if (token) {
      if (mode === "two-queries") {
        const t = await pool.query(
          "select user_id, created_at, lifetime_seconds from access_token where token = $1",
          [digest(token)],
        );
        const row = t.rows[0];
        if (row && live(row.created_at, row.lifetime_seconds)) {
          const u = await pool.query('select * from "user" where id = $1', [row.user_id]);
          user = u.rows[0];
        }
      } else {
        const r = await pool.query(
          'select t.created_at, t.lifetime_seconds, u.* from access_token t join "user" u on u.id = t.user_id where t.token = $1',
          [digest(token)],
        );
        const row = r.rows[0];
        if (row && live(row.created_at, row.lifetime_seconds)) user = row;
      }
    }
    if (!user?.is_active) {
      ctx.status = 401;
      return;
    }
    ctx.state.user = user;
    await next();
  };
  const app = new Koa();
  app.use(meRouter([auth], (ctx) => ctx.state.user.id).routes());
  return app;
}
