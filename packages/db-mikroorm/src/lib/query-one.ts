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
  /** pg's flags once `end()` was called. */
  readonly ending?: boolean;
  readonly ended?: boolean;
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

// Per connection: its pg pool once found (reused while the pool is open, so a request
// pays no `getNativeClient()` round of promises), or false when it has none.
const pools = new WeakMap<object, PgPool | false>();
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
  const known = pools.get(connection);
  if (known === false) return null;
  // A closed ORM ends its pool; a reconnect makes a new one, which we then look up again.
  if (known !== undefined && !known.ending && !known.ended) return known;
  if (typeof connection.getNativeClient !== "function") {
    pools.set(connection, false);
    return null;
  }
  try {
    const pool = (await connection.getNativeClient()) as Partial<PgPool> | null;
    if (typeof pool?.query === "function" && platformIs(em.getPlatform(), /postgre/i)) {
      pools.set(connection, pool as PgPool);
      return pool as PgPool;
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

/**
 * Whether a query may skip MikroORM's `execute` (the caller checks the transaction context):
 * in "connection" session-context mode MikroORM resets each pooled connection's role and
 * variables when Kysely reserves it, which a query on the bare pool would skip, and an
 * `onQuery` rewrite must see every query.
 */
function isPlain(em: EntityManager, sql: string, params: unknown[]): boolean {
  return (
    !em.getSessionContext() &&
    em.config.get("sessionContext") !== "connection" &&
    em.config.get("onQuery")(sql, params) === sql
  );
}

/** The first row of `sql` (with `?` placeholders) for `params`, or undefined. */
export async function queryOne(
  em: EntityManager,
  sql: string,
  params: unknown[],
): Promise<Row | undefined> {
  const connection = em.getConnection() as unknown as SqlConnection;
  const ctx = em.getTransactionContext<Transaction>();
  const plain = !ctx && isPlain(em, sql, params);
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
  return (await preparedRows(em, pool, sql, params))[0];
}

/** The rows of `sql` as a named prepared statement on `pool`, logged as MikroORM logs. */
async function preparedRows(
  em: EntityManager,
  pool: PgPool,
  sql: string,
  params: unknown[],
): Promise<Row[]> {
  const started = Date.now();
  const { rows } = await pool.query({ ...preparedFor(sql), values: params });
  logQuery(em, sql, params, started, rows.length);
  return rows;
}

/**
 * How {@link queryOneBatched} matches a batch's rows to its callers: the key column's value
 * as the caller's value would compare in SQL (a UUID in any case, an integer as a number or a
 * string), or null when the column's type has no such exact rule (no batching then).
 */
export type BatchKey = (value: unknown) => string;

/** Rows of a batch carry their key in this column (removed before a caller sees the row). */
export const BATCH_KEY_COLUMN = "__tessera_key";

// Sharing one statement cuts PostgreSQL's per-statement cost and the driver's per-query
// cost, which dominate an indexed lookup; more keys per batch than this wait for the next.
const MAX_BATCH = 128;

interface Waiter {
  key: string;
  value: unknown;
  resolve: (row: Row | undefined) => void;
  reject: (error: unknown) => void;
}

interface Batch {
  readonly em: EntityManager;
  readonly pool: PgPool;
  readonly sql: string;
  readonly batchSql: string;
  readonly keyOf: BatchKey;
  readonly waiters: Waiter[];
}

// Per pool, the batch of each statement still collecting callers in this event-loop turn.
const open = new WeakMap<PgPool, Map<string, Batch>>();

/**
 * The row of a lookup by one unique key, as {@link queryOne} answers `sql` (`... = ?`),
 * but on the PostgreSQL fast path the lookups of every request in the same event-loop turn
 * go to the server as one statement, `batchSql` (`... = any(?)`, selecting the key as
 * {@link BATCH_KEY_COLUMN}), on one pooled connection. Each caller still gets exactly the
 * row `sql` would give it, read by a statement sent after its call; under load one round
 * trip serves many requests instead of one each. A lone caller runs `sql` itself.
 * Elsewhere (SQLite, a transaction, an `onQuery` rewrite...) this is `queryOne`.
 */
export async function queryOneBatched(
  em: EntityManager,
  sql: string,
  batchSql: string,
  value: unknown,
  keyOf: BatchKey,
): Promise<Row | undefined> {
  const connection = em.getConnection() as unknown as SqlConnection;
  // SQLite first: its reads are synchronous, nothing to share (queryOne checks the rest).
  if (sqliteStatements(em) || em.getTransactionContext() || !isPlain(em, batchSql, [[value]])) {
    return queryOne(em, sql, [value]);
  }
  const pool = await pgPool(em, connection);
  if (!pool) return queryOne(em, sql, [value]);
  let batches = open.get(pool);
  if (!batches) {
    batches = new Map();
    open.set(pool, batches);
  }
  let batch = batches.get(batchSql);
  if (!batch) {
    batch = { em, pool, sql, batchSql, keyOf, waiters: [] };
    batches.set(batchSql, batch);
    // After the poll phase: every request whose bytes arrived in this turn has asked by then.
    setImmediate(runBatch, batch);
  }
  const waiters = batch.waiters;
  if (waiters.length + 1 >= MAX_BATCH) batches.delete(batchSql);
  return new Promise<Row | undefined>((resolve, reject) => {
    waiters.push({ key: keyOf(value), value, resolve, reject });
  });
}

async function runBatch(batch: Batch): Promise<void> {
  const batches = open.get(batch.pool);
  if (batches?.get(batch.batchSql) === batch) batches.delete(batch.batchSql);
  const { em, pool, waiters } = batch;
  try {
    if (waiters.length === 1) {
      const waiter = waiters[0] as Waiter;
      waiter.resolve((await preparedRows(em, pool, batch.sql, [waiter.value]))[0]);
      return;
    }
    // One value per distinct key: two requests with the same token share its row.
    const values: unknown[] = [];
    const seen = new Set<string>();
    for (const waiter of waiters) {
      if (seen.has(waiter.key)) continue;
      seen.add(waiter.key);
      values.push(waiter.value);
    }
    const rows = await preparedRows(em, pool, batch.batchSql, [values]);
    const byKey = new Map<string, Row>();
    for (const row of rows) {
      const key = batch.keyOf(row[BATCH_KEY_COLUMN]);
      delete row[BATCH_KEY_COLUMN];
      if (!byKey.has(key)) byKey.set(key, row);
    }
    for (const waiter of waiters) waiter.resolve(byKey.get(waiter.key));
  } catch (error) {
    for (const waiter of waiters) waiter.reject(error);
  }
}
