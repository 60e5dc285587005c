// examples/koa-app's GET /healthz with real servers stopped and restarted: the app on its
// own PostgreSQL and Redis (private servers of this test). 200 while both answer a ping;
// 503 naming what does not, within the route's one-second budget per check; 200 again once
// they are back, without restarting the app.
import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, type ExampleApp } from "../../examples/koa-app/src/app.js";
import { loadConfig } from "../../examples/koa-app/src/config.js";
import { type PrivateService, startPrivateService } from "../harness/control.js";
import { request } from "../support/client.js";
import { freePort } from "./support.js";

const quiet = { info() {}, warn() {}, error() {} };

let pg: PrivateService;
let redis: PrivateService;
let example: ExampleApp;
let server: Server;
let url: string;
let dir: string;

beforeAll(async () => {
  [pg, redis] = await Promise.all([startPrivateService("postgres"), startPrivateService("redis")]);
  dir = mkdtempSync(join(tmpdir(), "koa-app-healthz-"));
  const port = await freePort();
  const config = loadConfig({
    PORT: String(port),
    APP_URL: `http://localhost:${port}`,
    DATA_DIR: join(dir, "data"),
    DATABASE_URL: pg.url,
    REDIS_URL: redis.url,
  });
  example = await createApp(config, quiet);
  server = example.app.listen(port);
  await new Promise((resolve) => server.once("listening", resolve));
  url = config.appUrl;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await example?.close();
  await Promise.all([pg?.dispose(), redis?.dispose()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const healthz = () => request(`${url}/healthz`);

/** Polls /healthz until it answers `body` (a restarted server takes a moment to reconnect). */
async function eventually(body: unknown): Promise<void> {
  let last: unknown;
  for (let i = 0; i < 100; i++) {
    last = (await healthz()).body;
    if (JSON.stringify(last) === JSON.stringify(body)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`/healthz still ${JSON.stringify(last)}, expected ${JSON.stringify(body)}`);
}

describe("examples/koa-app GET /healthz while PostgreSQL and Redis go down and come back", () => {
  it("200 ok; 503 naming Redis, then the database and Redis, no-store; 200 again after restarts", async () => {
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
});
