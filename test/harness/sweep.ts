// Killing a harness run's servers from its pid files, and removing its directory.
//
// Why this file imports only node builtins: watchdog.ts runs it under plain `node` (type
// stripping, no bundler) after vitest itself may be dead, and the harness uses the same code
// at start-up to clean a previous crashed run and in its exit handler.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";

/** One line of a run's pids/ directory: enough to kill the process safely later. */
export interface PidRecord {
  pid: number;
  /** Binary path; its name must be in /proc/<pid>/cmdline, so a reused pid is never killed. */
  exe: string;
  crashSignal: NodeJS.Signals;
}

const pidsDir = (runDir: string) => join(runDir, "pids");

export function writePidRecord(runDir: string, name: string, rec: PidRecord): void {
  mkdirSync(pidsDir(runDir), { recursive: true });
  writeFileSync(join(pidsDir(runDir), `${name}.json`), JSON.stringify(rec));
}

export function readPidRecords(runDir: string): PidRecord[] {
  if (!existsSync(pidsDir(runDir))) return [];
  const out: PidRecord[] = [];
  for (const f of readdirSync(pidsDir(runDir))) {
    try {
      out.push(JSON.parse(readFileSync(join(pidsDir(runDir), f), "utf8")) as PidRecord);
    } catch {
      // A half-written file from a crash: nothing to kill.
    }
  }
  return out;
}

/** Alive and not a zombie (an orphan whose parent, maybe PID 1 in a container, never reaps it). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return !existsSync("/proc/self"); // no procfs: trust kill(0)
  }
}

/** Whether pid is still the process we started (not a later process that reused the pid). */
export function isOurProcess(rec: PidRecord): boolean {
  if (!isRunning(rec.pid)) return false;
  try {
    // Substring, not equality: redis-server rewrites its argv to "redis-server 127.0.0.1:port".
    return readFileSync(`/proc/${rec.pid}/cmdline`, "utf8").includes(basename(rec.exe));
  } catch {
    return !existsSync("/proc/self");
  }
}

/**
 * Owner = the vitest main process that created the run; its pid is in the directory name
 * (run-<pid>-xxxx), so there is no window in which a run exists without a known owner.
 */
export function ownerAlive(runDir: string): boolean {
  const pid = Number(/^run-(\d+)-/.exec(basename(runDir))?.[1]);
  if (!pid || !isRunning(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("node");
  } catch {
    return !existsSync("/proc/self");
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Synchronous, for process 'exit' handlers where nothing async runs: crash-stop every server
 * of the run, wait up to `waitMs` for them to go, SIGKILL stragglers, remove the directory.
 */
export function sweepRunSync(runDir: string, waitMs = 3000): void {
  const live = readPidRecords(runDir).filter(isOurProcess);
  for (const rec of live) signal(rec.pid, rec.crashSignal);
  const deadline = Date.now() + waitMs;
  while (live.some((r) => isRunning(r.pid)) && Date.now() < deadline) sleepSync(25);
  for (const rec of live) if (isRunning(rec.pid)) signal(rec.pid, "SIGKILL");
  try {
    rmSync(runDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
  } catch {
    // Left for the next run's stale sweep.
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

/** Sweeps every run-* directory under root whose owner is gone; returns what it removed. */
export function sweepStaleRuns(root: string): string[] {
  if (!existsSync(root)) return [];
  const removed: string[] = [];
  for (const entry of readdirSync(root)) {
    const dir = join(root, entry);
    if (!entry.startsWith("run-") || ownerAlive(dir)) continue;
    sweepRunSync(dir);
    removed.push(dir);
  }
  return removed;
}
