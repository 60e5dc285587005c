// Runs one hot-path SELECT. On PostgreSQL it is a named prepared statement on MikroORM's own
// `pg` pool (`getNativeClient()`): the server parses and plans it once per connection, and
// the values travel as bind parameters. Measured on the conformance join: 15.2k ops/s
// prepared vs 10.8k unprepared raw pg vs 6.9k through `connection.execute`, which inlines
// escaped values and re-parses every time. On SQLite through `TesseraSqliteDialect`
// (../sqlite.ts) it is that dialect's cached statement, run synchronously on its
// `DatabaseSync`, as long as no transaction is open on that (single) connection: reading
// then is what Kysely would do once its connection mutex came free, with nothing in
// between. Elsewhere, or whenever that would skip something the app configured (a
// transaction, a session context or `sessionContext: "connection"`, an `onQuery` rewrite),
// the query goes through MikroORM's `connection.execute` instead.
import { createHash } from "node:crypto";
import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import type { EntityManager, Platform, Transaction } from "@mikro-orm/core";
import { isUnavailable } from "./errors.js";
import { SQLITE_STATEMENTS, type SqliteStatements } from "./sqlite-statements.js";

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

const sqlitePlatforms = new WeakMap<Platform, boolean>();

/** The dialect's statements when `em` runs on `TesseraSqliteDialect`, else undefined. */
function sqliteStatements(em: EntityManager): SqliteStatements | undefined {
  const options = em.config.get("driverOptions") as unknown;
  if (typeof options !== "object" || options === null) return undefined;
  const statements = (options as { [SQLITE_STATEMENTS]?: SqliteStatements })[SQLITE_STATEMENTS];
  if (!statements) return undefined;
  const platform = em.getPlatform();
  let sqlite = sqlitePlatforms.get(platform);
  if (sqlite === undefined) {
    sqlite = platformIs(platform, /sqlite/i);
    sqlitePlatforms.set(platform, sqlite);
  }
  return sqlite ? statements : undefined;
}

/**
 * `params` as node:sqlite binds them to mean what MikroORM's inlined literals mean, or
 * undefined for a value only the inlining path handles (booleans, dates, objects...). Safe
 * integers bind as integers (a JS number binds as a REAL, which a TEXT column would compare
 * as "5.0"); integral numbers beyond that are left to the slow path.
 */
function sqliteValues(params: readonly unknown[]): SQLInputValue[] | undefined {
  const values: SQLInputValue[] = new Array(params.length);
  for (let i = 0; i < params.length; i++) {
    const v = params[i];
    if (typeof v === "string" || typeof v === "bigint" || v === null) values[i] = v;
    else if (typeof v !== "number" || !Number.isFinite(v)) return undefined;
    else if (Number.isSafeInteger(v)) values[i] = BigInt(v);
    else if (!Number.isInteger(v)) values[i] = v;
    else return undefined;
  }
  return values;
}

function logQuery(em: EntityManager, sql: string, params: unknown[], started: number, n: number) {
  const logger = em.config.getLogger();
  if (logger.isEnabled("query")) {
    logger.logQuery({ level: "info", query: sql, params, took: Date.now() - started, results: n });
  }
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
  if (plain) {
    const sqlite = sqliteStatements(em);
    if (sqlite) {
      const db: DatabaseSync | undefined = sqlite.database;
      const values = db?.isOpen && db.isTransaction === false ? sqliteValues(params) : undefined;
      if (values) {
        const started = Date.now();
        // Errors are node:sqlite's own, as on the slow path (Kysely and MikroORM's
        // `execute` pass them through), so the adapters translate them the same way.
        const row = sqlite.prepare(sql).statement.get(...values) as Row | undefined;
        logQuery(em, sql, params, started, row ? 1 : 0);
        return row;
      }
      return connection.execute<Row | undefined>(sql, params, "get", ctx);
    }
  }
  const pool = plain ? await pgPool(em, connection) : null;
  if (!pool) return connection.execute<Row | undefined>(sql, params, "get", ctx);
  const started = Date.now();
  const { rows } = await pool.query({ ...preparedFor(sql), values: params });
  logQuery(em, sql, params, started, rows.length);
  return rows[0];
}
