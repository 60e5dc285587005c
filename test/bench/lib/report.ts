// Turns a run's measurements into the tables of docs/benchmarks.md and the rows of its chart
// (lib/chart.ts draws them): the saved results' types, the summaries, the tables.
import type { ChartRow } from "./chart.ts";
import type { LoopDelay } from "./server-process.ts";
import { VARIANTS, type Variant } from "./variants.ts";
import type { WrkResult } from "./wrk.ts";

export interface Measurement extends WrkResult {
  variant: string;
  /** Server CPU time (user + system) per successful request, µs. */
  cpuUs?: number;
  round: number;
  /** req/s divided by bare Koa's req/s in the same round. */
  ratio: number;
}

export interface VariantSummary {
  variant: Variant;
  rounds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Median server CPU per request, µs (NaN for runs saved before it was measured). */
  cpuUs: number;
  ratio: number;
  ratioMin: number;
  ratioMax: number;
  /** Errors and non-2xx answers over all rounds. */
  errors: number;
}

export interface LoginResult {
  round: number;
  /** "limited": PasswordHelper as shipped; "unlimited": hashing may use all of libuv's pool. */
  arm?: "limited" | "unlimited";
  idle: { p50Ms: number; p99Ms: number; maxMs: number; errors: number };
  loaded: { p50Ms: number; p99Ms: number; maxMs: number; errors: number };
  logins: { logins: number; failures: number; perSecond: number; p50Ms: number; p99Ms: number };
  /** The server's event-loop delay during each phase (absent in older runs). */
  loopDelay?: { idle: LoopDelay | null; loaded: LoopDelay | null };
}

/** One store's refresh-rate run in one round (lib/refresh-rate.ts). */
export interface RefreshResult {
  round: number;
  /** `tessera-refresh-pg` or `tessera-refresh-redis`. */
  variant: string;
  /** Sessions refreshed in parallel, each a sequential chain of rotations. */
  chains: number;
  /** Refreshes answered 200 with a new pair inside the measured window. */
  refreshes: number;
  perSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Server CPU time (user + system) per refresh, µs. */
  cpuUs: number;
  /** Answers that were no new pair (and answers that returned the token sent). */
  failures: number;
  /** Chains ended by a 401 (invalid or reused refresh token): none in a sound run. */
  deadChains: number;
  loginFailures: number;
  /** The failed answers by status and detail. */
  details: Record<string, number>;
}

export interface MemoryResult {
  variant: string;
  requests: number;
  rssBeforeMb: number;
  rssAfterMb: number;
  heapBeforeMb: number | null;
  heapAfterMb: number | null;
  /** RSS after each 30-second chunk of the soak, MB (absent in older runs). */
  rssSamplesMb?: number[];
  /** With each RSS sample, process.memoryUsage() after a full GC, MB (absent in older runs). */
  usageSamplesMb?: {
    heapTotal: number;
    heapUsed: number;
    external: number;
    arrayBuffers: number;
  }[];
}

