// The reads on every authenticated request must not pay the ORM's per-request cost (issue
// measurement: em.fork() + two findOne = 0.08x bare Koa throughput, a raw pg join 0.32x).
// Counted with MikroORM's own query logger: what the adapter sends, statement by statement.
import { generateOpaqueToken, hashToken } from "@tessera/core";
import { sessionIdFromDigest } from "@tessera/core/internal";
import { userWithToken as createUserWithToken } from "@tessera/core/testing";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import {
  AccessToken,
  MikroOrmAccessTokenDatabase,
  MikroOrmUserDatabase,
  MongoAccessToken,
  MongoUser,
  User,
} from "../../packages/db-mikroorm/src/index.js";
import { mongoMissingFeatures } from "../../packages/db-mikroorm/src/lib/mongo.js";
import {
  LazyAccessToken,
  LazyUser,
} from "../../packages/db-mikroorm/src/test-utils/app-entities.js";
import { openTestOrm, type TestOrm } from "../../packages/db-mikroorm/src/test-utils/orm.js";
import { userWithToken } from "../../packages/db-mikroorm/src/test-utils/tokens.js";

describe.each(["postgresql", "sqlite"] as const)("db-mikroorm/%s hot path", (driver) => {
  let db: TestOrm;
  beforeAll(async () => {
    db = await openTestOrm(driver, [User, AccessToken]);
  });
  afterAll(() => db?.close());

  it("getByTokenWithUser is exactly one query: a join", async () => {
    const { user, digest } = await userWithToken(db.em(), `join-${driver}@example.com`);
    const em = db.em();
    const tokens = new MikroOrmAccessTokenDatabase(em, AccessToken);
    await tokens.getByTokenWithUser(digest); // first use builds the statement; count a warm call
    const { result, queries } = await db.captureQueries(() => tokens.getByTokenWithUser(digest));
    expect(result?.user).toMatchObject({ id: user.id, email: user.email, isActive: true });
    expect(result?.accessToken).toMatchObject({
      token: digest,
      userId: user.id,
      lifetimeSeconds: 3600,
    });
    expect(queries).toHaveLength(1);
    expect(queries[0]).toMatch(/ join /i);
    // Nothing was hydrated into the request's identity map.
    expect(em.getUnitOfWork().getIdentityMap().values()).toHaveLength(0);
  });

  it("getByTokenWithUser reads the session fields (claims, last use, device, data) in its one statement", async () => {
    const { user, digest } = await userWithToken(db.em(), `fields-${driver}@example.com`);
    const tokens = new MikroOrmAccessTokenDatabase(db.em(), AccessToken);
    const at = await tokens.getByToken(digest);
    if (!at) throw new Error("no token");
    const lastUsedAt = new Date();
    await tokens.update(at, { lastUsedAt, claims: { role: "x" }, data: { n: 1 }, handle: "h" });
    await tokens.getByTokenWithUser(digest);
    const { result, queries } = await db.captureQueries(() => tokens.getByTokenWithUser(digest));
    expect(queries).toHaveLength(1);
    for (const column of ["claims", "last_used_at", "ip_address", "user_agent", "handle", "data"]) {
      expect(queries[0]).toContain(column);
    }
    expect(result?.user.id).toBe(user.id);
    expect(result?.accessToken).toMatchObject({
      claims: { role: "x" },
      data: { n: 1 },
      lastUsedAt,
    });
  });

  it("get(id) is one query and leaves the identity map empty; malformed ids send none", async () => {
    const { user } = await userWithToken(db.em(), `get-${driver}@example.com`);
    const em = db.em();
    const users = new MikroOrmUserDatabase(em, User);
    const { result, queries } = await db.captureQueries(() => users.get(user.id));
    expect(result).toMatchObject({ id: user.id, email: user.email });
    expect(queries).toHaveLength(1);
    expect(em.getUnitOfWork().getIdentityMap().values()).toHaveLength(0);
    const none = await db.captureQueries(() => users.get({ $ne: null } as unknown as string));
    expect(none.result).toBeNull();
    expect(none.queries).toHaveLength(0);
  });

  it("inside em.transactional the reads see the transaction's own writes", async () => {
    await db.orm.em.fork().transactional(async (em) => {
      const { digest } = await userWithToken(em, "trx@example.com", 60);
      const tokens = new MikroOrmAccessTokenDatabase(em, AccessToken);
      expect((await tokens.getByTokenWithUser(digest))?.user.email).toBe("trx@example.com");
      // Not committed yet: a fork outside the transaction does not see the user. (SQLite has
      // one connection, which the transaction holds: a read outside would wait for it.)
      if (driver === "postgresql") {
        const outside = new MikroOrmUserDatabase(db.orm.em.fork(), User);
        expect(await outside.getByEmail("trx@example.com")).toBeNull();
      }
    });
  });

  it("deleteExpired is one DELETE in the platform's date arithmetic", async () => {
    const { queries } = await db.captureQueries(() =>
      new MikroOrmAccessTokenDatabase(db.em(), AccessToken).deleteExpired(new Date()),
    );
    expect(queries).toHaveLength(1);
    expect(queries[0]).toMatch(/^.*delete from/i);
  });
});

