// Runs wrk (installed with apt-get when missing, as the harness installs its servers) with
// lib/pool.lua and returns its figures. wrk runs in its own process, as the load generator.
import { execFileSync, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { which } from "../../harness/binaries.ts";

const SCRIPT = fileURLToPath(new URL("./pool.lua", import.meta.url));

export interface WrkResult {
  requests: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Socket errors, timeouts and non-2xx answers (shown in the tables). */
  errors: number;
}

export function ensureWrk(): string {
  const found = which("wrk");
  if (found) return found;
  if (process.getuid?.() !== 0) {
    throw new Error("wrk is not installed: apt-get install wrk (or run the benchmark as root)");
  }
  console.error("bench: installing wrk (apt-get install wrk)…");
  execFileSync("apt-get", ["install", "-y", "-qq", "wrk"], { stdio: "inherit" });
  const installed = which("wrk");
  if (!installed) throw new Error("apt-get install wrk did not put wrk on PATH");
  return installed;
}

export interface WrkOptions {
  url: string;
  tokensFile: string;
  seconds: number;
  threads: number;
  connections: number;
}

export function runWrk(options: WrkOptions): Promise<WrkResult> {
  const args = [
    `-t${options.threads}`,
    `-c${options.connections}`,
    `-d${options.seconds}s`,
    "--timeout",
    "10s",
    "-s",
    SCRIPT,
    options.url,
  ];
  const u = new URL(options.url);
  return new Promise((resolve, reject) => {
    const child = spawn(ensureWrk(), args, {
      env: { ...process.env, TOKENS_FILE: options.tokensFile, BENCH_PATH: u.pathname },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      out += d;
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      const line = /WRK_JSON (\{.*\})/.exec(out)?.[1];
      if (code !== 0 || !line) {
        reject(new Error(`wrk failed (exit ${code}):\n${out}`));
        return;
      }
      const j = JSON.parse(line) as Record<string, number>;
      const n = (k: string) => j[k] ?? 0;
      const seconds = n("duration_us") / 1e6;
      const failed = n("status_errors") + n("timeouts");
      resolve({
        requests: n("requests"),
        seconds,
        // Successful answers only: a fast 503 is no request served.
        rps: (n("requests") - failed) / seconds,
        p50Ms: n("p50_us") / 1000,
        p90Ms: n("p90_us") / 1000,
        p99Ms: n("p99_us") / 1000,
        maxMs: n("max_us") / 1000,
        errors:
          n("connect_errors") +
          n("read_errors") +
          n("write_errors") +
          n("status_errors") +
          n("timeouts"),
      });
    });
  });
}
