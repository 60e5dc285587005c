// MikroORM on PostgreSQL or SQLite with Tessera's entities, and the per-request fork the
// db-mikroorm docs recommend (withRequestEntityManager).
import { type EntityManager, MikroORM } from "@mikro-orm/core";
import { PostgreSqlDriver } from "@mikro-orm/postgresql";
import { NodeSqliteDialect, SqliteDriver } from "@mikro-orm/sql";
import { AccessToken, User, withRequestEntityManager } from "@tessera/db-mikroorm";
import type { Context, Middleware } from "koa";
import { env } from "../lib/shared.ts";

export async function openOrm(kind: "postgresql" | "sqlite"): Promise<MikroORM> {
  if (kind === "postgresql") {
    return MikroORM.init({
      driver: PostgreSqlDriver,
      clientUrl: env("POSTGRES_URL"),
      entities: [User, AccessToken],
    });
  }
  const file = env("SQLITE_FILE");
  return MikroORM.init({
    driver: SqliteDriver,
    dbName: file,
    driverOptions: new NodeSqliteDialect(file),
    entities: [User, AccessToken],
  });
}

export function scope(orm: MikroORM): Middleware {
  return (ctx, next) =>
    withRequestEntityManager(orm.em, (em) => {
      ctx.state.em = em;
      return next();
    });
}

export const emOf = (ctx: Context): EntityManager => ctx.state.em as EntityManager;
