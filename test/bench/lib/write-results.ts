// Writes a run's results: `${out}/${name}.json` (every measurement), `.svg` (the chart) and
// `.md` (the tables), and, for the default output directory, the section between the
// `<!-- bench:NAME:begin/end -->` markers of docs/benchmarks.md.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ratioChart } from "./chart.ts";
import { log } from "./log.ts";
import { DOCS_OUT, DOCS_PAGE } from "./paths.ts";
import {
  type BenchResults,
  chartRows,
  compareTable,
  loginTable,
  markdownTable,
  memoryTable,
  refreshTable,
  variantLabel,
  verifyPathTable,
} from "./report.ts";

const line = (record: Record<string, string | number>, sep: string) =>
  Object.entries(record)
    .map(([k, v]) => `${k} ${v}`)
    .join(sep);

/** The markdown of a run: what ran where, the chart, and the three tables. */
export function resultsSection(results: BenchResults, name: string, baseline?: BenchResults) {
  return [
    `Run ${results.startedAt} with \`${results.command}\`.`,
    "",
    `Machine: ${line(results.machine, "; ")}.`,
    "",
    `Settings: ${line(results.settings, ", ")}.`,
    "",
    `Versions: ${line(results.versions, ", ")}.`,
    "",
    `![ratios](benchmarks/${name}.svg)`,
    "",
    markdownTable(results.summaries, baseline, (v) => variantLabel(v, results)),
    "",
    ...(results.compare ? compareSection(results) : []),
    ...verifyPathSection(results),
    "### Login under load",
    "",
    loginTable(results.login),
    "",
    ...(results.refresh ? ["### Refresh rate", "", refreshTable(results.refresh), ""] : []),
    "### Memory",
    "",
    memoryTable(results.memory),
  ].join("\n");
}

/** With both verify paths measured: the refresh-token access token beside the plain JWT. */
function verifyPathSection(results: BenchResults): string[] {
  const table = verifyPathTable(results.measurements);
  if (table === null) return [];
  return ["### Refresh-token access path against the JWT strategy's", "", table, ""];
}

/** With `--compare`: which commit, and each variant's ratio at it beside this checkout's. */
function compareSection(results: BenchResults): string[] {
  const c = results.compare as NonNullable<BenchResults["compare"]>;
  return [
    `### Before/after: this checkout and ${c.short}`,
    "",
    `The rows \`…@${c.short}\` are commit ${c.short} (\`${c.rev}\`), measured in the same rounds as this checkout's (each pair back to back, against the same seeded stores), its servers run from a worktree of that commit on its own packages. Its subject: ${c.subject}`,
    "",
    compareTable(results.summaries, results.measurements, (v) => variantLabel(v, results)),
    "",
  ];
}

export function writeResults(
  results: BenchResults,
  out: string,
  name: string,
  baseline?: BenchResults,
): void {
  mkdirSync(out, { recursive: true });
  const base = join(out, name);
  writeFileSync(`${base}.json`, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(
    `${base}.svg`,
    ratioChart(
      chartRows(results),
      `GET /me, req/s as a ratio to bare Koa (median of ${results.settings.rounds} rounds)`,
    ),
  );
  const section = resultsSection(results, name, baseline);
  if (out === DOCS_OUT && existsSync(DOCS_PAGE)) {
    const begin = `<!-- bench:${name}:begin -->`;
    const end = `<!-- bench:${name}:end -->`;
    const text = readFileSync(DOCS_PAGE, "utf8");
    const i = text.indexOf(begin);
    const j = text.indexOf(end);
    if (i >= 0 && j > i) {
      writeFileSync(DOCS_PAGE, `${text.slice(0, i + begin.length)}\n${section}\n${text.slice(j)}`);
      log(`updated docs/benchmarks.md (${name})`);
    }
  }
  // The page beside the chart links it by its own name; the section in docs/benchmarks.md
  // links it from docs/.
  writeFileSync(
    `${base}.md`,
    `${section.replace(`](benchmarks/${name}.svg)`, `](${name}.svg)`)}\n`,
  );
  log(`wrote ${base}.{json,svg,md}`);
}
