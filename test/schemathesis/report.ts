// Reads what one Schemathesis run wrote: its JSON report (totals, errors, warnings), its
// NDJSON events (every failed check, by name and operation) and its JUnit report (the curl
// command Schemathesis gives to reproduce each failing case).
import { existsSync, readFileSync } from "node:fs";

/** The files a run is told to write (`--report-*-path`). */
export interface ReportFiles {
  json: string;
  ndjson: string;
  junit: string;
}

/** One check failing on one operation: how often, and one case to reproduce it. */
export interface FailureGroup {
  check: string;
  code: string;
  title: string;
  operation: string;
  phases: string[];
  count: number;
  /** Schemathesis's explanation of the first failing case. */
  message: string;
  /** The first failing case's response: status and the start of its body. */
  response: string;
  /** Schemathesis's reproduction of that case (several commands for a stateful sequence). */
  curl: string[];
}

export interface RunResult {
  /** Test cases Schemathesis generated and sent. */
  generated: number;
  operations: { selected: number; tested: number };
  seconds: number;
  complete: boolean;
  phases: Record<string, string>;
  failures: FailureGroup[];
  /** Errors (a crash, an unreachable app, a failed login): never expected. */
  errors: string[];
  /** Non-empty warnings, by name: the operations each one is about. */
  warnings: Record<string, string[]>;
  auth: { reauthCount: number; reauthBroke: boolean };
}

interface JsonReport {
  complete: boolean;
  running_time: number;
  operations: { selected: number; tested: number };
  phases: Record<string, { status: string }>;
  test_cases: { generated: number };
  errors: unknown[];
  warnings: Record<string, unknown>;
  auth?: { reauth_count?: number; reauth_broke?: boolean };
}

interface CheckRecord {
  name: string;
  status: string;
  failure_info?: {
    failure: { code: string; title: string; operation: string; message: string };
  };
}

interface Interaction {
  response?: { status_code: number; content?: { $base64?: string } | null } | null;
}

interface ScenarioFinished {
  phase: string;
  recorder?: {
    label: string;
    checks?: Record<string, CheckRecord[]>;
    interactions?: Record<string, Interaction>;
  };
}

export function readRun(files: ReportFiles): RunResult {
  if (!existsSync(files.json)) throw new Error(`no report at ${files.json}`);
  const report = JSON.parse(readFileSync(files.json, "utf8")) as JsonReport;
  const warnings: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(report.warnings)) {
    if (Array.isArray(value) && value.length > 0) warnings[name] = value.map(String);
  }
  return {
    generated: report.test_cases.generated,
    operations: report.operations,
    seconds: report.running_time,
    complete: report.complete,
    phases: Object.fromEntries(Object.entries(report.phases).map(([k, v]) => [k, v.status])),
    failures: failureGroups(files),
    errors: report.errors.map((e) => (typeof e === "string" ? e : JSON.stringify(e))),
    warnings,
    auth: {
      reauthCount: report.auth?.reauth_count ?? 0,
      reauthBroke: report.auth?.reauth_broke ?? false,
    },
  };
}

function failureGroups(files: ReportFiles): FailureGroup[] {
  const curls = existsSync(files.junit) ? curlsByCase(readFileSync(files.junit, "utf8")) : {};
  const groups = new Map<string, FailureGroup>();
  if (!existsSync(files.ndjson)) return [];
  for (const line of readFileSync(files.ndjson, "utf8").split("\n")) {
    if (!line.startsWith('{"ScenarioFinished"')) continue;
    const scenario = (JSON.parse(line) as { ScenarioFinished: ScenarioFinished }).ScenarioFinished;
    for (const [caseId, checks] of Object.entries(scenario.recorder?.checks ?? {})) {
      for (const check of checks) {
        const failure = check.failure_info?.failure;
        if (check.status !== "failure" || !failure) continue;
        const key = `${check.name} ${failure.operation}`;
        const group = groups.get(key);
        if (group) {
          group.count++;
          if (!group.phases.includes(scenario.phase)) group.phases.push(scenario.phase);
          // Prefer a case Schemathesis kept in its JUnit report: that one has a curl command.
          if (group.curl.length > 0 || !curls[caseId]) continue;
        }
        const response = scenario.recorder?.interactions?.[caseId]?.response;
        const body = response?.content?.$base64
          ? Buffer.from(response.content.$base64, "base64").toString("utf8")
          : "";
        groups.set(key, {
          check: check.name,
          code: failure.code,
          title: failure.title,
          operation: failure.operation,
          phases: group?.phases ?? [scenario.phase],
          count: group?.count ?? 1,
          message: failure.message,
          response: response ? `${response.status_code} ${clip(body, 300)}` : "(no response)",
          curl: curls[caseId] ?? [],
        });
      }
    }
  }
  return [...groups.values()].sort(
    (a, b) => a.check.localeCompare(b.check) || a.operation.localeCompare(b.operation),
  );
}

/** The "Reproduce with:" commands of each case in the JUnit report, by test case id. */
function curlsByCase(xml: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const failure of xml.matchAll(/<failure\b[^>]*>([\s\S]*?)<\/failure>/g)) {
    const text = unescapeXml(failure[1] ?? "");
    const sections = text.split(/^\d+\. Test Case ID: (\S+)$/m);
    for (let i = 1; i + 1 < sections.length; i += 2) {
      const commands = (sections[i + 1] ?? "")
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l.startsWith("curl "));
      out[sections[i] as string] = commands;
    }
  }
  return out;
}

function unescapeXml(s: string): string {
  return s
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(Number.parseInt(h, 16)))
    .replace(/&amp;/g, "&");
}

export function clip(s: string, max: number): string {
  const flat = s.replace(/\s*\n\s*/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max)}… (${flat.length} chars)` : flat;
}

/** A long command cut in its middle (a fuzzed body), keeping the URL at its end. */
function clipMiddle(s: string, max: number): string {
  if (s.length <= max) return s;
  const end = Math.floor(max / 4);
  return `${s.slice(0, max - end)} …(${s.length - max} chars cut)… ${s.slice(-end)}`;
}

/** One line per check and operation, then the first case of each with its curl command. */
export function formatFailures(groups: FailureGroup[]): string {
  const lines = [`${groups.length} check × operation failing:`];
  for (const g of groups) {
    lines.push(
      "",
      `- ${g.check} (${g.code} ${g.title}) on ${g.operation}: ${g.count} case(s), ${g.phases.join("/")} phase`,
      `  ${clip(g.message, 400)}`,
      `  response: ${g.response}`,
      ...(g.curl.length > 0
        ? g.curl.map((c) => `  ${clipMiddle(c, 1200)}`)
        : ["  (no curl command in the JUnit report for this case)"]),
    );
  }
  return lines.join("\n");
}
