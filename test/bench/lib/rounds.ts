// The main measurement: `GET /me` of every variant, interleaved over the rounds. Each round
// runs every variant once, each in a fresh server process, warm-up then measured run, in an
// order rotated from round to round; each req/s is divided by bare Koa's in the same round.
import { log } from "./log.ts";
import type { Measurement } from "./report.ts";
import { checkServer, type ServerEnvironment, startServer } from "./server-process.ts";
import type { Variant } from "./variants.ts";
import { runWrk, type WrkResult } from "./wrk.ts";

export interface RoundSettings {
  rounds: number;
  warmup: number;
  duration: number;
  threads: number;
  connections: number;
}

export type RunResult = WrkResult & { cpuUs: number };

/** One warm-up and one measured run of `variant`, in a server of its own. */
export async function measure(
  variant: Variant,
  env: ServerEnvironment,
  pool: string,
  round: number,
  settings: RoundSettings,
  benchDir?: string,
): Promise<RunResult> {
  const server = await startServer(variant, env, benchDir);
  try {
    await checkServer(server, pool);
    const common = {
      url: server.url,
      tokensFile: pool,
      threads: settings.threads,
      connections: settings.connections,
    };
    await runWrk({ ...common, seconds: settings.warmup });
    const cpuBefore = server.cpuSeconds();
    const measured = await runWrk({ ...common, seconds: settings.duration });
    // Server CPU per answered request: steadier than req/s on a shared machine, since it
    // does not depend on how much CPU the other processes left the server.
    const served = measured.rps * measured.seconds;
    const result = { ...measured, cpuUs: ((server.cpuSeconds() - cpuBefore) * 1e6) / served };
    // Kept, not thrown: an overloaded server answering 503 fast is a result too. Only
    // successful answers count in req/s (wrk.ts), and the tables show the errors.
    if (result.errors > 0) {
      log(`${variant.name}: ${result.errors} errors or non-2xx answers in round ${round}`);
    }
    return result;
  } finally {
    await server.stop();
  }
}

/** Each variant followed by its runs at another commit (`twins`, lib/compare.ts). */
export function alongside(variants: Variant[], twins: Variant[]): Variant[][] {
  return variants.map((v) => [v, ...twins.filter((t) => t.base === v.name)]);
}

/**
 * The variants of one round, in order. A variant and its twins stay next to each other,
 * swapping places every other round, so a before/after pair meets the same machine state.
 */
export function roundOrder(
  variants: Variant[],
  twins: Variant[],
  round: number,
  rounds: number,
): Variant[] {
  const units = alongside(variants, twins);
  // Rotate the order so no variant always runs first or last in a round.
  const shift = ((round - 1) * Math.ceil(units.length / rounds)) % units.length;
  return [...units.slice(shift), ...units.slice(0, shift)].flatMap((u) =>
    round % 2 === 0 ? [...u].reverse() : u,
  );
}

/**
 * Every round of the main measurement. `pools` maps a variant's pool to its token file;
 * `twins` are variants of another commit, started from `benchDirOf(twin)`.
 */
export async function runRounds(
  variants: Variant[],
  env: ServerEnvironment,
  pools: Record<string, string>,
  settings: RoundSettings,
  twins: Variant[] = [],
  benchDirOf: (v: Variant) => string | undefined = () => undefined,
): Promise<Measurement[]> {
  const measurements: Measurement[] = [];
  const { rounds } = settings;
  for (let round = 1; round <= rounds; round++) {
    const results = new Map<string, RunResult>();
    for (const v of roundOrder(variants, twins, round, rounds)) {
      const r = await measure(v, env, pools[v.pool] as string, round, settings, benchDirOf(v));
      results.set(v.name, r);
      log(
        `round ${round}/${rounds} ${v.name}: ${Math.round(r.rps)} req/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms`,
      );
    }
    const koa = results.get("koa")?.rps ?? Number.NaN;
    for (const [name, r] of results)
      measurements.push({ ...r, variant: name, round, ratio: r.rps / koa });
  }
  return measurements;
}
