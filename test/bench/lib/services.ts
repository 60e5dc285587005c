// The servers the benchmark needs, started by the test harness's own modules (same flags as
// the test suite: PostgreSQL with fsync off, Redis without persistence, FerretDB or mongod)
// in a run directory of their own, so a benchmark never touches a test run's servers.
// Everything is killed and removed when the benchmark exits, also on Ctrl-C.
import { spawnSync } from "node:child_process";
import { mongoInfo, startMongo } from "../../harness/mongo.ts";
import { postgresInfo, startPostgres } from "../../harness/postgres.ts";
import { redisInfo, startRedis } from "../../harness/redis.ts";
import { newRunDir } from "../../harness/services.ts";
import { sweepRunSync } from "../../harness/sweep.ts";

export interface BenchServices {
  runDir: string;
  postgresUrl: string;
  redisUrl: string;
  /** Null when no variant needs it. */
  mongoUrl: string | null;
  mongoKind: string;
  /** The server's own version (`v1.24.2` for FerretDB), null when unknown or not started. */
  mongoVersion: string | null;
}

/** Starts PostgreSQL, Redis and (when `mongo`) a MongoDB-protocol server in parallel. */
export async function startBenchServices(options: { mongo: boolean }): Promise<BenchServices> {
  const runDir = newRunDir();
  const cleanup = () => sweepRunSync(runDir);
  process.on("exit", cleanup);
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => {
      cleanup();
      process.exit(130);
    });
  }
  const [pg, redis, mongo] = await Promise.all([
    startPostgres(runDir),
    startRedis(runDir),
    options.mongo ? startMongo(runDir) : null,
  ]);
  const m = mongo ? mongoInfo(mongo) : null;
  return {
    runDir,
    postgresUrl: postgresInfo(pg).url,
    redisUrl: redisInfo(redis).url,
    mongoUrl: m?.url ?? null,
    mongoKind: m?.kind ?? "none",
    mongoVersion: mongo ? serverVersion(mongo.command) : null,
  };
}

/** `ferretdb --version` prints "Version: v1.24.2", `mongod --version` "db version v8.0.4". */
function serverVersion(binary: string): string | null {
  const r = spawnSync(binary, ["--version"], { encoding: "utf8" });
  return /^(?:Version:|db version)\s*(v?\d[\w.-]*)/m.exec(`${r.stdout ?? ""}`)?.[1] ?? null;
}

export function stopBenchServices(services: BenchServices): void {
  sweepRunSync(services.runDir);
}
