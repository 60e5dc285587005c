// The benchmark's command line (see run.ts for the list), read once into typed options.
// Everything that can be wrong on the command line fails here, before anything is measured.
import { readFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import { parseArgs } from "node:util";
import { DOCS_OUT } from "./paths.ts";
import type { BenchResults } from "./report.ts";
import { VARIANTS, type Variant } from "./variants.ts";

export interface BenchOptions {
  rounds: number;
  /** Seconds of each measured run. */
  duration: number;
  /** Seconds of the warm-up before each measured run (and of the login server's). */
  warmup: number;
  connections: number;
  threads: number;
  /** Users seeded, and tokens in each pool. */
  users: number;
  /** The variants measured in the rounds, in table order (bare Koa always first). */
  variants: Variant[];
  loginRounds: number;
  loginSeconds: number;
  /** Rounds of the refresh-rate measurement (0: not run). */
  refreshRounds: number;
  /** Seconds of each store's measured refreshes. */
  refreshSeconds: number;
  /** Sessions refreshed in parallel, each a chain of rotations. */
  refreshChains: number;
  memoryRequests: number;
  /** The variants of the memory soak (Tessera's among `variants`, or the chosen ones). */
  memoryVariants: Variant[];
  /** Caps each variant's soak (0: no cap). */
  memorySecondsMax: number;
  /** Results go to `${out}/${name}.{json,svg,md}`. */
  out: string;
  name: string;
  /** A saved run whose ratios fill the table's "before" column. */
  baseline: BenchResults | undefined;
  /** A saved run to render again instead of measuring. */
  render: string | undefined;
  /** A git revision whose variants are measured in the same rounds (lib/compare.ts). */
  compare: string | undefined;
  /** The variants measured at `compare` (default: the Tessera variants among `variants`). */
  compareVariants: Variant[];
  /** The command as typed, for the record. */
  command: string;
  /** `--help`: print the usage (run.ts's header) and measure nothing. */
  help: boolean;
}

/** The variants named in a comma-separated list (all of `pool` without one), in `pool`'s order. */
export function pickVariants(
  list: string | undefined,
  pool: Variant[],
  always: string[] = [],
): Variant[] {
  if (!list) return pool;
  const wanted = new Set([...always, ...list.split(",").map((s) => s.trim())]);
  const unknown = [...wanted].filter((w) => !pool.some((v) => v.name === w));
  if (unknown.length) throw new Error(`unknown variants: ${unknown.join(", ")}`);
  return pool.filter((v) => wanted.has(v.name));
}

export function parseOptions(argv: string[]): BenchOptions {
  const { values: o } = parseArgs({
    args: argv,
    options: {
      rounds: { type: "string", default: "3" },
      duration: { type: "string", default: "15" },
      warmup: { type: "string", default: "3" },
      connections: { type: "string", default: "64" },
      threads: { type: "string", default: "2" },
      users: { type: "string", default: "1000" },
      variants: { type: "string" },
      "no-python": { type: "boolean", default: false },
      "login-rounds": { type: "string", default: "3" },
      "login-seconds": { type: "string", default: "15" },
      "refresh-rounds": { type: "string", default: "3" },
      "refresh-seconds": { type: "string", default: "15" },
      "refresh-chains": { type: "string", default: "64" },
      "memory-requests": { type: "string", default: "1000000" },
      "memory-variants": { type: "string" },
      "memory-seconds-max": { type: "string", default: "0" },
      out: { type: "string" },
      name: { type: "string" },
      baseline: { type: "string" },
      render: { type: "string" },
      compare: { type: "string" },
      "compare-variants": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  // Paths on the command line are relative to where `pnpm run bench` was typed (pnpm runs
  // this script in test/bench and passes the original directory as INIT_CWD).
  const fromCwd = (path: string) => resolve(process.env.INIT_CWD ?? process.cwd(), path);
  let variants = pickVariants(o.variants, VARIANTS, ["koa"]);
  if (o["no-python"]) variants = variants.filter((v) => v.runtime !== "python");
  const tessera = variants.filter((v) => v.group === "tessera");
  const render = o.render ? fromCwd(o.render) : undefined;
  return {
    rounds: Number(o.rounds),
    duration: Number(o.duration),
    warmup: Number(o.warmup),
    connections: Number(o.connections),
    threads: Number(o.threads),
    users: Number(o.users),
    variants,
    loginRounds: Number(o["login-rounds"]),
    loginSeconds: Number(o["login-seconds"]),
    refreshRounds: Number(o["refresh-rounds"]),
    refreshSeconds: Number(o["refresh-seconds"]),
    refreshChains: Number(o["refresh-chains"]),
    memoryRequests: Number(o["memory-requests"]),
    memoryVariants: pickVariants(o["memory-variants"], tessera),
    memorySecondsMax: Number(o["memory-seconds-max"]),
    out: o.out ? fromCwd(o.out) : DOCS_OUT,
    // A re-rendered run keeps its own name (docs/benchmarks/before.json renders before.*).
    name: o.name ?? (render ? basename(render, ".json") : "latest"),
    // Read now, so a wrong path fails at once and not after the whole run.
    baseline: o.baseline
      ? (JSON.parse(readFileSync(fromCwd(o.baseline), "utf8")) as BenchResults)
      : undefined,
    render,
    compare: o.compare,
    compareVariants: o.compare
      ? pickVariants(o["compare-variants"], o["compare-variants"] ? variants : tessera)
      : [],
    help: o.help,
    command: `pnpm run bench${argv.length > 0 ? ` ${argv.join(" ")}` : ""}`,
  };
}
