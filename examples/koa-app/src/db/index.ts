import type { DatabaseConfig } from "../config.js";
import type { Store } from "./store.js";

export type { AccessTokens, Store, User } from "./store.js";

/**
 * Opens the database the configuration names. Each driver is imported only when used,
 * so an app on SQLite never loads the PostgreSQL or MongoDB driver.
 */
export async function openStore(
  database: DatabaseConfig,
  maxLifetimeSeconds: number,
): Promise<Store> {
  switch (database.kind) {
    case "sqlite":
      return (await import("./sqlite.js")).openSqlite(database.file);
    case "postgresql":
      return (await import("./postgres.js")).openPostgres(database.url);
    case "mongodb":
      return (await import("./mongo.js")).openMongo(
        database.url,
        database.dbName,
        maxLifetimeSeconds,
      );
  }
}
