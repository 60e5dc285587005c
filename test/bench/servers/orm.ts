// MikroORM on PostgreSQL or SQLite with Tessera's entities. The adapters get the ORM's
// global EntityManager, made once, with no fork per request (docs/packages/db-mikroorm.md,
// "no fork at all"); a fork per request cost 15-20 µs of CPU each. SQLite runs on
// TesseraSqliteDialect, whose cached statements the adapters' hot reads run directly.
import { MikroORM } from "@mikro-orm/core";
import { PostgreSqlDriver } from "@mikro-orm/postgresql";
import { SqliteDriver } from "@mikro-orm/sql";
import { AccessToken, User } from "@tessera/db-mikroorm";
import { TesseraSqliteDialect } from "@tessera/db-mikroorm/sqlite";
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
  const orm = await MikroORM.init({
    driver: SqliteDriver,
    dbName: file,
    driverOptions: new TesseraSqliteDialect(file),
    entities: [User, AccessToken],
  });
  // As the example app and docs/packages/db-mikroorm.md set it up.
  await orm.em.getConnection().execute("pragma journal_mode = wal");
  return orm;
}
