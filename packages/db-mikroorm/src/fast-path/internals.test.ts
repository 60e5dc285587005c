// Pins what the fast path takes from MikroORM beyond its entity API (internals.ts, and Kysely's
// SqliteDialect in sqlite-dialect.ts). A MikroORM upgrade that changes any of it fails here,
// by name, instead of in a request.
import { type EntityManager, type MikroORM, Utils } from "@mikro-orm/core";
import { NodeSqliteDialect } from "@mikro-orm/sql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccessToken } from "../entities/access-token.js";
import { User } from "../entities/user.js";
import { modelOf, platformIs } from "../lib/model.js";
import { openTestOrm, type TestOrm } from "../test-utils/orm.js";
import { userWithToken } from "../test-utils/tokens.js";
import {
  driverOptionsOf,
  isPlain,
  logQuery,
  nativePool,
  poolEnded,
  sqlConnection,
} from "./internals.js";
import { KyselySqliteDialect, TesseraSqliteDialect } from "./sqlite-dialect.js";
import { SQLITE_STATEMENTS } from "./sqlite-statements.js";
import { tableOf } from "./statements.js";

/** Registers `check` as a test whose failure says what broke and what to do. */
function pinned(what: string, check: () => unknown): void {
  it(what, async () => {
    try {
      await check();
    } catch (error) {
      throw new Error(
        `MikroORM ${Utils.getORMVersion()} changed what the fast path relies on: ${what}. ` +
          "Adapt packages/db-mikroorm/src/fast-path/internals.ts (or sqlite-dialect.ts); until " +
          "then apps can run the adapters with { fastPath: false }. " +
          `(${(error as Error).message})`,
        { cause: error },
      );
    }
  });
}

describe("MikroORM internals the fast path uses: PostgreSQL", () => {
  let db: TestOrm;
  beforeAll(async () => {
    db = await openTestOrm("postgresql", [User, AccessToken]);
  });
  afterAll(() => db?.close());

  pinned(
    "connection.getNativeClient() resolves to pg's Pool, which runs named and unnamed statements",
    async () => {
      const pool = await nativePool(sqlConnection(db.em()));
      expect(pool).not.toBeNull();
      const named = await pool?.query({
        name: "tessera_pin",
        text: "select $1::int as v",
        values: [7],
      });
      expect(named?.rows).toEqual([{ v: 7 }]);
      const unnamed = await pool?.query({ text: "select $1::text as v", values: ["x"] });
      expect(unnamed?.rows).toEqual([{ v: "x" }]);
      expect(poolEnded(pool as never)).toBe(false);
    },
  );

  pinned("the pool reports ending or ended once the ORM closes it", async () => {
    const other = await openTestOrm("postgresql", [User, AccessToken]);
    const pool = await nativePool(sqlConnection(other.em()));
    await other.close();
    expect(poolEnded(pool as never)).toBe(true);
  });

  pinned(
    "connection.execute(sql, params, 'get', ctx) runs `?` placeholders, in the transaction given",
    async () => {
      const conn = sqlConnection(db.em());
      expect(await conn.execute("select ? as v", [5], "get")).toEqual({ v: 5 });
      await db.orm.em.fork().transactional(async (em) => {
        const ctx = em.getTransactionContext();
        expect(ctx).toBeDefined();
        await conn.execute("create temporary table pin_trx (v int) on commit drop", [], "run", ctx);
        expect(
          await conn.execute("select count(*)::int as n from pin_trx", [], "get", ctx),
        ).toEqual({
          n: 0,
        });
      });
    },
  );

  pinned(
    "the platform's class is named like /postgre/, quoteIdentifier quotes a.b as two names",
    () => {
      const platform = db.orm.em.getPlatform();
      expect(platformIs(platform, /postgre/i)).toBe(true);
      expect(platform.quoteIdentifier("t.c")).toBe('"t"."c"');
    },
  );

  pinned(
    "isPlain sees a session context set with em.setSessionContext (row level security)",
    () => {
      const em = db.em();
      expect(isPlain(em, "select 1", [])).toBe(true);
      em.setSessionContext({ role: "tessera_pin" });
      expect(em.getSessionContext()).toBeDefined();
      expect(isPlain(em, "select 1", [])).toBe(false);
    },
  );

  pinned(
    "driver.getSchemaName(meta) gives the entity's schema, as MikroORM's own queries use",
    () => {
      const em = db.em();
      const model = modelOf(em, User);
      const schema = em.getDriver().getSchemaName(model.meta);
      expect(schema).toBe(db.orm.config.get("schema"));
      expect(tableOf(em, model)).toBe(`"${schema}"."user"`);
    },
  );
});

