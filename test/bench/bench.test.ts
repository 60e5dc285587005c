// A smoke test of the benchmark script itself, not a benchmark: one 1-second round of bare
// Koa and one Tessera variant, to catch a broken orchestrator, seed or server, and one of the
// variants reading `ctx.state.session` (issue 14), whose servers are their own code, and the
// refresh-token access path with one short round of the refresh rate (issue 15). It asserts
// only that the runs complete and write their results; it never judges a timing.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, expect, it } from "vitest";

const run = promisify(execFile);
const bench = fileURLToPath(new URL(".", import.meta.url));
const out = mkdtempSync(join(tmpdir(), "tessera-bench-smoke-"));

afterAll(() => rmSync(out, { recursive: true, force: true }));

interface Results {
  summaries: { variant: { name: string }; rps: number; ratio: number; errors: number }[];
  refresh?: {
    variant: string;
    refreshes: number;
    failures: number;
    deadChains: number;
    loginFailures: number;
  }[];
}

/**
 * One 1-second round of `variants` (and bare Koa), and `refresh` rounds of the refresh rate;
 * the results it saved as `name`.
 */
async function smoke(variants: string[], name: string, refresh = 0): Promise<Results> {
  const flags =
    `--rounds 1 --duration 1 --warmup 1 --users 20 --variants ${variants.join(",")} ` +
    `--no-python --login-rounds 0 --memory-requests 0 --name ${name} ` +
    `--refresh-rounds ${refresh} --refresh-seconds 1 --refresh-chains 4`;
  const args = ["--import", "./ts-resolve.ts", "run.ts", ...flags.split(" "), "--out", out];
  await run(process.execPath, args, { cwd: bench, timeout: 90_000 });
  const results = JSON.parse(readFileSync(join(out, `${name}.json`), "utf8")) as Results;
  expect(results.summaries.map((s) => s.variant.name)).toEqual(["koa", ...variants]);
  for (const s of results.summaries) {
    expect(s.rps).toBeGreaterThan(0);
    expect(s.errors).toBe(0);
  }
  expect(results.summaries[0]?.ratio).toBe(1);
  return results;
}

it("pnpm run bench: one short round of bare Koa and Tessera JWT writes its results", async () => {
  await smoke(["tessera-jwt-memory"], "smoke");
  expect(readFileSync(join(out, "smoke.svg"), "utf8")).toContain("<svg");
}, 90_000);

it("the variants reading ctx.state.session (and getData) on PostgreSQL and Redis serve their users", async () => {
  // A server that answered without its session would fail the run's own check (200 and the
  // user's id for a valid token, 401 for a forged one), before any measurement.
  await smoke(
    ["tessera-db-pg-session", "tessera-db-pg-session-data", "tessera-redis-snapshot-session"],
    "smoke-session",
  );
}, 90_000);

it("the refresh-token access path and one round of refreshes on PostgreSQL and Redis run", async () => {
  // tessera-refresh-memory's session store is empty: a path that read it would answer 401,
  // which the run's start-up check refuses. Each refresh is a rotation: a chain whose token
  // were refused (invalid, reused) would end and show here.
  const results = await smoke(["tessera-jwt-memory", "tessera-refresh-memory"], "smoke-refresh", 1);
  expect(results.refresh?.map((r) => r.variant).sort()).toEqual([
    "tessera-refresh-pg",
    "tessera-refresh-redis",
  ]);
  for (const r of results.refresh ?? []) {
    expect(r.refreshes).toBeGreaterThan(0);
    expect([r.failures, r.deadChains, r.loginFailures]).toEqual([0, 0, 0]);
  }
  expect(readFileSync(join(out, "smoke-refresh.md"), "utf8")).toContain("### Refresh rate");
}, 90_000);
