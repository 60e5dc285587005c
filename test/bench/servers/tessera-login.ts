// The login-under-load server: Tessera's database strategy on PostgreSQL with the auth
// router (argon2id password logins) and the users router (`GET /users/me`).
import {
  AccessToken,
  MikroOrmAccessTokenDatabase,
  MikroOrmUserDatabase,
  User,
} from "@tessera/db-mikroorm";
import { DatabaseStrategy } from "@tessera/strategy-database";
import type Koa from "koa";
import type { BenchUser } from "../lib/seed.ts";
import { SESSION_LIFETIME_SECONDS } from "../lib/shared.ts";
import { openOrm } from "./orm.ts";
import { backend, tesseraApp } from "./tessera-common.ts";

export async function build(): Promise<Koa> {
  const orm = await openOrm("postgresql");
  const strategy = new DatabaseStrategy<BenchUser>({
    database: new MikroOrmAccessTokenDatabase(orm.em, AccessToken) as never,
    lifetimeSeconds: SESSION_LIFETIME_SECONDS,
  });
  const users = new MikroOrmUserDatabase(orm.em, User);
  const auth = backend("db", () => strategy);
  const { app, tessera } = tesseraApp({
    backends: [auth],
    userDb: users as never,
    // 50 logins in flight from one address would be throttled (429) at once: this measures
    // the cost of hashing, as 50 users logging in from 50 places would incur it.
    rateLimit: false,
  });
  app.use(tessera.authRouter(auth, { prefix: "/auth/db" }).routes());
  app.use(tessera.usersRouter({ prefix: "/users" }).routes());
  return app;
}
