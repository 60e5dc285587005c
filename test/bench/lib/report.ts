// Turns a run's measurements into the tables of docs/benchmarks.md and an SVG bar chart.
import type { LoopDelay } from "./server-process.ts";
import type { Variant } from "./variants.ts";
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
  memory: MemoryResult[];
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

export function markdownTable(summaries: VariantSummary[], baseline?: BenchResults): string {
  const before = new Map(baseline?.summaries.map((s) => [s.variant.name, s]) ?? []);
  const head = baseline
    ? "| variant | req/s | p50 ms | p99 ms | errors | server CPU µs/req | ratio to bare Koa (min–max) | before |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    : "| variant | req/s | p50 ms | p99 ms | errors | server CPU µs/req | ratio to bare Koa (min–max) |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |";
  const rows = summaries.map((s) => {
    const cells = [
      s.variant.label,
      Math.round(s.rps).toLocaleString("en-US"),
      f(s.p50Ms, 2),
      f(s.p99Ms, 2),
      String(s.errors),
      f(s.cpuUs, 0),
      `**${f(s.ratio)}** (${f(s.ratioMin)}–${f(s.ratioMax)})`,
    ];
    if (baseline)
      cells.push(
        before.has(s.variant.name) ? f(before.get(s.variant.name)?.ratio ?? Number.NaN) : "–",
      );
    return `| ${cells.join(" | ")} |`;
  });
  return [head, ...rows].join("\n");
}

export function loginTable(login: LoginResult[]): string {
  if (login.length === 0) return "(not run)";
  const rows = login.map(
    (l) =>
      `| ${l.round} | ${l.arm ?? "–"} | ${f(l.idle.p50Ms, 2)} / ${f(l.idle.p99Ms, 2)} | ${f(l.loaded.p50Ms, 2)} / ${f(l.loaded.p99Ms, 2)} | ${f(l.loaded.p99Ms / l.idle.p99Ms, 2)} | ${loop(l.loopDelay?.idle)} / ${loop(l.loopDelay?.loaded)} | ${f(l.logins.perSecond, 1)} | ${f(l.logins.p50Ms, 0)} / ${f(l.logins.p99Ms, 0)} | ${l.idle.errors + l.loaded.errors + l.logins.failures} |`,
  );
  return [
    "| round | hashing | `GET /users/me` p50 / p99 ms, no logins | p50 / p99 ms, 50 concurrent logins | p99 ratio | event-loop delay p99 ms, no logins / logins | logins/s | login p50 / p99 ms | errors |",
    "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
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

const COLORS: Record<Variant["group"], string> = {
  ceiling: "#7f7f7f",
  tessera: "#1f77b4",
  peer: "#ff7f0e",
  fastapi: "#2ca02c",
};

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** A horizontal bar chart of the median ratios, one bar per variant, colored by group. */
export function ratioChart(summaries: VariantSummary[], title: string): string {
  const labelW = 380;
  const barW = 420;
  const rowH = 24;
  const top = 48;
  const width = labelW + barW + 80;
  const height = top + summaries.length * rowH + 40;
  const x = (r: number) => labelW + Math.min(r, 1.1) * (barW / 1.1);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">`,
    `<title>${esc(title)}</title>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ];
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(
      `<line x1="${x(tick)}" y1="${top - 6}" x2="${x(tick)}" y2="${top + summaries.length * rowH}" stroke="#ddd"/>`,
      `<text x="${x(tick)}" y="${top + summaries.length * rowH + 16}" text-anchor="middle" fill="#555">${tick}</text>`,
    );
  }
  summaries.forEach((s, i) => {
    const y = top + i * rowH;
    parts.push(
      `<text x="${labelW - 8}" y="${y + 16}" text-anchor="end">${esc(s.variant.label)}</text>`,
      `<rect x="${labelW}" y="${y + 4}" width="${Math.max(1, x(s.ratio) - labelW)}" height="${rowH - 8}" fill="${COLORS[s.variant.group]}"/>`,
      `<text x="${x(s.ratio) + 6}" y="${y + 16}">${s.ratio.toFixed(3)}</text>`,
    );
  });
  const legendY = height - 10;
  let lx = 10;
  for (const [group, color] of Object.entries(COLORS)) {
    parts.push(
      `<rect x="${lx}" y="${legendY - 10}" width="12" height="12" fill="${color}"/>`,
      `<text x="${lx + 16}" y="${legendY}">${group}</text>`,
    );
    lx += 100;
  }
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
