// Starting every service the suite needs, in parallel, or taking it from the environment.
import { chmodSync, mkdirSync, mkdtempSync } from "node:fs";
import { join } from "node:path";
import { missingBinaryError, mongoServer, postgresBinDir, repoRoot, which } from "./binaries.js";
import { externalMongo, mongoInfo, startMongo } from "./mongo.js";
import { externalPostgres, postgresInfo, startPostgres } from "./postgres.js";
import { halt } from "./proc.js";
import {
  externalRedis,
  externalRedisCluster,
  redisClusterInfo,
  redisInfo,
  startRedis,
  startRedisCluster,
} from "./redis.js";
import { sweepRunSync } from "./sweep.js";
import type { ProcessName, ProcessSpec, ServicesInfo } from "./types.js";

/** Gitignored; one run-* directory per test run, so two runs never share a server. */
export const SERVICES_ROOT = join(repoRoot, "test", ".services");

type Env = Record<string, string | undefined>;

/** run-<our pid>-xxxx: the pid names the owner, which sweep.ts checks for liveness. */
export function newRunDir(): string {
  mkdirSync(SERVICES_ROOT, { recursive: true });
  const dir = mkdtempSync(join(SERVICES_ROOT, `run-${process.pid}-`));
  // mkdtemp makes it 0700; the unprivileged PostgreSQL user must be able to traverse it.
  chmodSync(dir, 0o755);
  return dir;
}

/** Fails once, naming everything missing, before starting anything. */
function checkBinaries(env: Env): void {
  const missing: string[] = [];
  if (!env.POSTGRES_URL && !postgresBinDir()) {
    missing.push("PostgreSQL server binaries (apt-get install postgresql)");
  }
  if ((!env.REDIS_URL || !env.REDIS_CLUSTER_URLS) && !which("redis-server")) {
    missing.push("redis-server (apt-get install redis-server)");
  }
  if (!env.REDIS_CLUSTER_URLS && !which("redis-cli")) {
    missing.push("redis-cli (apt-get install redis-tools)");
  }
  if (!env.MONGODB_URL && !mongoServer()) {
    missing.push("mongod, or FerretDB in .tools/bin (built by test/harness/ensure-binaries.sh)");
  }
  if (missing.length > 0) throw missingBinaryError(missing);
}

/**
 * Starts what the environment does not provide. All servers start concurrently; if any fails,
 * the others are still awaited (so none is left half-started) and the first error is thrown —
 * the caller sweeps the run directory.
 */
export async function startServices(runDir: string, env: Env = process.env): Promise<ServicesInfo> {
  checkBinaries(env);
  const started = performance.now();
  const processes: Partial<Record<ProcessName, ProcessSpec>> = {};
  const timings: Record<string, number> = {};
  const keep = <T extends ProcessSpec | ProcessSpec[]>(what: string, p: Promise<T>) =>
    p.then((spec) => {
      for (const s of Array.isArray(spec) ? spec : [spec]) processes[s.name as ProcessName] = s;
      timings[what] = Math.round(performance.now() - started);
      return spec;
    });
  const results = await Promise.allSettled([
    env.POSTGRES_URL
      ? externalPostgres(env.POSTGRES_URL)
      : keep("postgres", startPostgres(runDir)).then(postgresInfo),
    env.REDIS_URL
      ? externalRedis(env.REDIS_URL)
      : keep("redis", startRedis(runDir)).then(redisInfo),
    env.REDIS_CLUSTER_URLS
      ? externalRedisCluster(env.REDIS_CLUSTER_URLS)
      : keep("redisCluster", startRedisCluster(runDir)).then(redisClusterInfo),
    env.MONGODB_URL
      ? externalMongo(env.MONGODB_URL)
      : keep("mongo", startMongo(runDir)).then(mongoInfo),
  ] as const);
  const failed = results.find((r) => r.status === "rejected");
  if (failed) throw failed.reason;
  const [postgres, redis, redisCluster, mongo] = results.map(
    (r) => (r as PromiseFulfilledResult<unknown>).value,
  ) as [
    ServicesInfo["postgres"],
    ServicesInfo["redis"],
    ServicesInfo["redisCluster"],
    ServicesInfo["mongo"],
  ];
  return {
    runDir,
    postgres,
    redis,
    redisCluster,
    mongo,
    processes,
    startupMs: Math.round(performance.now() - started),
    timings,
  };
}

/**
 * Clean shutdown of everything started, then a sweep of the run directory: that also kills
 * private instances test workers started (control.ts) and removes all data.
 */
export async function stopServices(info: ServicesInfo): Promise<void> {
  const specs = Object.values(info.processes);
  await Promise.allSettled(specs.map((spec) => halt(spec)));
  sweepRunSync(info.runDir);
}

/** The env vars other code (packages' own tests, examples) reads to find the servers. */
export function servicesEnv(info: ServicesInfo): Record<string, string> {
  return {
    POSTGRES_URL: info.postgres.url,
    REDIS_URL: info.redis.url,
    REDIS_CLUSTER_URLS: info.redisCluster.urls.join(","),
    MONGODB_URL: info.mongo.url,
    TESSERA_SERVICES_RUN_DIR: info.runDir,
  };
}