describe("db-mikroorm/postgresql prepared statements", () => {
  let db: TestOrm;
  beforeAll(async () => {
    // One pooled connection, so the session that prepared the statement is the one we ask.
    db = await openTestOrm("postgresql", [User, AccessToken], { driverOptions: { max: 1 } });
  });
  afterAll(() => db?.close());

  it("hot reads are named prepared statements on MikroORM's pg pool", async () => {
    const { user, digest } = await userWithToken(db.em(), "prep@example.com", 60);
    const tokens = new MikroOrmAccessTokenDatabase(db.em(), AccessToken);
    expect((await tokens.getByTokenWithUser(digest))?.user.id).toBe(user.id);
    expect((await new MikroOrmUserDatabase(db.em(), User).get(user.id))?.id).toBe(user.id);
    const pool = (await db.orm.em.getConnection().getNativeClient()) as {
      query(sql: string): Promise<{ rows: { name: string; statement: string }[] }>;
    };
    const { rows } = await pool.query("select name, statement from pg_prepared_statements");
    const ours = rows.filter((r) => r.name.startsWith("tessera_"));
    expect(ours.some((r) => / join /i.test(r.statement) && r.statement.includes("$1"))).toBe(true);
    expect(ours.length).toBeGreaterThanOrEqual(2);
  });
});

