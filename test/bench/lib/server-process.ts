// One benchmark server in its own process: started, checked (a valid token gets 200 and
// its user's id, a forged one 401), measured, stopped.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, portOpen } from "../../harness/net.ts";
import { BENCH_DIR } from "./paths.ts";
import type { Variant } from "./variants.ts";

export interface RunningServer {
  variant: Variant;
  port: number;
  url: string;
  pid: number;
  /** RSS of the server process, from /proc (bytes). */
  rss(): number;
  /** CPU time the server process has used so far (user + system, all threads), seconds. */
  cpuSeconds(): number;
  /** process.memoryUsage() after a full GC (Node servers only). */
  heap(): Promise<NodeJS.MemoryUsage | null>;
  /**
   * The server's event-loop delay since the last call (then reset), sampled every 1 ms;
   * null unless the server runs with BENCH_LOOP_DELAY=1.
   */
  loopDelay(): Promise<LoopDelay | null>;
  stop(): Promise<void>;
}

/** Event-loop delay percentiles, ms: how late the loop ran a 1 ms timer. */
export interface LoopDelay {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface ServerEnvironment {
  POSTGRES_URL: string;
  REDIS_URL: string;
  MONGODB_URL: string;
  SQLITE_FILE: string;
  FASTAPI_POSTGRES_URL: string;
  PYTHON: string;
}

// Clock ticks per second of /proc/<pid>/stat (USER_HZ): 100 on every Linux we run on.
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

function readCpu(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the ")" that ends the command name: state is 3rd, utime 14th, stime 15th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

function readRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb * 1024;
}

/**
 * Starts `variant`'s server from `benchDir`: this checkout's test/bench, or another
 * commit's (lib/compare.ts), whose servers then run on that commit's packages.
 */
export async function startServer(
  variant: Variant,
  environment: ServerEnvironment,
  benchDir: string = BENCH_DIR,
): Promise<RunningServer> {
  const port = await freePort();
  const env = { ...process.env, ...environment, PORT: String(port) };
  let child: ChildProcess;
  if (variant.runtime === "python") {
    child = spawn(
      environment.PYTHON,
      [
        "-m",
        "uvicorn",
        "app:app",
        "--host",
        "127.0.0.1",
        "--port",
        String(port),
        "--no-access-log",
        "--log-level",
        "warning",
        "--loop",
        "uvloop",
        "--http",
        "httptools",
      ],
      {
        cwd: join(benchDir, "python"),
        env: { ...env, ...variant.env },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
  } else {
    child = spawn(
      process.execPath,
      [
        "--expose-gc",
        // BENCH_NODE_ARGS: extra flags for the servers, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p".
        ...(process.env.BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? []),
        "--import",
        "./ts-resolve.ts",
        "servers/server.ts",
        variant.server,
      ],
      { cwd: benchDir, env: { ...env, ...variant.env }, stdio: ["ignore", "pipe", "pipe", "ipc"] },
    );
  }
  let log = "";
  child.stdout?.on("data", (d) => {
    log += d;
  });
  child.stderr?.on("data", (d) => {
    log += d;
  });
  let exited: string | undefined;
  child.once("exit", (code, sig) => {
    exited = `exited (code ${code}, signal ${sig})`;
  });
  const deadline = Date.now() + 60_000;
  while (!(variant.runtime === "node" ? log.includes("ready") : await portOpen(port))) {
    if (exited) throw new Error(`${variant.name} ${exited}:\n${log}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${variant.name} did not start in 60 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const pid = child.pid as number;
  // One request over the IPC channel (Node servers only): the answer's field `key`.
  const ask = <T>(message: string, key: string): Promise<T | null> =>
    new Promise((resolve) => {
      if (!child.send) return resolve(null);
      child.once("message", (m) => resolve((m as Record<string, T | null>)[key] ?? null));
      child.send(message);
    });
  const url = `http://127.0.0.1:${port}/me`;
  return {
    variant,
    port,
    url,
    pid,
    rss: () => readRss(pid),
    cpuSeconds: () => readCpu(pid),
    heap: () => ask<NodeJS.MemoryUsage>("memory", "memory"),
    loopDelay: () => ask<LoopDelay>("loop-delay", "loopDelay"),
    stop: async () => {
      if (exited) return;
      const gone = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await gone;
      clearTimeout(timer);
    },
  };
}

/**
 * A valid credential gets 200 and an id; a forged one gets 401 (but from bare Koa and the
 * references that check nothing).
 */
export async function checkServer(server: RunningServer, tokensFile: string): Promise<void> {
  const lines = readFileSync(tokensFile, "utf8").trim().split("\n");
  for (const line of [lines[0], lines[lines.length - 1]]) {
    const [name, value] = split(line as string);
    const res = await fetch(server.url, { headers: { [name]: value } });
    const body = (await res.json().catch(() => null)) as { id?: unknown } | null;
    if (res.status !== 200 || typeof body?.id !== "string" || body.id === "") {
      throw new Error(
        `${server.variant.name}: a valid credential got ${res.status} ${JSON.stringify(body)}`,
      );
    }
  }
  if (server.variant.name !== "koa" && !server.variant.unverified) {
    const [name, value] = split(lines[0] as string);
    const forged = value.slice(0, -4) + (value.endsWith("AAAA") ? "BBBB" : "AAAA");
    const res = await fetch(server.url, { headers: { [name]: forged } });
    await res.arrayBuffer();
    if (res.status !== 401) {
      throw new Error(`${server.variant.name}: a forged credential got ${res.status}, not 401`);
    }
  }
}

function split(line: string): [string, string] {
  const i = line.indexOf(":");
  return [line.slice(0, i), line.slice(i + 1).trim()];
}
