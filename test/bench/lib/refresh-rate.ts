// Refresh rate: refreshes per second and their latency on PostgreSQL and on Redis, each one
// a real rotation. The server (servers/tessera-refresh.ts, `tessera-refresh-pg` or
// `tessera-refresh-redis`) runs in its own process; the client (refreshes.ts) in another
// logs in `chains` times, then runs each chain's refreshes one after the other, all chains
// in parallel. Stores alternate within each round, as the login benchmark's arms do.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { log } from "./log.ts";
import { BENCH_DIR } from "./paths.ts";
import type { RefreshResult } from "./report.ts";
import { type ServerEnvironment, startServer } from "./server-process.ts";
import { PASSWORD } from "./shared.ts";
import type { Variant } from "./variants.ts";

export interface RefreshSettings {
  rounds: number;
  /** Seconds of each measured run. */
  seconds: number;
  /** Seconds of refreshes before it (after the logins). */
  warmup: number;
  /** Sessions refreshed in parallel, each its own sequential chain. */
  chains: number;
}

/** The stores measured, as the variants named in the results. */
export const REFRESH_VARIANTS: Variant[] = [
  { store: "tessera-refresh-pg", label: "sessions in PostgreSQL (db-mikroorm)" },
  { store: "tessera-refresh-redis", label: "sessions in Redis, users in PostgreSQL" },
].map(
  ({ store, label }): Variant => ({
    name: store,
    label: `Tessera refresh-token rotation, ${label}`,
    group: "tessera",
    runtime: "node",
    server: store,
    pool: "",
  }),
);

/**
 * Runs the client against `server`; reads the server's CPU time when the measured window
 * opens and closes (the client's markers), and returns the client's figures with it.
 */
function runClient(
  url: string,
  emailsFile: string,
  settings: RefreshSettings,
  cpuSeconds: () => number,
): Promise<Omit<RefreshResult, "round" | "variant">> {
  const args = [
    join(BENCH_DIR, "lib", "refreshes.ts"),
    url,
    emailsFile,
    PASSWORD,
    String(settings.chains),
    String(settings.warmup),
    String(settings.seconds),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    let cpuStart = Number.NaN;
    let cpuEnd = Number.NaN;
    child.stdout.on("data", (d) => {
      out += d;
      if (Number.isNaN(cpuStart) && out.includes("REFRESH_MEASURE_START")) cpuStart = cpuSeconds();
      if (Number.isNaN(cpuEnd) && out.includes("REFRESH_MEASURE_END")) cpuEnd = cpuSeconds();
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      const line = /REFRESH_JSON (\{.*\})/.exec(out)?.[1];
      if (code !== 0 || !line) {
        reject(new Error(`refreshes.ts failed (${code}): ${out}`));
        return;
      }
      const r = JSON.parse(line) as Omit<RefreshResult, "round" | "variant" | "cpuUs">;
      resolve({ ...r, cpuUs: ((cpuEnd - cpuStart) * 1e6) / r.refreshes });
    });
  });
}

/** Every round of the refresh-rate measurement, PostgreSQL and Redis in each. */
export async function refreshRate(
  env: ServerEnvironment,
  emailsFile: string,
  settings: RefreshSettings,
): Promise<RefreshResult[]> {
  const results: RefreshResult[] = [];
  for (let round = 1; round <= settings.rounds; round++) {
    // Which store goes first alternates, so neither always meets the machine first.
    const order = round % 2 === 1 ? REFRESH_VARIANTS : [...REFRESH_VARIANTS].reverse();
    for (const variant of order) {
      const server = await startServer(variant, env);
      try {
        const url = `http://127.0.0.1:${server.port}/auth/refresh`;
        const r = await runClient(url, emailsFile, settings, () => server.cpuSeconds());
        results.push({ round, variant: variant.name, ...r });
        log(
          `refresh round ${round}/${settings.rounds} ${variant.name}: ${r.perSecond.toFixed(0)} refreshes/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, ${r.failures} failed${r.deadChains ? ` (${r.deadChains} chains ended: ${JSON.stringify(r.details)})` : ""}`,
        );
      } finally {
        await server.stop();
      }
    }
  }
  return results;
}
