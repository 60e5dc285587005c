/**
 * `@tessera/db-mikroorm/sqlite`: a Kysely dialect for `node:sqlite` that lets the adapters'
 * per-request reads skip MikroORM's and Kysely's query layers (their fast path). Its own
 * entry point, so the package's main entry never needs `@mikro-orm/sql` (an optional peer:
 * MongoDB apps lack it).
 */
export {
  TesseraSqliteDialect,
  type TesseraSqliteDialectOptions,
} from "./fast-path/sqlite-dialect.js";
