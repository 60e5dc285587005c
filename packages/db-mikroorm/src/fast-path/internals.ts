// What the fast path takes from MikroORM beyond its entity API, in one place, so that an
// upgrade that changes it fails internals.test.ts with a clear message, not a request.
// (Kysely's SqliteDialect, reached through NodeSqliteDialect, is in sqlite-dialect.ts.)
import type { EntityManager, Transaction } from "@mikro-orm/core";
import type { Row } from "../lib/model.js";

/** The slice of MikroORM's `AbstractSqlConnection` the fast path uses. */
export interface SqlConnection {
  execute<T>(
    sql: string,
    params?: readonly unknown[],
    method?: "all" | "get" | "run",
    ctx?: Transaction,
  ): Promise<T>;
  /** `@mikro-orm/postgresql`: the `pg` Pool behind the connection. */
  getNativeClient?(): Promise<unknown>;
}

/** The slice of `pg`'s Pool the fast path uses. */
export interface PgPool {
  /** With `name`, a named prepared statement; without, an unnamed one. */
  query(config: { name?: string; text: string; values: unknown[] }): Promise<{ rows: Row[] }>;
  /** pg's flags once `end()` was called. */
  readonly ending?: boolean;
  readonly ended?: boolean;
}

/** The EntityManager's connection, as the fast path uses it. */
export const sqlConnection = (em: EntityManager): SqlConnection =>
  em.getConnection() as unknown as SqlConnection;

/**
 * The `pg` Pool MikroORM's PostgreSQL connection runs on (`getNativeClient()`, which also
 * connects), or null when the connection has none (another driver, or a Kysely instance the
 * app passed in `driverOptions`). Connection errors propagate.
 */
export async function nativePool(connection: SqlConnection): Promise<PgPool | null> {
  if (typeof connection.getNativeClient !== "function") return null;
  const pool = (await connection.getNativeClient()) as Partial<PgPool> | null;
  return typeof pool?.query === "function" ? (pool as PgPool) : null;
}

/** Whether `pool` was ended (an ORM closed it; a reconnect makes a new one). */
export const poolEnded = (pool: PgPool): boolean => Boolean(pool.ending || pool.ended);

/**
 * Whether a query may skip MikroORM's `execute`: not in a transaction; no session context
 * (MikroORM sets the role and variables on the connection it reserves, which a query on the
 * bare pool would skip); and no `onQuery` rewrite, which must see every query.
 */
export function isPlain(em: EntityManager, sql: string, params: readonly unknown[]): boolean {
  return (
    !em.getTransactionContext() &&
    !em.getSessionContext() &&
    em.config.get("sessionContext") !== "connection" &&
    em.config.get("onQuery")(sql, params as unknown[]) === sql
  );
}

/** Logs a query the fast path ran as MikroORM logs its own (`debug: ["query"]`). */
export function logQuery(
  em: EntityManager,
  sql: string,
  params: readonly unknown[],
  started: number,
  results: number,
): void {
  const logger = em.config.getLogger();
  if (logger.isEnabled("query")) {
    logger.logQuery({
      level: "info",
      query: sql,
      params: params as unknown[],
      took: Date.now() - started,
      results,
    });
  }
}

/** What the app passed as `driverOptions` (on SQLite, possibly a TesseraSqliteDialect). */
export const driverOptionsOf = (em: EntityManager): unknown => em.config.get("driverOptions");