export interface BenchResults {
  startedAt: string;
  command: string;
  machine: Record<string, string>;
  versions: Record<string, string>;
  settings: Record<string, string | number>;
  measurements: Measurement[];
  summaries: VariantSummary[];
  login: LoginResult[];
  /** Refreshes per second on PostgreSQL and Redis (absent in runs saved before it existed). */
  refresh?: RefreshResult[];
  memory: MemoryResult[];
  /** With `--compare`: the other commit, whose variants are the rows named `name@short`. */
  compare?: { rev: string; commit: string; short: string; subject: string };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0
    ? Number.NaN
    : s.length % 2
      ? (s[m] as number)
      : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export function summarize(variants: Variant[], measurements: Measurement[]): VariantSummary[] {
  return variants.flatMap((variant) => {
    const mine = measurements.filter((m) => m.variant === variant.name);
    if (mine.length === 0) return [];
    const ratios = mine.map((m) => m.ratio);
    return [
      {
        variant,
        rounds: mine.length,
        rps: median(mine.map((m) => m.rps)),
        p50Ms: median(mine.map((m) => m.p50Ms)),
        p99Ms: median(mine.map((m) => m.p99Ms)),
        cpuUs: median(mine.map((m) => m.cpuUs ?? Number.NaN)),
        ratio: median(ratios),
        ratioMin: Math.min(...ratios),
        ratioMax: Math.max(...ratios),
        errors: mine.reduce((n, m) => n + m.errors, 0),
      },
    ];
  });
}

const f = (n: number, d = 3) => (Number.isFinite(n) ? n.toFixed(d) : "–");

export function markdownTable(
  summaries: VariantSummary[],
  baseline?: BenchResults,
  label: (v: Variant) => string = (v) => v.label,
): string {
  const before = new Map(baseline?.summaries.map((s) => [s.variant.name, s]) ?? []);
  // Runs saved before the server's CPU was measured have no such column.
  const cpu = summaries.some((s) => Number.isFinite(s.cpuUs));
  const head = [
    "variant",
    "req/s",
    "p50 ms",
    "p99 ms",
    "errors",
    ...(cpu ? ["server CPU µs/req"] : []),
    "ratio to bare Koa (min–max)",
    ...(baseline ? ["before"] : []),
  ];
  const rows = summaries.map((s) => {
    const cells = [
      label(s.variant),
      Math.round(s.rps).toLocaleString("en-US"),
      f(s.p50Ms, 2),
      f(s.p99Ms, 2),
      String(s.errors),
      ...(cpu ? [f(s.cpuUs, 0)] : []),
      `**${f(s.ratio)}** (${f(s.ratioMin)}–${f(s.ratioMax)})`,
    ];
    if (baseline)
      cells.push(
        before.has(s.variant.name) ? f(before.get(s.variant.name)?.ratio ?? Number.NaN) : "–",
      );
    return `| ${cells.join(" | ")} |`;
  });
  const align = head.map((_, i) => (i === 0 ? "---" : "---:"));
  return [`| ${head.join(" | ")} |`, `| ${align.join(" | ")} |`, ...rows].join("\n");
}

/**
 * Each variant measured at another commit against this checkout's: both medians, and the
 * ratio of the two in each round (the same round's machine state), median and range.
 */
export function compareTable(
  summaries: VariantSummary[],
  measurements: Measurement[],
  label: (v: Variant) => string = (v) => v.label,
): string {
  const rows = summaries.flatMap((then) => {
    const now = summaries.find((s) => s.variant.name === then.variant.base);
    if (!then.variant.rev || !now) return [];
    const paired = measurements.flatMap((m) => {
      if (m.variant !== now.variant.name) return [];
      const old = measurements.find((o) => o.variant === then.variant.name && o.round === m.round);
      return old ? [m.ratio / old.ratio] : [];
    });
    return [
      `| ${label(now.variant)} | **${f(now.ratio)}** | **${f(then.ratio)}** | ${f(median(paired))} (${f(Math.min(...paired))}–${f(Math.max(...paired))}) |`,
    ];
  });
  if (rows.length === 0) return "(no variant compared)";
  const rev = summaries.find((s) => s.variant.rev)?.variant.rev;
  return [
    `| variant | ratio to bare Koa, this checkout | at ${rev} | this ÷ ${rev}, per round (min–max) |`,
    "| --- | ---: | ---: | ---: |",
    ...rows,
  ].join("\n");
}

export function loginTable(login: LoginResult[]): string {
  if (login.length === 0) return "(not run)";
  // Runs saved before the event-loop delay was measured have no such column.
  const loopColumn = login.some((l) => l.loopDelay);
  const rows = login.map(
    (l) =>
      `| ${l.round} | ${l.arm ?? "–"} | ${f(l.idle.p50Ms, 2)} / ${f(l.idle.p99Ms, 2)} | ${f(l.loaded.p50Ms, 2)} / ${f(l.loaded.p99Ms, 2)} | ${f(l.loaded.p99Ms / l.idle.p99Ms, 2)} |${loopColumn ? ` ${loop(l.loopDelay?.idle)} / ${loop(l.loopDelay?.loaded)} |` : ""} ${f(l.logins.perSecond, 1)} | ${f(l.logins.p50Ms, 0)} / ${f(l.logins.p99Ms, 0)} | ${l.idle.errors + l.loaded.errors + l.logins.failures} |`,
  );
  return [
    `| round | hashing | \`GET /users/me\` p50 / p99 ms, no logins | p50 / p99 ms, 50 concurrent logins | p99 ratio |${loopColumn ? " event-loop delay p99 ms, no logins / logins |" : ""} logins/s | login p50 / p99 ms | errors |`,
    `| ---: | --- | ---: | ---: | ---: |${loopColumn ? " ---: |" : ""} ---: | ---: | ---: |`,
    ...rows,
  ].join("\n");
}

/**
 * The refresh rate of each store: refreshes/s (median of the rounds, lowest–highest), the
 * median p50 and p99 latency, the server's CPU per refresh, and every failure.
 */
export function refreshTable(refresh: RefreshResult[] | undefined): string {
  if (!refresh || refresh.length === 0) return "(not run)";
  const names = [...new Set(refresh.map((r) => r.variant))];
  const rows = names.map((name) => {
    const mine = refresh.filter((r) => r.variant === name);
    const rates = mine.map((r) => r.perSecond);
    const failed = mine.reduce((n, r) => n + r.failures + r.loginFailures, 0);
    return `| ${name} | ${mine.length} | ${mine[0]?.chains} | **${Math.round(median(rates)).toLocaleString("en-US")}** (${Math.round(Math.min(...rates))}–${Math.round(Math.max(...rates))}) | ${f(median(mine.map((r) => r.p50Ms)), 2)} | **${f(median(mine.map((r) => r.p99Ms)), 2)}** | ${f(median(mine.map((r) => r.cpuUs)), 0)} | ${failed} |`;
  });
  return [
    "| store | rounds | chains | refreshes/s (min–max) | p50 ms | p99 ms | server CPU µs/refresh | errors |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
  ].join("\n");
}

/**
 * The refresh-token access path beside the JWT strategy's, per round (the same machine
 * state): `tessera-refresh-memory` ÷ `tessera-jwt-memory` in req/s and in server CPU per
 * request. Null when the run measured not both.
 */
export function verifyPathTable(measurements: Measurement[]): string | null {
  const pairs = measurements.flatMap((m) => {
    if (m.variant !== "tessera-refresh-memory") return [];
    const jwt = measurements.find((o) => o.variant === "tessera-jwt-memory" && o.round === m.round);
    return jwt
      ? [{ rps: m.rps / jwt.rps, cpu: (m.cpuUs ?? Number.NaN) / (jwt.cpuUs ?? Number.NaN) }]
      : [];
  });
  if (pairs.length === 0) return null;
  const cell = (values: number[]) =>
    `**${f(median(values))}** (${f(Math.min(...values))}–${f(Math.max(...values))})`;
  return [
    "| per round | req/s (min–max) | server CPU µs/req (min–max) |",
    "| --- | ---: | ---: |",
    `| tessera-refresh-memory ÷ tessera-jwt-memory | ${cell(pairs.map((p) => p.rps))} | ${cell(pairs.map((p) => p.cpu))} |`,
  ].join("\n");
}

const loop = (d: LoopDelay | null | undefined) => (d ? f(d.p99Ms, 2) : "–");

export function memoryTable(memory: MemoryResult[]): string {
  if (memory.length === 0) return "(not run)";
  const mb = (n: number | null) => (n === null ? "–" : n.toFixed(1));
  return [
    "| variant | requests | RSS before MB | RSS after MB | heap after GC before MB | heap after GC after MB | RSS every 30 s, MB |",
    "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ...memory.map(
      (m) =>
        `| ${m.variant} | ${m.requests.toLocaleString("en-US")} | ${mb(m.rssBeforeMb)} | ${mb(m.rssAfterMb)} | ${mb(m.heapBeforeMb)} | ${mb(m.heapAfterMb)} | ${m.rssSamplesMb?.join(" · ") ?? "–"} |`,
    ),
  ].join("\n");
}