describe("MikroORM internals the fast path uses: every driver", () => {
  let db: TestOrm;
  beforeAll(async () => {
    db = await openTestOrm("sqlite", [User, AccessToken]);
  });
  afterAll(() => db?.close());

  pinned(
    "isPlain reads the transaction context and onQuery (identity by default) from the EntityManager",
    async () => {
      const em = db.em();
      expect(typeof em.config.get("onQuery")).toBe("function");
      expect(em.config.get("onQuery")("select 1", [])).toBe("select 1");
      expect(em.getSessionContext()).toBeUndefined();
      expect(isPlain(em, "select 1", [])).toBe(true);
      await db.orm.em.fork().transactional(async (trx: EntityManager) => {
        expect(isPlain(trx, "select 1", [])).toBe(false);
      });
    },
  );

  pinned(
    "the query logger: config.getLogger().isEnabled('query') and logQuery({ query, ... })",
    async () => {
      const { queries } = await db.captureQueries(async () => {
        logQuery(db.em(), "select 'pinned'", [], Date.now(), 1);
      });
      expect(queries).toHaveLength(1);
      expect(queries[0]).toContain("select 'pinned'");
    },
  );

  pinned(
    "em.getComparator().mapResult maps a row's columns to properties and their types",
    async () => {
      const { user } = await userWithToken(db.em(), "pin-map@example.com");
      const em = db.em();
      const model = modelOf(em, User);
      const row = await sqlConnection(em).execute<Record<string, unknown>>(
        `select * from ${tableOf(em, model)} where id = ?`,
        [user.id],
        "get",
      );
      expect(row.is_active).toBe(1); // SQLite stores booleans as integers
      const mapped = model.comparator.mapResult(model.meta, row) as Record<string, unknown>;
      expect(mapped).toMatchObject({
        id: user.id,
        hashedPassword: user.hashedPassword,
        isActive: true,
      });
    },
  );
});

describe("MikroORM internals the fast path uses: SQLite (node:sqlite)", () => {
  pinned(
    "NodeSqliteDialect extends Kysely's SqliteDialect, built from { database } with prepare()",
    () => {
      expect(KyselySqliteDialect.name).toBe("SqliteDialect");
      expect(Object.getPrototypeOf(NodeSqliteDialect)).toBe(KyselySqliteDialect);
    },
  );

  pinned(
    "MikroORM runs its queries through the dialect's prepare(), on one DatabaseSync",
    async () => {
      const db = await openTestOrm("sqlite", [User, AccessToken]);
      try {
        const dialect = driverOptionsOf(db.em()) as TesseraSqliteDialect;
        expect(dialect).toBeInstanceOf(TesseraSqliteDialect);
        expect(dialect[SQLITE_STATEMENTS].database?.isOpen).toBe(true);
        const before = dialect.cachedStatements;
        await sqlConnection(db.em()).execute("select 'pinned' as v", [], "get");
        expect(dialect.cachedStatements).toBe(before + 1);
        expect(platformIs(db.orm.em.getPlatform(), /sqlite/i)).toBe(true);
      } finally {
        await db.close();
      }
    },
  );

  pinned(
    "a MikroORM transaction holds the one connection: database.isTransaction is true inside",
    async () => {
      const db = await openTestOrm("sqlite", [User, AccessToken]);
      try {
        const orm: MikroORM = db.orm;
        const dialect = orm.config.get("driverOptions") as unknown as TesseraSqliteDialect;
        await orm.em.fork().transactional(async (em) => {
          await sqlConnection(em).execute("select 1", [], "get", em.getTransactionContext());
          expect(dialect.database?.isTransaction).toBe(true);
        });
        expect(dialect.database?.isTransaction).toBe(false);
      } finally {
        await db.close();
      }
    },
  );
});
