// Runs a fast-path statement natively: a prepared statement on MikroORM's `pg` pool, or
// TesseraSqliteDialect's cached statement run synchronously; anything else, or whatever must
// see MikroORM (a transaction, a session context, an `onQuery` rewrite), is not taken.
// Why, and what it saves: docs/packages/db-mikroorm.md, "Internals".
import { createHash } from "node:crypto";
import type { SQLInputValue } from "node:sqlite";
import type { EntityManager, Platform } from "@mikro-orm/core";
import { isUnavailable } from "../lib/errors.js";
import { platformIs, type Row } from "../lib/model.js";
import {
  driverOptionsOf,
  isPlain,
  logQuery,
  nativePool,
  type PgPool,
  poolEnded,
  type SqlConnection,
  sqlConnection,
} from "./internals.js";
import { SQLITE_STATEMENTS, type SqliteStatements } from "./sqlite-statements.js";

/** A read the fast path cannot run: the caller reads through plain MikroORM instead. */
export const NOT_TAKEN: unique symbol = Symbol("tessera fast path: not taken");
export type NotTaken = typeof NOT_TAKEN;

/** Where a statement runs natively: MikroORM's `pg` pool or TesseraSqliteDialect. */
export type NativeTarget = PgPool | SqliteStatements;

export const isSqlite = (target: NativeTarget): target is SqliteStatements =>
  typeof (target as SqliteStatements).prepare === "function";

// Per connection: its pg pool once found (reused while the pool is open), or false when
// it has none.
const pools = new WeakMap<object, PgPool | false>();

/** The connection's pg pool: at once when known, else looked up (and remembered). */
function pgPoolOf(em: EntityManager): PgPool | null | Promise<PgPool | null> {
  const connection = sqlConnection(em);
  const known = pools.get(connection);
  if (known === false) return null;
  if (known !== undefined && !poolEnded(known)) return known;
  return findPool(em, connection);
}

async function findPool(em: EntityManager, connection: SqlConnection): Promise<PgPool | null> {
  try {
    const pool = platformIs(em.getPlatform(), /postgre/i) ? await nativePool(connection) : null;
    if (pool) {
      pools.set(connection, pool);
      return pool;
    }
  } catch (error) {
    if (isUnavailable(error)) throw error;
  }
  pools.set(connection, false);
  return null;
}

const sqlitePlatforms = new WeakMap<Platform, boolean>();

/** The dialect's statements when `em` runs on `TesseraSqliteDialect`, else undefined. */
function sqliteStatements(em: EntityManager): SqliteStatements | undefined {
  const options = driverOptionsOf(em);
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

/** Where `sql` may run natively for `em`, or null when it must go through MikroORM. */
export function nativeTarget(
  em: EntityManager,
  sql: string,
  params: readonly unknown[],
): NativeTarget | null | Promise<NativeTarget | null> {
  if (!isPlain(em, sql, params)) return null;
  return sqliteStatements(em) ?? pgPoolOf(em);
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

/**
 * The first row of `sql` run synchronously on the dialect's cached statement; NOT_TAKEN while
 * a transaction is open on its one connection (another flow's uncommitted writes must not be
 * read), when it is closed, or for a value that does not bind as MikroORM would inline it.
 * Errors are node:sqlite's own, as on MikroORM's path, so they translate alike.
 */
export function sqliteRow(
  em: EntityManager,
  statements: SqliteStatements,
  sql: string,
  params: readonly unknown[],
): Row | undefined | NotTaken {
  const db = statements.database;
  const values = db?.isOpen && db.isTransaction === false ? sqliteValues(params) : undefined;
  if (!values) return NOT_TAKEN;
  const started = Date.now();
  const row = statements.prepare(sql).statement.get(...values) as Row | undefined;
  logQuery(em, sql, params, started, row ? 1 : 0);
  return row;
}

// `?` placeholders -> `$n`, and a name derived from the text (same text, same statement).
const pgTexts = new Map<string, { name: string; text: string }>();

function pgText(sql: string): { name: string; text: string } {
  let p = pgTexts.get(sql);
  if (!p) {
    let n = 0;
    const text = sql.replace(/\?/g, () => `$${++n}`);
    const name = `tessera_${createHash("sha256").update(text).digest("hex").slice(0, 16)}`;
    p = { name, text };
    pgTexts.set(sql, p);
  }
  return p;
}

/**
 * The rows of `sql` on `pool`, values as bind parameters: a named prepared statement when
 * `named`, else an unnamed one (safe behind PgBouncer in transaction mode). Logged as
 * MikroORM logs its own queries.
 */
export async function pgRows(
  em: EntityManager,
  pool: PgPool,
  sql: string,
  params: unknown[],
  named: boolean,
): Promise<Row[]> {
  const started = Date.now();
  const { name, text } = pgText(sql);
  const { rows } = await pool.query(
    named ? { name, text, values: params } : { text, values: params },
  );
  logQuery(em, sql, params, started, rows.length);
  return rows;
}

/**
 * The first row of `sql` (with `?` placeholders) for `params`: natively where it can run so,
 * else through MikroORM's `connection.execute` (in the EntityManager's transaction, if any).
 */
export async function queryOne(
  em: EntityManager,
  sql: string,
  params: unknown[],
): Promise<Row | undefined> {
  const target = await nativeTarget(em, sql, params);
  if (target && !isSqlite(target)) return (await pgRows(em, target, sql, params, true))[0];
  const row = target ? sqliteRow(em, target, sql, params) : NOT_TAKEN;
  if (row !== NOT_TAKEN) return row;
  const ctx = em.getTransactionContext();
  return sqlConnection(em).execute<Row | undefined>(sql, params, "get", ctx);
}
