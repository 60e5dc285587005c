import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PrivateService, startPrivateService } from "../harness/control.js";
import { request } from "../support/client.js";
import { startInProcess } from "./support.js";

const quiet = { info() {}, warn() {}, error() {} };

let pg: PrivateService;
let redis: PrivateService;
let mongo: PrivateService;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  [pg, redis, mongo] = await Promise.all([
    startPrivateService("postgres"),
    startPrivateService("redis"),
    startPrivateService("mongo"),
  ]);
  cleanups.push(async () => {
    await Promise.all([pg.dispose(), redis.dispose(), mongo.dispose()]);
  });
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** The example app on these servers, listening; its `GET /healthz`. */
async function startExample(env: Record<string, string>) {
  const { config } = await startInProcess(env, {
    cleanups,
    log: quiet,
    prefix: "koa-app-healthz-",
  });
  const healthz = () => request(`${config.appUrl}/healthz`);
  /** Polls until it answers `body` (a restarted server takes a moment to reconnect). */
  const eventually = async (body: unknown): Promise<void> => {
    let last: unknown;
    for (let i = 0; i < 100; i++) {
      last = (await healthz()).body;
      if (JSON.stringify(last) === JSON.stringify(body)) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`/healthz still ${JSON.stringify(last)}, expected ${JSON.stringify(body)}`);
  };
  return { healthz, eventually };
}

describe("examples/koa-app GET /healthz while PostgreSQL and Redis go down and come back", () => {
  it("200 ok; 503 naming Redis, then the database and Redis, no-store; 200 again after restarts", async () => {
    const { healthz, eventually } = await startExample({
      DATABASE_URL: pg.url,
      REDIS_URL: redis.url,
    });
    const up = await healthz();
    expect(up.status).toBe(200);
    expect(up.body).toEqual({ status: "ok" });
    expect(up.headers.get("cache-control")).toBe("no-store");

    await redis.stop("crash");
    const noRedis = await healthz();
    expect(noRedis.status).toBe(503);
    expect(noRedis.body).toEqual({ status: "unavailable", failed: ["redis"] });
    expect(noRedis.headers.get("cache-control")).toBe("no-store");

    // Graceful: the harness's PostgreSQL runs with synchronous_commit=off for speed.
    await pg.stop("graceful");
    const neither = await healthz();
    expect(neither.status).toBe(503);
    expect(neither.body).toEqual({ status: "unavailable", failed: ["database", "redis"] });

    await redis.start();
    await eventually({ status: "unavailable", failed: ["database"] });
    await pg.start();
    await eventually({ status: "ok" });
    expect((await healthz()).status).toBe(200);
  });

  it("on MongoDB: 503 naming the database while its server is down; 200 again after", async () => {
    const { healthz, eventually } = await startExample({ MONGODB_URL: `${mongo.url}healthz` });
    expect((await healthz()).body).toEqual({ status: "ok" });
    await mongo.stop("crash");
    const down = await healthz();
    expect(down.status).toBe(503);
    expect(down.body).toEqual({ status: "unavailable", failed: ["database"] });
    await mongo.start();
    await eventually({ status: "ok" });
  });
});
