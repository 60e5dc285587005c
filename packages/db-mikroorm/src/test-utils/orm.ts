// Test ORMs on the three drivers, each in its own PostgreSQL schema, SQLite file or MongoDB
// database so test files run in parallel. PostgreSQL and MongoDB come from the test harness
// (POSTGRES_URL, MONGODB_URL); SQLite needs nothing, and runs on TesseraSqliteDialect (the
// adapters' fast reads) unless a test asks for MikroORM's own NodeSqliteDialect.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type EntityManager, MikroORM, type Options } from "@mikro-orm/core";
import { MongoDriver } from "@mikro-orm/mongodb";
import { PostgreSqlDriver } from "@mikro-orm/postgresql";
import { NodeSqliteDialect, SqliteDriver } from "@mikro-orm/sql";
import { TesseraSqliteDialect } from "../sqlite.js";
import type { EntityTarget } from "../types.js";

export type DriverKind = "postgresql" | "sqlite" | "mongodb";

/** Which Kysely dialect a SQLite test ORM runs on. */
export type SqliteDialectKind = "tessera" | "mikro-orm";

export interface TestOrm {
  kind: DriverKind;
  orm: MikroORM;
  /** A fresh fork, as a request would get. */
  em(): EntityManager;
  /** Queries logged by MikroORM while `fn` runs (its `debug: ["query"]` logger). */
  captureQueries<T>(fn: () => Promise<T>): Promise<{ result: T; queries: string[] }>;
  close(): Promise<void>;
}

type Urls = Partial<Record<"POSTGRES_URL" | "MONGODB_URL", string>>;

function env(urls: Urls, name: keyof Urls): string {
  const value = urls[name] ?? process.env[name];
  if (!value)
    throw new Error(
      `${name} is not set: run the tests through vitest (test/harness starts the servers)`,
    );
  return value;
}

const unique = (prefix: string) => `${prefix}_${process.pid}_${randomBytes(4).toString("hex")}`;

/**
 * Opens an ORM for `kind` with `entities`, creates their schema, and returns it. Servers come
 * from `urls`, else from the harness's environment; SQLite runs on `sqliteDialect`.
 */
export async function openTestOrm(
  kind: DriverKind,
  entities: EntityTarget[],
  extra: Partial<Options> = {},
  urls: Urls = {},
  sqliteDialect: SqliteDialectKind = "tessera",
): Promise<TestOrm> {
  let capture: string[] | undefined;
  const common = {
    entities,
    debug: ["query"],
    logger: (message: string) => capture?.push(message),
    ...extra,
  } as Partial<Options>;
  let orm: MikroORM;
  let cleanup: () => Promise<void>;
  if (kind === "postgresql") {
    const schema = unique("tessera_mikroorm");
    orm = await MikroORM.init({
      ...common,
      driver: PostgreSqlDriver,
      clientUrl: env(urls, "POSTGRES_URL"),
      schema,
    } as Options);
    const sql = orm.em.getConnection() as unknown as { execute(sql: string): Promise<unknown> };
    await sql.execute(`create schema "${schema}"`);
    cleanup = async () => {
      await sql.execute(`drop schema if exists "${schema}" cascade`);
    };
  } else if (kind === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "tessera-mikroorm-"));
    const file = join(dir, "db.sqlite");
    orm = await MikroORM.init({
      ...common,
      driver: SqliteDriver,
      dbName: file,
      driverOptions:
        sqliteDialect === "tessera" ? new TesseraSqliteDialect(file) : new NodeSqliteDialect(file),
    } as Options);
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const dbName = unique("tessera_mikroorm");
    orm = await MikroORM.init({
      ...common,
      driver: MongoDriver,
      clientUrl: env(urls, "MONGODB_URL"),
      dbName,
      driverOptions: { serverSelectionTimeoutMS: 5000 },
      ...extra,
    } as Options);
    const db = (
      orm.em.getConnection() as unknown as { getDb(): { dropDatabase(): Promise<unknown> } }
    ).getDb();
    cleanup = async () => {
      await db.dropDatabase();
    };
  }
  await orm.schema.create();
  return {
    kind,
    orm,
    em: () => orm.em.fork(),
    async captureQueries(fn) {
      const queries: string[] = [];
      capture = queries;
      try {
        return { result: await fn(), queries };
      } finally {
        capture = undefined;
      }
    },
    async close() {
      try {
        await cleanup();
      } finally {
        await orm.close(true);
      }
    },
  };
}
