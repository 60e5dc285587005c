import { MikroORM } from "@mikro-orm/core";
import { PostgreSqlDriver } from "@mikro-orm/postgresql";
import { entities, mikroOrmStore } from "./mikroorm.js";
import type { Store } from "./store.js";

/**
 * PostgreSQL through MikroORM (`DATABASE_URL=postgres://user:pass@host:5432/app`). The
 * database is created when it does not exist yet (the role needs CREATEDB for that).
 */
export async function openPostgres(url: string): Promise<Store> {
  const orm = await MikroORM.init({
    driver: PostgreSqlDriver,
    clientUrl: url,
    entities,
    // A database that is down answers 503 within seconds instead of hanging requests.
    driverOptions: { connectionTimeoutMillis: 2000, statement_timeout: 5000 },
  });
  return mikroOrmStore(orm, "postgresql");
}