/**
 * FerretDB's version in runs saved before it was recorded: ensure-binaries.sh has pinned
 * v1.24.2 since the harness was written (e5f8bdc), before any saved run.
 */
const FERRETDB_UNRECORDED = "v1.24.2";

type RunInfo = Pick<BenchResults, "settings" | "versions">;

/** The MongoDB-protocol server a run's mongo variants measured, as the harness reported it. */
export function mongoServer(run: RunInfo): string | null {
  const kind = run.settings["mongo server"];
  if (kind === "ferretdb")
    return `FerretDB ${run.versions.ferretdb ?? FERRETDB_UNRECORDED}, not mongod`;
  if (kind === "mongod") return `mongod ${run.versions.mongod ?? ""}`.trim();
  if (kind === "external") return "the server at MONGODB_URL";
  return null;
}

/** A variant's name in a run's tables and chart: which server, which commit. */
export function variantLabel(v: Variant, run: RunInfo): string {
  const server = v.pool === "mongo" ? mongoServer(run) : null;
  const label = server ? `${v.label} on ${server}` : v.label;
  return v.rev ? `${label} @ ${v.rev}` : label;
}

/**
 * The chart's rows. A variant's kind is today's (runs saved before the unsafe references had
 * a kind of their own filed them with the peers).
 */
export function chartRows(run: RunInfo & Pick<BenchResults, "summaries">): ChartRow[] {
  return run.summaries.map((s) => ({
    label: variantLabel(s.variant, run),
    kind:
      VARIANTS.find((v) => v.name === (s.variant.base ?? s.variant.name))?.group ?? s.variant.group,
    ratio: s.ratio,
    ratioMin: s.ratioMin,
    ratioMax: s.ratioMax,
    ...(s.variant.rev ? { rev: s.variant.rev } : {}),
  }));
}
