// TesseraSqliteDialect: its statement cache, and the adapters' synchronous reads on it — when
// they are taken, when they must not be (a transaction open on the one connection, the
// EntityManager's own transaction), and that they answer and fail exactly as MikroORM's
// path does. The conformance suite (../sqlite.conformance.test.ts) runs the whole
// adapter contract on this dialect and on MikroORM's NodeSqliteDialect.
import { DatabaseSync } from "node:sqlite";
import { MikroORM } from "@mikro-orm/core";
import { NodeSqliteDialect, SqliteDriver } from "@mikro-orm/sql";
import { ServiceUnavailableError } from "@tessera/core";
import { userCreateData } from "@tessera/core/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { MikroOrmAccessTokenDatabase } from "../access-token-database.js";
import { AccessToken } from "../entities/access-token.js";
import { User } from "../entities/user.js";
import { TesseraSqliteDialect } from "../sqlite.js";
import { openTestOrm, type TestOrm } from "../test-utils/orm.js";
import { userWithToken } from "../test-utils/tokens.js";
import { MikroOrmUserDatabase } from "../user-database.js";
import { queryOne } from "./query.js";
import { StatementCache } from "./sqlite-statements.js";

/** Lets every pending callback, promise and I/O completion run a few times over. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe("StatementCache", () => {
  const db = new DatabaseSync(":memory:");
  afterAll(() => db.close());

  it("keeps at most its bound, evicting the least recently used", () => {
    const cache = new StatementCache(db, 3);
    const a = cache.prepare("select 1");
    const b = cache.prepare("select 2");
    cache.prepare("select 3");
    expect(cache.prepare("select 1")).toBe(a); // a used again: b is now the oldest
    cache.prepare("select 4");
    expect(cache.size).toBe(3);
    expect(cache.prepare("select 1")).toBe(a);
    expect(cache.prepare("select 2")).not.toBe(b); // evicted, prepared anew
    expect(cache.size).toBe(3);
  });

  it("never grows past its bound, whatever the number of texts", () => {
    const cache = new StatementCache(db, 256);
    for (let i = 0; i < 1000; i++) cache.prepare(`select ${i} as v`);
    expect(cache.size).toBe(256);
    expect(cache.prepare("select 999 as v").get([])).toEqual({ v: 999 });
  });

  it("rejects a bound that is not a positive integer", () => {
    expect(() => new StatementCache(db, 0)).toThrow(RangeError);
    expect(() => new TesseraSqliteDialect(":memory:", { statementCacheSize: 1.5 })).toThrow(
      RangeError,
    );
  });

  it("gives an iteration a statement of its own, so a reuse of the text cannot reset it", () => {
    const cache = new StatementCache(db, 8);
    const sql = "select value from json_each('[1,2,3]')";
    const seen: unknown[] = [];
    for (const row of cache.prepare(sql).iterate([])) {
      seen.push((row as { value: number }).value);
      cache.prepare(sql).all([]); // the hot path running the same text mid-iteration
    }
    expect(seen).toEqual([1, 2, 3]);
  });
});

describe("TesseraSqliteDialect under MikroORM", () => {
  let db: TestOrm;
  let dialect: TesseraSqliteDialect;
  beforeAll(async () => {
    db = await openTestOrm("sqlite", [User, AccessToken]);
    dialect = db.orm.config.get("driverOptions") as unknown as TesseraSqliteDialect;
  });
  afterAll(() => db?.close());
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("exposes the DatabaseSync it opened, and caches MikroORM's statements too", async () => {
    expect(dialect).toBeInstanceOf(TesseraSqliteDialect);
    expect(dialect.database).toBeInstanceOf(DatabaseSync);
    expect(dialect.database?.isOpen).toBe(true);
    const connection = db.orm.em.getConnection();
    const prepare = vi.spyOn(dialect.database as DatabaseSync, "prepare");
    await connection.execute("select 42 as answer");
    await connection.execute("select 42 as answer");
    expect(prepare).toHaveBeenCalledTimes(1);
  });

  it("the hot reads run cached statements synchronously, not through MikroORM's connection", async () => {
    const { user, digest } = await userWithToken(db.em(), "fast@example.com");
    const tokens = new MikroOrmAccessTokenDatabase(db.orm.em, AccessToken);
    const users = new MikroOrmUserDatabase(db.orm.em, User);
    await tokens.getByTokenWithUser(digest); // first use prepares
    await users.get(user.id);
    const execute = vi.spyOn(db.orm.em.getConnection(), "execute");
    const prepare = vi.spyOn(dialect.database as DatabaseSync, "prepare");
    const { result, queries } = await db.captureQueries(async () => {
      const both = await tokens.getByTokenWithUser(digest);
      const again = await users.get(user.id);
      return { both, again };
    });
    expect(result.both?.user).toMatchObject({ id: user.id, email: "fast@example.com" });
    expect(result.both?.accessToken).toMatchObject({ token: digest, lifetimeSeconds: 3600 });
    expect(result.again).toMatchObject({ id: user.id, isActive: true });
    expect(execute).not.toHaveBeenCalled();
    expect(prepare).not.toHaveBeenCalled();
    // Logged as MikroORM logs its own queries (the PostgreSQL fast path does the same).
    expect(queries).toHaveLength(2);
    expect(queries[0]).toMatch(/ join /i);
  });

  it("another flow's open transaction: the read waits for it and never sees its writes", async () => {
    const users = new MikroOrmUserDatabase(db.orm.em, User);
    for (const outcome of ["rollback", "commit"] as const) {
      const email = `trx-${outcome}@example.com`;
      const begun = deferred();
      const release = deferred();
      const transaction = db.orm.em.fork().transactional(async (em) => {
        await new MikroOrmUserDatabase(em, User).create(userCreateData(email));
        begun.resolve();
        await release.promise;
        if (outcome === "rollback") throw new Error("rolled back");
      });
      await begun.promise;
      expect(dialect.database?.isTransaction).toBe(true);
      const execute = vi.spyOn(db.orm.em.getConnection(), "execute");
      let settled = false;
      const read = users.getByEmail(email).finally(() => {
        settled = true;
      });
      await settle();
      expect(settled).toBe(false); // queued behind the transaction on Kysely's connection
      expect(execute).toHaveBeenCalledTimes(1);
      release.resolve();
      if (outcome === "rollback") {
        await expect(transaction).rejects.toThrow("rolled back");
        expect(await read).toBeNull();
      } else {
        await transaction;
        expect((await read)?.email).toBe(email);
      }
      execute.mockRestore();
    }
    expect(dialect.database?.isTransaction).toBe(false);
  });

  it("inside em.transactional the reads go through the transaction and see its writes", async () => {
    const execute = vi.spyOn(db.orm.em.getConnection(), "execute");
    await db.orm.em.fork().transactional(async (em) => {
      const { user, digest } = await userWithToken(em, "own@example.com", 60);
      const tokens = new MikroOrmAccessTokenDatabase(em, AccessToken);
      execute.mockClear();
      expect((await tokens.getByTokenWithUser(digest))?.user.email).toBe("own@example.com");
      expect((await new MikroOrmUserDatabase(em, User).get(user.id))?.id).toBe(user.id);
      expect(execute).toHaveBeenCalledTimes(2);
      for (const call of execute.mock.calls) {
        expect(call[3]).toBe(em.getTransactionContext()); // the transaction's connection
      }
    });
  });

  it("binds values to mean what MikroORM's inlined literals mean; others take its path", async () => {
    const plain = await openTestOrm("sqlite", [User, AccessToken], {}, {}, "mikro-orm");
    try {
      const sql = "select typeof(?) as t, quote(?) as q";
      const values = [5, -0, 1.5, "5", "it's", null, 5n, 2 ** 60, true];
      const fast = [];
      const slow = [];
      for (const v of values) {
        fast.push(await queryOne(db.em(), sql, [v, v]));
        slow.push(await queryOne(plain.em(), sql, [v, v]));
      }
      expect(fast).toEqual(slow);
      expect(fast[0]).toEqual({ t: "integer", q: "5" });
      const execute = vi.spyOn(db.orm.em.getConnection(), "execute");
      await queryOne(db.em(), sql, [5, 5]);
      expect(execute).not.toHaveBeenCalled();
      await queryOne(db.em(), sql, [true, true]); // node:sqlite cannot bind a boolean
      await queryOne(db.em(), sql, [2 ** 60, 2 ** 60]); // would bind as a REAL
      expect(execute).toHaveBeenCalledTimes(2);
    } finally {
      await plain.close();
    }
  });

  it("streams (connection.stream), undisturbed by a hot read of the same text mid-stream", async () => {
    const sql = "select value from json_each('[1,2,3]')";
    const seen: unknown[] = [];
    const connection = db.orm.em.getConnection() as unknown as {
      stream(sql: string): AsyncIterable<unknown>;
    };
    for await (const row of connection.stream(sql)) {
      seen.push((row as { value: number }).value);
      expect(await queryOne(db.em(), sql, [])).toEqual({ value: 1 });
    }
    expect(seen).toEqual([1, 2, 3]);
  });

  it("an onQuery rewrite is honoured: such reads take MikroORM's path", async () => {
    const onQuery = vi.fn((sql: string) => `${sql} `);
    const rewriting = await openTestOrm("sqlite", [User, AccessToken], { onQuery });
    try {
      const user = await new MikroOrmUserDatabase(rewriting.em(), User).create(
        userCreateData("rewrite@example.com"),
      );
      onQuery.mockClear();
      const execute = vi.spyOn(rewriting.orm.em.getConnection(), "execute");
      expect((await new MikroOrmUserDatabase(rewriting.em(), User).get(user.id))?.id).toBe(user.id);
      expect(execute).toHaveBeenCalledTimes(1);
    } finally {
      await rewriting.close();
    }
  });
});

describe("driver errors on the fast path", () => {
  it("a locked database is ServiceUnavailableError on either dialect", async () => {
    for (const kind of ["tessera", "mikro-orm"] as const) {
      const db = await openTestOrm("sqlite", [User, AccessToken], {}, {}, kind);
      const connection = db.orm.em.getConnection();
      try {
        const user = await new MikroOrmUserDatabase(db.em(), User).create(
          userCreateData(`locked-${kind}@example.com`),
        );
        const users = new MikroOrmUserDatabase(db.orm.em, User);
        expect((await users.get(user.id))?.id).toBe(user.id); // warm (on ours: cached)
        const [main] = await connection.execute<{ file: string }[]>("pragma database_list");
        const locker = new DatabaseSync(main?.file as string);
        locker.exec("begin exclusive");
        try {
          const error = await users.get(user.id).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(ServiceUnavailableError);
          expect(((error as Error).cause as Error).message).toMatch(/database is locked/);
        } finally {
          locker.exec("rollback");
          locker.close();
        }
        expect((await users.get(user.id))?.id).toBe(user.id);
      } finally {
        await db.close();
      }
    }
  });
});

describe("TesseraSqliteDialect's database", () => {
  it("is gone after the ORM closes, and the one reopened after it reconnects", async () => {
    const db = await openTestOrm("sqlite", [User, AccessToken]);
    try {
      const dialect = db.orm.config.get("driverOptions") as unknown as TesseraSqliteDialect;
      const first = dialect.database;
      const user = await new MikroOrmUserDatabase(db.em(), User).create(userCreateData("re@x.org"));
      await db.orm.close();
      expect(dialect.database).toBeUndefined();
      expect(dialect.cachedStatements).toBe(0);
      await db.orm.connect();
      expect(dialect.database).toBeInstanceOf(DatabaseSync);
      expect(dialect.database === first).toBe(false); // (toBe would inspect the closed one)
      expect((await new MikroOrmUserDatabase(db.orm.em, User).get(user.id))?.id).toBe(user.id);
    } finally {
      await db.close();
    }
  });

  it("is undefined while two are open (one dialect, two ORMs): reads take MikroORM's path", async () => {
    const db = await openTestOrm("sqlite", [User, AccessToken]);
    const dialect = db.orm.config.get("driverOptions") as unknown as TesseraSqliteDialect;
    const file = dialect.database?.location() as string;
    const second = await MikroORM.init({
      driver: SqliteDriver,
      dbName: file,
      driverOptions: dialect,
      entities: [User, AccessToken],
    });
    try {
      await second.em.getConnection().execute("select 1"); // MikroORM connects on first use
      expect(dialect.database).toBeUndefined();
      const user = await new MikroOrmUserDatabase(db.em(), User).create(
        userCreateData("two@x.org"),
      );
      const execute = vi.spyOn(second.em.getConnection(), "execute");
      expect((await new MikroOrmUserDatabase(second.em, User).get(user.id))?.id).toBe(user.id);
      expect(execute).toHaveBeenCalledTimes(1);
    } finally {
      await second.close(true);
      await db.close();
    }
  });

  it("caches at most statementCacheSize statements", async () => {
    const dialect = new TesseraSqliteDialect(":memory:", { statementCacheSize: 4 });
    const orm = await MikroORM.init({
      driver: SqliteDriver,
      dbName: ":memory:",
      driverOptions: dialect,
      entities: [User, AccessToken],
    });
    try {
      const connection = orm.em.getConnection();
      for (let i = 0; i < 20; i++) await connection.execute(`select ${i} as v`);
      expect(dialect.cachedStatements).toBe(4);
    } finally {
      await orm.close(true);
    }
  });
});

describe("a database file that cannot be opened", () => {
  it("is ServiceUnavailableError on either dialect", async () => {
    const file = "/nonexistent-tessera-dir/db.sqlite";
    for (const dialect of [new TesseraSqliteDialect(file), new NodeSqliteDialect(file)]) {
      const orm = new MikroORM({
        driver: SqliteDriver,
        dbName: file,
        driverOptions: dialect,
        entities: [User, AccessToken],
      });
      try {
        const error = await new MikroOrmUserDatabase(orm.em, User)
          .get("00000000-0000-4000-8000-000000000000")
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ServiceUnavailableError);
      } finally {
        await orm.close(true).catch(() => {});
      }
    }
  });
});
