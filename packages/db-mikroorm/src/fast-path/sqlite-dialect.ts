// TesseraSqliteDialect, exported by the `@tessera/db-mikroorm/sqlite` entry point (../sqlite.ts)
// so that apps on PostgreSQL or MongoDB never load `@mikro-orm/sql`, an optional peer.
import type { DatabaseSync, DatabaseSyncOptions } from "node:sqlite";
import { NodeSqliteDialect } from "@mikro-orm/sql";
import {
  type CachedStatement,
  SQLITE_STATEMENTS,
  type SqliteStatements,
  StatementCache,
} from "./sqlite-statements.js";

/**
 * Options of {@link TesseraSqliteDialect}.
 *
 * @example
 * new TesseraSqliteDialect("data/app.sqlite", { databaseOptions: { timeout: 2000 } });
 */
export interface TesseraSqliteDialectOptions {
  /**
   * How many prepared statements to keep per database, least recently used evicted first.
   * The adapters' fast reads are a handful; the rest is room for MikroORM's own statements,
   * whose values are inlined so that most texts are used once.
   * @default 256
   */
  statementCacheSize?: number;
  /**
   * Passed to `new DatabaseSync(path, options)`, e.g. `{ timeout: 5000 }` to wait on a
   * locked database instead of failing at once. `open: false` is not supported.
   * @default undefined (node:sqlite's defaults)
   */
  databaseOptions?: DatabaseSyncOptions;
}

// A database the dialect opened, with its statements.
interface Opened {
  db: DatabaseSync;
  cache: StatementCache;
}

// The open databases, and the one the fast path uses (kept current, not searched per query).
interface Databases {
  open: Set<Opened>;
  single: Opened | undefined;
}

function track(state: Databases): void {
  state.single = state.open.size === 1 ? state.open.values().next().value : undefined;
}

/**
 * Kysely's SqliteDialect, taken from MikroORM's own NodeSqliteDialect (it extends it): the
 * very copy of Kysely MikroORM runs on, and no dependency of ours on Kysely. A MikroORM
 * internal, pinned by internals.test.ts.
 */
export const KyselySqliteDialect = Object.getPrototypeOf(NodeSqliteDialect) as new (config: {
  database: () => Promise<{
    prepare(sql: string): CachedStatement;
    close(): void;
  }>;
}) => NodeSqliteDialect;

/**
 * A drop-in replacement for MikroORM's `NodeSqliteDialect` (Kysely's `SqliteDialect` on
 * `node:sqlite`'s `DatabaseSync`) that
 *
 * - caches prepared statements per SQL text (bounded: `statementCacheSize`, LRU), where
 *   `NodeSqliteDialect` prepares every query anew; and
 * - exposes the `DatabaseSync` it opened (`database`), which `MikroOrmUserDatabase` and
 *   `MikroOrmAccessTokenDatabase` use for their per-request reads (a user by id, a token
 *   with its user): a cached statement run synchronously, without MikroORM's value inlining
 *   or Kysely's connection mutex. They take that path only when nothing can differ from the
 *   ORM's own path: no transaction on the EntityManager, no transaction open on the
 *   connection (`database.isTransaction`, so another flow's uncommitted writes are never
 *   read), no session context, no `onQuery` rewrite; otherwise they go through MikroORM.
 *
 * @example
 * import { SqliteDriver } from "@mikro-orm/sql";
 * import { TesseraSqliteDialect } from "@tessera/db-mikroorm/sqlite";
 *
 * const orm = await MikroORM.init({
 *   driver: SqliteDriver,
 *   dbName: "data/app.sqlite",
 *   driverOptions: new TesseraSqliteDialect("data/app.sqlite"),
 *   entities: [User, AccessToken],
 * });
 */
export class TesseraSqliteDialect extends KyselySqliteDialect implements SqliteStatements {
  readonly #databases: Databases;

  /**
   * @param path the database file, or `":memory:"`
   * @param options the statement cache size, and options for `DatabaseSync`
   */
  constructor(path: string, options: TesseraSqliteDialectOptions = {}) {
    const { statementCacheSize = 256, databaseOptions } = options;
    // Checked now, not when kysely first connects.
    if (!Number.isSafeInteger(statementCacheSize) || statementCacheSize < 1) {
      throw new RangeError(
        `statementCacheSize must be a positive integer, not ${statementCacheSize}`,
      );
    }
    const databases: Databases = { open: new Set(), single: undefined };
    const { DatabaseSync } = process.getBuiltinModule("node:sqlite");
    super({
      // Kysely calls this once per Kysely instance (MikroORM makes one per connection, again
      // after a reconnect), and `close` when that instance is destroyed.
      database: async () => {
        const db = databaseOptions
          ? new DatabaseSync(path, databaseOptions)
          : new DatabaseSync(path);
        const opened: Opened = { db, cache: new StatementCache(db, statementCacheSize) };
        databases.open.add(opened);
        track(databases);
        return {
          prepare: (sql) => opened.cache.prepare(sql),
          close() {
            databases.open.delete(opened);
            track(databases);
            db.close();
          },
        };
      },
    });
    this.#databases = databases;
  }

  /** The one open database; undefined before the ORM connects, after it closes, and while
   *  more than one is open (read replicas, or one dialect given to two ORMs). */
  get database(): DatabaseSync | undefined {
    return this.#only()?.db;
  }

  /** How many statements the open database has cached (0 when there is none). */
  get cachedStatements(): number {
    return this.#only()?.cache.size ?? 0;
  }

  /** `sql` prepared on {@link database}, from its cache when it was prepared before. */
  prepare(sql: string): CachedStatement {
    const opened = this.#only();
    if (!opened) throw new Error("TesseraSqliteDialect: no single open database");
    return opened.cache.prepare(sql);
  }

  /** The fast path's view of this dialect (see sqlite-statements.ts). */
  get [SQLITE_STATEMENTS](): SqliteStatements {
    return this;
  }

  #only(): Opened | undefined {
    return this.#databases.single;
  }
}