describe("db-mikroorm/postgresql lookups of one event-loop turn share a statement", () => {
  let db: TestOrm;
  beforeAll(async () => {
    db = await openTestOrm("postgresql", [User, AccessToken]);
  });
  afterAll(() => db?.close());

  async function usersWithTokens(prefix: string, n: number) {
    const out: { id: string; email: string; digest: string }[] = [];
    for (let i = 0; i < n; i++) {
      const { user, digest } = await userWithToken(db.em(), `${prefix}-${i}@example.com`, 600 + i);
      out.push({ id: user.id, email: user.email, digest });
    }
    return out;
  }

  it("concurrent getByTokenWithUser calls are one statement, and each gets its own row", async () => {
    const known = await usersWithTokens("batch", 6);
    const missing = [hashToken(generateOpaqueToken()), hashToken(generateOpaqueToken())];
    // Known tokens, a duplicate of one of them, and unknown ones, interleaved.
    const asked = [
      known[0],
      missing[0],
      known[1],
      known[2],
      known[0],
      known[3],
      missing[1],
      known[4],
      known[5],
    ].map((k) => (typeof k === "string" ? k : k?.digest) as string);
    const tokens = new MikroOrmAccessTokenDatabase(db.em(), AccessToken);
    const { result, queries } = await db.captureQueries(() =>
      Promise.all(asked.map((digest) => tokens.getByTokenWithUser(digest))),
    );
    expect(queries).toHaveLength(1);
    expect(queries[0]).toMatch(/ join .* = any\(/i);
    asked.forEach((digest, i) => {
      const owner = known.find((k) => k.digest === digest);
      const got = result[i];
      if (!owner) {
        expect(got).toBeNull();
        return;
      }
      expect(got?.accessToken.token).toBe(digest);
      expect(got?.accessToken.userId).toBe(owner.id);
      expect(got?.accessToken.lifetimeSeconds).toBe(600 + known.indexOf(owner));
      expect(got?.user).toMatchObject({ id: owner.id, email: owner.email });
    });
    // Callers sharing a row get objects of their own.
    expect(result[0]).not.toBe(result[4]);
    expect(result[0]?.user).not.toBe(result[4]?.user);
  });

  it("concurrent get(id) calls are one statement; an id in upper case finds its user", async () => {
    const known = await usersWithTokens("batch-get", 3);
    const users = new MikroOrmUserDatabase(db.em(), User);
    const ids = [
      known[0]?.id,
      "00000000-0000-4000-8000-000000000000",
      known[1]?.id.toUpperCase(),
      known[2]?.id,
    ] as string[];
    const { result, queries } = await db.captureQueries(() =>
      Promise.all(ids.map((id) => users.get(id))),
    );
    expect(queries).toHaveLength(1);
    expect(queries[0]).toMatch(/= any\(/i);
    expect(result.map((u) => u?.email ?? null)).toEqual([
      known[0]?.email,
      null,
      known[1]?.email,
      known[2]?.email,
    ]);
  });

  it("concurrent getByHandle calls (session data of many requests) are one statement, and each gets its own row", async () => {
    const known = await usersWithTokens("batch-handle", 4);
    const tokens = new MikroOrmAccessTokenDatabase(db.em(), AccessToken);
    for (const k of known) {
      const at = await tokens.getByToken(k.digest);
      if (at) await tokens.update(at, { handle: sessionIdFromDigest(k.digest) });
    }
    const handles = [
      sessionIdFromDigest(known[0]?.digest as string),
      sessionIdFromDigest(hashToken(generateOpaqueToken())),
      sessionIdFromDigest(known[1]?.digest as string),
      sessionIdFromDigest(known[0]?.digest as string),
      // Handles are base64url: one differing in case only is another handle.
      sessionIdFromDigest(known[2]?.digest as string).toUpperCase(),
      sessionIdFromDigest(known[3]?.digest as string),
    ];
    const { result, queries } = await db.captureQueries(() =>
      Promise.all(handles.map((handle) => tokens.getByHandle(handle))),
    );
    expect(queries).toHaveLength(1);
    expect(queries[0]).toMatch(/= any\(/i);
    expect(result.map((r) => r?.token ?? null)).toEqual([
      known[0]?.digest,
      null,
      known[1]?.digest,
      known[0]?.digest,
      null,
      known[3]?.digest,
    ]);
    expect(result[0]).not.toBe(result[3]);
  });

  it("a lone lookup sends the single-key statement", async () => {
    const [one] = await usersWithTokens("batch-lone", 1);
    const tokens = new MikroOrmAccessTokenDatabase(db.em(), AccessToken);
    const { result, queries } = await db.captureQueries(() =>
      tokens.getByTokenWithUser(one?.digest as string),
    );
    expect(result?.user.id).toBe(one?.id);
    expect(queries).toHaveLength(1);
    expect(queries[0]).not.toMatch(/any\(/i);
  });

  it("inside a transaction each lookup is its own statement on the transaction", async () => {
    const known = await usersWithTokens("batch-trx", 2);
    await db.orm.em.fork().transactional(async (em) => {
      const tokens = new MikroOrmAccessTokenDatabase(em, AccessToken);
      const { result, queries } = await db.captureQueries(() =>
        Promise.all(known.map((k) => tokens.getByTokenWithUser(k.digest))),
      );
      expect(result.map((r) => r?.user.id)).toEqual(known.map((k) => k.id));
      expect(queries.filter((q) => /select/i.test(q))).toHaveLength(2);
      expect(queries.some((q) => /any\(/i.test(q))).toBe(false);
    });
  });

  it("more callers than a batch holds are answered by several statements", async () => {
    const [one] = await usersWithTokens("batch-many", 1);
    const tokens = new MikroOrmAccessTokenDatabase(db.em(), AccessToken);
    const asked = Array.from({ length: 300 }, (_, i) =>
      i % 3 === 0 ? (one?.digest as string) : hashToken(generateOpaqueToken()),
    );
    const { result, queries } = await db.captureQueries(() =>
      Promise.all(asked.map((digest) => tokens.getByTokenWithUser(digest))),
    );
    expect(queries.length).toBeGreaterThanOrEqual(3);
    expect(queries.length).toBeLessThan(300);
    result.forEach((r, i) => {
      expect(r?.user.id ?? null).toBe(i % 3 === 0 ? one?.id : null);
    });
  });
});

describe("db-mikroorm/mongodb hot path", () => {
  let db: TestOrm;
  beforeAll(async () => {
    db = await openTestOrm("mongodb", [MongoUser, MongoAccessToken]);
  });
  afterAll(() => db?.close());

  it("getByTokenWithUser is one $lookup aggregation, or two finds where $lookup is missing", async () => {
    const { user, digest } = await createUserWithToken(
      new MikroOrmUserDatabase(db.em(), MongoUser),
      new MikroOrmAccessTokenDatabase(db.em(), MongoAccessToken),
      "join@example.com",
      60,
    );
    const em = db.em();
    const tokens = new MikroOrmAccessTokenDatabase(em, MongoAccessToken);
    await tokens.getByTokenWithUser(digest); // detects what the server lacks
    const { result, queries } = await db.captureQueries(() => tokens.getByTokenWithUser(digest));
    expect(result?.user).toMatchObject({ id: user.id, email: "join@example.com" });
    const lookupMissing = mongoMissingFeatures(em).includes("$lookup");
    expect(queries).toHaveLength(lookupMissing ? 2 : 1);
    if (!lookupMissing) expect(queries[0]).toMatch(/\$lookup/);
    expect(em.getUnitOfWork().getIdentityMap().values()).toHaveLength(0);
  });

  it("FerretDB v1 lacks $lookup and $expr arithmetic; both are detected, not assumed", async () => {
    const em = db.em();
    await new MikroOrmAccessTokenDatabase(em, MongoAccessToken).deleteExpired(new Date());
    const missing = mongoMissingFeatures(em);
    const kind = inject("services").mongo.kind;
    if (kind === "ferretdb") expect(missing.sort()).toEqual(["$expr", "$lookup"]);
    if (kind === "mongod") expect(missing).toEqual([]);
  });
});

describe.each(["postgresql", "sqlite"] as const)(
  "db-mikroorm/%s with fastPath: false",
  (driver) => {
    let db: TestOrm;
    beforeAll(async () => {
      db = await openTestOrm(driver, [User, AccessToken]);
    });
    afterAll(() => db?.close());

    it("every read is MikroORM's own query, through its connection; the identity map stays empty", async () => {
      const { user, digest } = await userWithToken(db.em(), `plain-${driver}@example.com`);
      const em = db.em();
      const options = { fastPath: false };
      const tokens = new MikroOrmAccessTokenDatabase(em, AccessToken, options);
      const users = new MikroOrmUserDatabase(em, User, options);
      const execute = vi.spyOn(db.orm.em.getConnection(), "execute");
      const pool =
        driver === "postgresql"
          ? ((await db.orm.em.getConnection().getNativeClient()) as { query(): unknown })
          : undefined;
      const poolQuery = pool ? vi.spyOn(pool, "query") : undefined;
      try {
        const { result, queries } = await db.captureQueries(async () => ({
          both: await tokens.getByTokenWithUser(digest),
          byId: await users.get(user.id),
          byEmail: await users.getByEmail(user.email.toUpperCase()),
          listed: await tokens.listByUser(user.id),
        }));
        expect(result.both?.user).toMatchObject({ id: user.id, email: user.email, isActive: true });
        expect(result.both?.accessToken).toMatchObject({ token: digest, userId: user.id });
        expect(result.byId).toMatchObject({ id: user.id, email: user.email });
        expect(result.byEmail?.id).toBe(user.id);
        expect(result.listed.map((t) => t.token)).toEqual([digest]);
        // MikroORM's joined populate: one statement for the token and its user.
        expect(queries).toHaveLength(4);
        expect(queries[0]).toMatch(/ join /i);
        expect(execute).toHaveBeenCalledTimes(4);
        if (poolQuery) expect(poolQuery).not.toHaveBeenCalled();
        expect(em.getUnitOfWork().getIdentityMap().values()).toHaveLength(0);
      } finally {
        execute.mockRestore();
        poolQuery?.mockRestore();
      }
    });
  },
);

describe.each(["postgresql", "sqlite"] as const)(
  "db-mikroorm/%s and MikroORM filters",
  (driver) => {
    it("neither the fast path nor the plain one applies them: a row is read by its key", async () => {
      // A filter on by default that would hide every user and token from em.find / em.findOne.
      const hideAll = { cond: { createdAt: null }, entity: ["AccessToken"], default: true };
      const hideUsers = { cond: { email: "nobody" }, entity: ["User"], default: true };
      const db = await openTestOrm(driver, [User, AccessToken], {
        filters: { hideAll, hideUsers },
      } as never);
      try {
        const { user, digest } = await userWithToken(db.em(), `filters-${driver}@example.com`);
        for (const options of [{}, { fastPath: false }]) {
          const tokens = new MikroOrmAccessTokenDatabase(db.em(), AccessToken, options);
          const users = new MikroOrmUserDatabase(db.em(), User, options);
          expect((await tokens.getByTokenWithUser(digest))?.user.id).toBe(user.id);
          expect((await users.get(user.id))?.id).toBe(user.id);
          expect((await users.getByEmail(user.email))?.id).toBe(user.id);
          expect(await tokens.listByUser(user.id)).toHaveLength(1);
        }
      } finally {
        await db.close();
      }
    });
  },
);

describe.each(["postgresql", "sqlite"] as const)("db-mikroorm/%s and lazy columns", (driver) => {
  it("the fast path and the plain one both read a lazy column", async () => {
    const db = await openTestOrm(driver, [LazyUser, LazyAccessToken]);
    try {
      const { user, digest } = await createUserWithToken(
        new MikroOrmUserDatabase(db.em(), LazyUser),
        new MikroOrmAccessTokenDatabase(db.em(), LazyAccessToken),
        `lazy-${driver}@example.com`,
        60,
      );
      await new MikroOrmUserDatabase(db.em(), LazyUser).update(
        user as never,
        {
          bio: "likes tea",
        } as never,
      );
      for (const options of [{}, { fastPath: false }]) {
        const tokens = new MikroOrmAccessTokenDatabase(db.em(), LazyAccessToken, options);
        const users = new MikroOrmUserDatabase(db.em(), LazyUser, options);
        expect((await tokens.getByTokenWithUser(digest))?.user).toMatchObject({ bio: "likes tea" });
        expect(await users.get(user.id as string)).toMatchObject({ bio: "likes tea" });
        expect(await users.getByEmail(user.email)).toMatchObject({ bio: "likes tea" });
      }
    } finally {
      await db.close();
    }
  });
});

describe("db-mikroorm/postgresql with preparedStatements: false", () => {
  let db: TestOrm;
  beforeAll(async () => {
    // One pooled connection: the session whose prepared statements we list is the one used.
    db = await openTestOrm("postgresql", [User, AccessToken], { driverOptions: { max: 1 } });
  });
  afterAll(() => db?.close());

  it("the fast path sends unnamed statements: none is left in pg_prepared_statements (PgBouncer < 1.21)", async () => {
    const { user, digest } = await userWithToken(db.em(), "unnamed@example.com", 60);
    const pool = (await db.orm.em.getConnection().getNativeClient()) as {
      query(config: string | { name?: string; text: string }): Promise<{
        rows: { name: string; statement: string }[];
      }>;
    };
    const named = async () =>
      (await pool.query("select name, statement from pg_prepared_statements")).rows.filter((r) =>
        r.name.startsWith("tessera_"),
      );
    expect(await named()).toEqual([]);

    const options = { preparedStatements: false };
    const tokens = new MikroOrmAccessTokenDatabase(db.em(), AccessToken, options);
    const users = new MikroOrmUserDatabase(db.em(), User, options);
    const query = vi.spyOn(pool, "query");
    const execute = vi.spyOn(db.orm.em.getConnection(), "execute");
    try {
      expect((await tokens.getByTokenWithUser(digest))?.user.id).toBe(user.id); // lone
      const batch = await Promise.all([users.get(user.id), users.get(user.id.toUpperCase())]);
      expect(batch.map((u) => u?.id)).toEqual([user.id, user.id]); // batched: = any($1)
      expect((await users.getByEmail(user.email))?.id).toBe(user.id);
      // Still the fast path (on the pool, not MikroORM's execute), every statement unnamed.
      expect(execute).not.toHaveBeenCalled();
      const sent = query.mock.calls.map(([config]) => config as { name?: string; text: string });
      expect(sent).toHaveLength(3);
      expect(sent.some((c) => /any\(\$1\)/.test(c.text))).toBe(true);
      for (const config of sent) expect(config.name).toBeUndefined();
    } finally {
      query.mockRestore();
      execute.mockRestore();
    }
    expect(await named()).toEqual([]);

    // The control: by default the same reads leave named statements on this connection.
    await new MikroOrmAccessTokenDatabase(db.em(), AccessToken).getByTokenWithUser(digest);
    expect((await named()).some((r) => / join /i.test(r.statement))).toBe(true);
  });
});
