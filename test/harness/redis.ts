// Redis for the tests: one standalone server, and a real 3-master Redis Cluster so the
// RedisStrategy's cross-slot behaviour (per-user index, log-out-everywhere) is tested for real.
// No persistence: the data dies with the run, and a restart starts empty (as after a crash
// of a cache without AOF/RDB).
import { execFile } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { missingBinaryError, which } from "./binaries.js";
import { freePort, redisCommand, waitUntil } from "./net.js";
import { launch } from "./proc.js";
import type { ProcessSpec, RedisClusterInfo, RedisInfo } from "./types.js";

const run = promisify(execFile);

function redisServer(): string {
  const bin = which("redis-server");
  if (!bin) throw missingBinaryError(["redis-server (apt-get install redis-server)"]);
  return bin;
}

export async function redisSpec(
  runDir: string,
  name: string,
  cluster: boolean,
): Promise<ProcessSpec> {
  const dataDir = join(runDir, name);
  mkdirSync(dataDir, { recursive: true });
  const port = await freePort(cluster);
  const args = [
    ["--port", String(port)],
    ["--bind", "127.0.0.1"],
    ["--save", ""],
    ["--appendonly", "no"],
    ["--dir", dataDir],
    ["--loglevel", "warning"],
  ];
  if (cluster) {
    args.push(
      ["--cluster-enabled", "yes"],
      ["--cluster-config-file", join(dataDir, "nodes.conf")],
      // Short timeout: a stopped node is noticed quickly by tests of cluster failures.
      ["--cluster-node-timeout", "2000"],
    );
  }
  return {
    name,
    command: redisServer(),
    args: args.flat(),
    env: {},
    host: "127.0.0.1",
    port,
    dataDir,
    logFile: join(dataDir, "server.log"),
    pidFile: join(runDir, "pids", `${name}.json`),
    ready: "redis",
    stopSignal: "SIGTERM",
    crashSignal: "SIGKILL",
  };
}

export async function startRedis(runDir: string, name = "redis"): Promise<ProcessSpec> {
  const spec = await redisSpec(runDir, name, false);
  await launch(spec);
  return spec;
}

export function redisInfo(spec: ProcessSpec): RedisInfo {
  return {
    url: `redis://${spec.host}:${spec.port}`,
    host: spec.host,
    port: spec.port,
    external: false,
  };
}

/** Three masters (no replicas), all 16384 slots assigned, cluster_state:ok on every node. */
export async function startRedisCluster(runDir: string): Promise<ProcessSpec[]> {
  const cli = which("redis-cli");
  if (!cli) throw missingBinaryError(["redis-cli (apt-get install redis-tools)"]);
  const specs = await Promise.all(
    [0, 1, 2].map((i) => redisSpec(runDir, `redis-cluster-${i}`, true)),
  );
  await Promise.all(specs.map(launch));
  try {
    await run(
      cli,
      [
        "--cluster",
        "create",
        ...specs.map((s) => `${s.host}:${s.port}`),
        "--cluster-replicas",
        "0",
        "--cluster-yes",
      ],
      { timeout: 30_000 },
    );
  } catch (e) {
    const err = e as Error & { stdout?: string; stderr?: string };
    throw new Error(
      `tessera harness: redis-cli --cluster create failed: ${err.stdout ?? ""}${err.stderr ?? err.message}`,
    );
  }
  // `--cluster create` returns once the config is agreed; each node flips its own
  // cluster_state to ok a moment later. Clients connecting before that get CLUSTERDOWN.
  await waitUntil(
    async () => {
      const infos = await Promise.all(
        specs.map((s) => redisCommand(s.port, "CLUSTER INFO", s.host)),
      );
      return infos.every((i) => i.includes("cluster_state:ok"));
    },
    30_000,
    "for the Redis Cluster to reach cluster_state:ok",
  );
  return specs;
}

export function redisClusterInfo(specs: ProcessSpec[]): RedisClusterInfo {
  return {
    urls: specs.map((s) => `redis://${s.host}:${s.port}`),
    nodes: specs.map((s) => ({ host: s.host, port: s.port })),
    external: false,
  };
}

function hostPort(url: string, defaultPort: number): { host: string; port: number } {
  const u = new URL(url.includes("://") ? url : `redis://${url}`);
  return { host: u.hostname, port: Number(u.port || defaultPort) };
}

export function externalRedis(url: string): RedisInfo {
  return { url, ...hostPort(url, 6379), external: true };
}

/** REDIS_CLUSTER_URLS: comma-separated node URLs (redis://host:port or host:port). */
export function externalRedisCluster(list: string): RedisClusterInfo {
  const urls = list
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return { urls, nodes: urls.map((u) => hostPort(u, 6379)), external: true };
}
