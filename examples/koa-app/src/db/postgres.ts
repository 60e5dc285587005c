import { MikroORM } from "@mikro-orm/core";
import { PostgreSqlDriver } from "@mikro-orm/postgresql";
import { entities, isSchemaRace, mikroOrmStore } from "./mikroorm.js";
import type { Store } from "./store.js";

/**
 * PostgreSQL through MikroORM (`DATABASE_URL=postgres://user:pass@host:5432/app`). The
 * database is created when it does not exist yet (the role needs CREATEDB for that).
 */
export async function openPostgres(url: string): Promise<Store> {
  for (let attempt = 1; ; attempt++) {
    const orm = await MikroORM.init({
      driver: PostgreSqlDriver,
      clientUrl: url,
      entities,
      // A database that is down answers 503 within seconds instead of hanging requests.
      driverOptions: { connectionTimeoutMillis: 2000, statement_timeout: 5000 },
    });
    try {
      return await mikroOrmStore(orm, "postgresql");
    } catch (error) {
      // Instances started at once on an empty database race to create it and its tables.
      // The loser opens a new ORM: a failed `ensureDatabase` leaves this one connected to
      // the management database, where the schema must not go. `tessera migrate` before
      // the first start avoids the race (docs/deployment.md).
      await orm.close(true);
      if (!isSchemaRace(error) || attempt >= 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}
