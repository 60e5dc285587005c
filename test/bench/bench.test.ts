// A smoke test of the benchmark script itself, not a benchmark: one 1-second round of bare
// Koa and one Tessera variant, to catch a broken orchestrator, seed or server. It asserts
// only that the run completes and writes its results; it never judges a timing.
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

it("pnpm run bench: one short round of bare Koa and Tessera JWT writes its results", async () => {
  const flags =
    "--rounds 1 --duration 1 --warmup 1 --users 20 --variants tessera-jwt-memory " +
    "--login-rounds 0 --memory-requests 0 --name smoke";
  const args = ["--import", "./ts-resolve.ts", "run.ts", ...flags.split(" "), "--out", out];

  await run(process.execPath, args, { cwd: bench, timeout: 60_000 });
  const results = JSON.parse(readFileSync(join(out, "smoke.json"), "utf8")) as {
    summaries: { variant: { name: string }; rps: number; ratio: number; errors: number }[];
  };
  expect(results.summaries.map((s) => s.variant.name)).toEqual(["koa", "tessera-jwt-memory"]);
  for (const s of results.summaries) {
    expect(s.rps).toBeGreaterThan(0);
    expect(s.errors).toBe(0);
  }
  expect(results.summaries[0]?.ratio).toBe(1);
  expect(readFileSync(join(out, "smoke.svg"), "utf8")).toContain("<svg");
}, 60_000);
