// Starting and stopping one server process from its ProcessSpec. Used by the harness at
// start-up and by control.ts inside test workers, so a restart is exactly the first start.
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import pg from "pg";
import { portOpen, redisCommand, waitUntil } from "./net.js";
import { isOurProcess, isRunning, type PidRecord, writePidRecord } from "./sweep.js";
import type { ProcessSpec } from "./types.js";

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

/** spec.pidFile is <runDir>/pids/<name>.json, the layout sweep.ts reads. */
const runDirOf = (spec: ProcessSpec) => dirname(dirname(spec.pidFile));

export function logTail(spec: ProcessSpec, lines = 15): string {
  try {
    return readFileSync(spec.logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

async function serving(spec: ProcessSpec): Promise<boolean> {
  if (spec.ready === "redis")
    return (await redisCommand(spec.port, "PING", spec.host)) === "+PONG\r\n";
  if (spec.ready === "tcp") return portOpen(spec.port, spec.host);
  // Postgres opens its port before it accepts queries ("the database system is starting up").
  const client = new pg.Client({
    host: spec.host,
    port: spec.port,
    user: "postgres",
    database: "postgres",
  });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("select 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Spawns the server detached (its own session: Ctrl-C and the death of the spawning worker do
 * not reach it; the harness owns its lifetime through the pid file) and waits until it serves.
 */
export async function launch(spec: ProcessSpec): Promise<number> {
  if (pidOf(spec) !== undefined)
    throw new Error(`tessera harness: ${spec.name} is already running`);
  const log = openSync(spec.logFile, "a");
  const child = spawn(spec.command, spec.args, {
    cwd: spec.dataDir,
    env: { ...process.env, ...spec.env },
    detached: true,
    stdio: ["ignore", log, log],
    ...(spec.uid !== undefined ? { uid: spec.uid, gid: spec.gid } : {}),
  });
  closeSync(log);
  let exit: string | undefined;
  child.once("exit", (code, sig) => {
    exit = `exited early (code ${code}, signal ${sig})`;
  });
  const pid = await new Promise<number>((resolve, reject) => {
    child.once("spawn", () => resolve(child.pid as number));
    child.once("error", reject);
  });
  writePidRecord(runDirOf(spec), spec.name, {
    pid,
    exe: spec.command,
    crashSignal: spec.crashSignal,
  });
  child.unref();
  try {
    await waitUntil(
      async () => {
        if (exit) throw new Error(exit);
        return serving(spec);
      },
      START_TIMEOUT_MS,
      `waiting for ${spec.name} on ${spec.host}:${spec.port}`,
    );
  } catch (e) {
    throw new Error(
      `tessera harness: ${spec.name} did not start: ${(e as Error).message}\n` +
        `command: ${spec.command} ${spec.args.join(" ")}\nlog ${spec.logFile}:\n${logTail(spec)}`,
    );
  }
  return pid;
}

/** Pid of the spec's server if it is running (and still is the process we started). */
export function pidOf(spec: ProcessSpec): number | undefined {
  try {
    const rec = JSON.parse(readFileSync(spec.pidFile, "utf8")) as PidRecord;
    return isOurProcess(rec) ? rec.pid : undefined;
  } catch {
    return undefined;
  }
}

export type StopMode = "graceful" | "crash";

/**
 * Stops the server and waits until its process is gone and its port is closed. "crash" is the
 * abrupt kind (postgres immediate shutdown, SIGKILL for the others) for fault-injection tests.
 */
export async function halt(spec: ProcessSpec, mode: StopMode = "graceful"): Promise<void> {
  const pid = pidOf(spec);
  if (pid !== undefined) {
    process.kill(pid, mode === "crash" ? spec.crashSignal : spec.stopSignal);
    try {
      await waitUntil(
        () => !isRunning(pid),
        STOP_TIMEOUT_MS,
        `for ${spec.name} (pid ${pid}) to exit`,
      );
    } catch {
      process.kill(pid, "SIGKILL");
      await waitUntil(() => !isRunning(pid), 5000, `for ${spec.name} to die after SIGKILL`);
    }
  }
  if (existsSync(spec.pidFile)) rmSync(spec.pidFile, { force: true });
  await waitUntil(
    async () => !(await portOpen(spec.port, spec.host)),
    5000,
    `for port ${spec.port} to close`,
  );
}
