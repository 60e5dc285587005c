// Smoke test of the service harness: every service answers the real driver over the network,
// and control.ts can take a server down and bring it back on the same port and data.
import { Cluster, Redis } from "ioredis";
import { MongoClient } from "mongodb";
import pg from "pg";
import { afterAll, describe, expect, inject, it } from "vitest";
import { type PrivateService, startPrivateService } from "./control.js";

const services = inject("services");

async function pgQuery<T extends pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
) {
  // Short connect timeout: a stopped server must fail fast, not hang the test.
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on("error", () => {});
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** A client that fails at once instead of queueing commands while reconnecting. */
function strictRedis(url: string): Redis {
  return quiet(
    new Redis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    }),
  );
}

/** Connection errors are expected in these tests; without a listener ioredis logs them. */
function quiet<T extends Redis>(client: T): T {
  client.on("error", () => {});
  return client;
}

describe("shared services", () => {
  it("exports connection info to process.env as well as inject()", () => {
    expect(process.env.POSTGRES_URL).toBe(services.postgres.url);
    expect(process.env.REDIS_URL).toBe(services.redis.url);
    expect(process.env.REDIS_CLUSTER_URLS).toBe(services.redisCluster.urls.join(","));
    expect(process.env.MONGODB_URL).toBe(services.mongo.url);
  });

  it("PostgreSQL answers on the tessera_test database", async () => {
    const rows = await pgQuery<{ one: number; db: string }>(
      services.postgres.url,
      "select 1 as one, current_database() as db",
    );
    expect(rows).toEqual([
      { one: 1, db: services.postgres.external ? rows[0]?.db : "tessera_test" },
    ]);
  });

  it("single Redis: SET then GET", async () => {
    const redis = new Redis(services.redis.url);
    try {
      await redis.set("harness:smoke", "ok", "EX", 60);
      expect(await redis.get("harness:smoke")).toBe("ok");
    } finally {
      redis.disconnect();
    }
  });

  it("Redis Cluster: keys spread over several masters and read back", async () => {
    expect(services.redisCluster.nodes.length).toBeGreaterThanOrEqual(3);
    const cluster = new Cluster(services.redisCluster.nodes);
    try {
      const keys = Array.from({ length: 60 }, (_, i) => `harness:cluster:${i}`);
      for (const k of keys) await cluster.set(k, k, "EX", 60);
      for (const k of keys) expect(await cluster.get(k)).toBe(k);
      // Different slots must land on different masters: this is a real cluster, not one node.
      // KEYS on one master lists only the keys it owns.
      const perMaster = await Promise.all(
        cluster.nodes("master").map((node) => node.keys("harness:cluster:*")),
      );
      expect(perMaster.reduce((n, ks) => n + ks.length, 0)).toBe(keys.length);
      expect(perMaster.filter((ks) => ks.length > 0).length).toBeGreaterThanOrEqual(2);
      expect(await cluster.cluster("INFO")).toContain("cluster_state:ok");
    } finally {
      cluster.disconnect();
    }
  });

  it(`MongoDB protocol (${services.mongo.kind}): insert then find`, async () => {
    const client = new MongoClient(services.mongo.url, { serverSelectionTimeoutMS: 5000 });
    try {
      await client.connect();
      const coll = client.db("tessera_test").collection<{ _id: string; n: number }>("harness");
      await coll.deleteMany({});
      await coll.insertOne({ _id: "a", n: 1 });
      expect(await coll.find({ n: 1 }).toArray()).toEqual([{ _id: "a", n: 1 }]);
    } finally {
      await client.close();
    }
  });
});

// Stop/restart is exercised on private instances: they are started and controlled by the same
// code as the shared servers (spec -> launch/halt), but stopping them cannot break test files
// running in parallel against the shared ones.
describe("control: stop and restart in place", () => {
  const owned: PrivateService[] = [];
  afterAll(async () => {
    await Promise.all(owned.map((s) => s.dispose()));
  });

  it("PostgreSQL: refused while stopped, same data on the same port after restart", async () => {
    const db = await startPrivateService("postgres");
    owned.push(db);
    await pgQuery(db.url, "create table t (v text)");
    await pgQuery(db.url, "insert into t values ('kept')");

    await db.stop();
    expect(db.isRunning()).toBe(false);
    await expect(pgQuery(db.url, "select 1")).rejects.toThrow(/ECONNREFUSED|connect/);

    await db.start();
    expect(await pgQuery(db.url, "select v from t")).toEqual([{ v: "kept" }]);

    // A crash (immediate shutdown) followed by restart: postgres recovers from its WAL.
    await db.restart("crash");
    expect(await pgQuery(db.url, "select count(*)::int as n from t")).toEqual([{ n: 1 }]);
  });

  it("Redis: commands fail while stopped; a long-lived client recovers after restart", async () => {
    const r = await startPrivateService("redis");
    owned.push(r);
    const longLived = quiet(new Redis(r.url, { maxRetriesPerRequest: 1 }));
    try {
      await longLived.set("k", "v");
      await r.stop("crash");
      const probe = strictRedis(r.url);
      await expect(probe.connect()).rejects.toThrow(/ECONNREFUSED|Connection/);
      probe.disconnect();

      await r.start();
      // Same port: the existing client reconnects by itself. No persistence: the data is gone.
      await expect
        .poll(() => longLived.ping().catch(() => "down"), { timeout: 10_000 })
        .toBe("PONG");
      expect(await longLived.get("k")).toBeNull();
    } finally {
      longLived.disconnect();
    }
  });

  it("MongoDB protocol: data survives a restart", async () => {
    const m = await startPrivateService("mongo");
    owned.push(m);
    const write = new MongoClient(m.url, { serverSelectionTimeoutMS: 3000 });
    await write.db("t").collection("c").insertOne({ x: 1 });
    await write.close();
    await m.restart();
    const read = new MongoClient(m.url, { serverSelectionTimeoutMS: 5000 });
    try {
      expect(await read.db("t").collection("c").countDocuments({ x: 1 })).toBe(1);
    } finally {
      await read.close();
    }
  });
});
