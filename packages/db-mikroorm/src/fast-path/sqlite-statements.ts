// What the SQLite fast path shares with `TesseraSqliteDialect` (sqlite-dialect.ts) without
// importing it: that module imports `@mikro-orm/sql`, an optional peer the package's main entry
// must not need. The dialect is recognised on `driverOptions` by a registered symbol, so a second copy
// of this package (source and build side by side) still finds it.
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";

/** The key under which `TesseraSqliteDialect` exposes its {@link SqliteStatements}. */
export const SQLITE_STATEMENTS: unique symbol = Symbol.for(
  "@tessera/db-mikroorm:sqlite-statements",
);

/** A prepared statement as kysely's `SqliteDialect` wants it (values as one array). */
export interface CachedStatement {
  readonly statement: StatementSync;
  /** Whether kysely should read rows (`all`) rather than run it for a change count. */
  readonly reader: boolean;
  all(params: readonly unknown[]): unknown[];
  run(params: readonly unknown[]): { changes: number | bigint; lastInsertRowid: number | bigint };
  get(params: readonly unknown[]): unknown;
  iterate(params: readonly unknown[]): IterableIterator<unknown>;
}

/** The open database and its statement cache, as the fast path reads them. */
export interface SqliteStatements {
  /** The `DatabaseSync` the dialect opened; undefined before connecting, after closing, or
   *  while it has more than one open (replicas, or a dialect shared by two ORMs). */
  readonly database: DatabaseSync | undefined;
  /** `sql` prepared on {@link database}, from the cache when it was prepared before. */
  prepare(sql: string): CachedStatement;
}

// MikroORM's NodeSqliteDialect decides the same way which statements return rows.
const READER = /^\s*(select|pragma|explain|with)/i;
const RETURNING = /\breturning\b/i;

/**
 * The prepared statements of one `DatabaseSync`, by SQL text, least recently used evicted
 * beyond `max`: statements with inlined values (MikroORM inlines them on its own path) each
 * have their own text, and must not grow memory without bound. An evicted statement is
 * finalized when it is collected, or when the database closes.
 */
export class StatementCache {
  readonly #db: DatabaseSync;
  readonly #max: number;
  // A Map iterates in insertion order: re-inserting on use keeps the oldest use first.
  readonly #entries = new Map<string, CachedStatement>();

  constructor(db: DatabaseSync, max: number) {
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new RangeError(`statement cache size must be a positive integer, not ${max}`);
    }
    this.#db = db;
    this.#max = max;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The cached statement for `sql`, prepared now when it is not cached. */
  prepare(sql: string): CachedStatement {
    const entries = this.#entries;
    let entry = entries.get(sql);
    if (entry) {
      entries.delete(sql);
    } else {
      entry = this.#create(sql);
      if (entries.size >= this.#max) {
        const oldest = entries.keys().next();
        if (!oldest.done) entries.delete(oldest.value);
      }
    }
    entries.set(sql, entry);
    return entry;
  }

  #create(sql: string): CachedStatement {
    const db = this.#db;
    const statement = db.prepare(sql);
    const args = (params: readonly unknown[]) => params as SQLInputValue[];
    return {
      statement,
      reader: READER.test(sql) || RETURNING.test(sql),
      all: (params) => statement.all(...args(params)),
      run: (params) => statement.run(...args(params)),
      get: (params) => statement.get(...args(params)),
      // An iterator keeps its statement mid-step across awaits: a statement of its own, so
      // another use of the same text (the hot path, synchronously) cannot reset it under it.
      iterate: (params) => db.prepare(sql).iterate(...args(params)),
    };
  }
}
