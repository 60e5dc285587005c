// Runs one hot-path SELECT. On PostgreSQL it is a named prepared statement on MikroORM's own
// `pg` pool (`getNativeClient()`): the server parses and plans it once per connection, and
// the values travel as bind parameters. Measured on the conformance join: 15.2k ops/s
// prepared vs 10.8k unprepared raw pg vs 6.9k through `connection.execute`, which inlines
// escaped values and re-parses every time. Elsewhere, or whenever that would skip something
// the app configured (a transaction, a session context or `sessionContext: "connection"`,
// an `onQuery` rewrite), the query goes through MikroORM's `connection.execute` instead.
import { createHash } from "node:crypto";
import type { EntityManager, Platform, Transaction } from "@mikro-orm/core";
import { isUnavailable } from "./errors.js";

type Row = Record<string, unknown>;

interface SqlConnection {
  execute<T>(
    sql: string,
    params?: readonly unknown[],
    method?: "get",
    ctx?: Transaction,
  ): Promise<T>;
  getNativeClient?(): Promise<unknown>;
}

interface PgPool {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: Row[] }>;
}

/** Whether the platform (or one of its base classes) is named like `pattern`. */
export function platformIs(platform: Platform, pattern: RegExp): boolean {
  for (
    let p = Object.getPrototypeOf(platform);
    p && p !== Object.prototype;
    p = Object.getPrototypeOf(p)
  ) {
    if (pattern.test(String(p.constructor?.name ?? ""))) return true;
  }
  return false;
}

// Per connection: false once its native client turned out not to be a pg pool.
const nativeOk = new WeakMap<object, boolean>();
// `?` placeholders -> `$n`, and a name derived from the text (same text, same statement).
const prepared = new Map<string, { name: string; text: string }>();

function preparedFor(sql: string): { name: string; text: string } {
  let p = prepared.get(sql);
  if (!p) {
    let n = 0;
    const text = sql.replace(/\?/g, () => `$${++n}`);
    const name = `tessera_${createHash("sha256").update(text).digest("hex").slice(0, 16)}`;
    p = { name, text };
    prepared.set(sql, p);
  }
  return p;
}

async function pgPool(em: EntityManager, connection: SqlConnection): Promise<PgPool | null> {
  if (nativeOk.get(connection) === false || typeof connection.getNativeClient !== "function")
    return null;
  try {
    const pool = (await connection.getNativeClient()) as Partial<PgPool> | null;
    if (typeof pool?.query === "function" && platformIs(em.getPlatform(), /postgre/i)) {
      nativeOk.set(connection, true);
      return pool as PgPool;
    }
  } catch (error) {
    if (isUnavailable(error)) throw error;
  }
  nativeOk.set(connection, false);
  return null;
}

/** The first row of `sql` (with `?` placeholders) for `params`, or undefined. */
export async function queryOne(
  em: EntityManager,
  sql: string,
  params: unknown[],
): Promise<Row | undefined> {
  const connection = em.getConnection() as unknown as SqlConnection;
  const ctx = em.getTransactionContext<Transaction>();
  // In "connection" session-context mode MikroORM resets each pooled connection's role and
  // variables when Kysely reserves it; a query on the bare pool would skip that reset.
  const plain =
    !ctx &&
    !em.getSessionContext() &&
    em.config.get("sessionContext") !== "connection" &&
    em.config.get("onQuery")(sql, params) === sql;
  const pool = plain ? await pgPool(em, connection) : null;
  if (!pool) return connection.execute<Row | undefined>(sql, params, "get", ctx);
  const started = Date.now();
  const { rows } = await pool.query({ ...preparedFor(sql), values: params });
  const logger = em.config.getLogger();
  if (logger.isEnabled("query")) {
    logger.logQuery({
      level: "info",
      query: sql,
      params,
      took: Date.now() - started,
      results: rows.length,
    });
  }
  return rows[0];
}
