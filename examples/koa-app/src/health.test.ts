// GET /healthz, the example app's readiness route, on SQLite: 200 while the database
// answers; the checks' 503 answer. The 503 of a real PostgreSQL and Redis stopped and
// restarted is test/example/healthz.outage.test.ts.
import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, type ExampleApp } from "./app.js";
import { loadConfig } from "./config.js";
import { runHealthChecks } from "./health.js";

const quiet = { info() {}, warn() {}, error() {} };

let dir: string;
const started: { example: ExampleApp; server: Server }[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "koa-app-health-"));
});

afterAll(async () => {
  for (const { example, server } of started) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await example.close().catch(() => undefined);
  }
  rmSync(dir, { recursive: true, force: true });
});

async function startApp(name: string): Promise<{ base: string }> {
  // Rate limiting on, as in production.
  const example = await createApp(loadConfig({ DATA_DIR: join(dir, name) }), quiet);
  const server = example.app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  started.push({ example, server });
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe("GET /healthz", () => {
  it("answers 200 {status: ok}, no-store, without credentials nor rate limit; not in the OpenAPI document", async () => {
    const { base } = await startApp("up");
    for (let i = 0; i < 30; i++) {
      const res = await fetch(`${base}/healthz`);
      expect(res.status).toBe(200);
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      expect(await res.json()).toEqual({ status: "ok" });
    }
    const head = await fetch(`${base}/healthz`, { method: "HEAD" });
    expect(head.status).toBe(200);
    const openapi = (await (await fetch(`${base}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(openapi.paths)).not.toContain("/healthz");
  });
});

describe("runHealthChecks", () => {
  it("names the checks that reject or do not answer in time, in their order", async () => {
    const never = () => new Promise<never>(() => {});
    const warned: unknown[][] = [];
    const body = await runHealthChecks(
      [
        { name: "a", ping: async () => "PONG" },
        { name: "b", ping: never },
        { name: "c", ping: async () => Promise.reject(new Error("ECONNREFUSED")) },
      ],
      20,
      { warn: (...args: unknown[]) => warned.push(args) },
    );
    expect(body).toEqual({ status: "unavailable", failed: ["b", "c"] });
    // Logged as they fail: the rejection first, the timeout after.
    expect(warned).toEqual([
      ["healthz: c failed:", "ECONNREFUSED"],
      ["healthz: b failed:", "no answer in 20 ms"],
    ]);
    expect(await runHealthChecks([])).toEqual({ status: "ok" });
  });
});
