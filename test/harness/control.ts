// Stopping and restarting servers from inside a test, for fault-injection tests such as
// "stop PostgreSQL under load -> 503, restart -> recovers".
//
// Two flavours:
// - stopService/startService/restartService act on the shared server in place (same port,
//   same data directory), so every client configured from inject("services") sees the outage.
//   Test files run in parallel: other files using that server fail while it is down. Use them
//   only where that is acceptable (a file run on its own, or a suite run with --no-file-parallelism).
// - startPrivateService gives a test its own instance, started exactly like the shared one,
//   that it can stop and restart without disturbing anybody. Prefer it.
import { rmSync } from "node:fs";
import { dirname } from "node:path";
import { inject } from "vitest";
import { mongoInfo, startMongo } from "./mongo.js";
import { postgresInfo, startPostgres } from "./postgres.js";
import { halt, launch, pidOf, type StopMode } from "./proc.js";
import { redisInfo, startRedis } from "./redis.js";
import type { ControlledService, ProcessSpec, ServicesInfo } from "./types.js";

export type { StopMode } from "./proc.js";

const ENV_NAME: Record<ControlledService, string> = {
  postgres: "POSTGRES_URL",
  redis: "REDIS_URL",
  mongo: "MONGODB_URL",
};

export function services(): ServicesInfo {
  return inject("services");
}

/** False when the service came from an env var: the harness does not own it. */
export function canControl(name: ControlledService): boolean {
  return services().processes[name] !== undefined;
}

function specOf(name: ControlledService): ProcessSpec {
  const spec = services().processes[name];
  if (!spec) {
    throw new Error(
      `tessera harness: ${name} is an external server (${ENV_NAME[name]} is set); ` +
        "the harness cannot stop or restart it. Unset it or use startPrivateService().",
    );
  }
  return spec;
}

/**
 * Stops the shared server; resolves once the process is gone and its port refuses
 * connections. "graceful": clean shutdown; "crash": postgres immediate shutdown / SIGKILL.
 */
export async function stopService(
  name: ControlledService,
  mode: StopMode = "graceful",
): Promise<void> {
  await halt(specOf(name), mode);
}

/** Starts it again on the same port and data directory; resolves once it serves. */
export async function startService(name: ControlledService): Promise<void> {
  await launch(specOf(name));
}

export async function restartService(
  name: ControlledService,
  mode: StopMode = "graceful",
): Promise<void> {
  await stopService(name, mode);
  await startService(name);
}

export function isServiceRunning(name: ControlledService): boolean {
  return pidOf(specOf(name)) !== undefined;
}

/** A server owned by one test; its data is kept across stop/start until dispose(). */
export interface PrivateService {
  kind: ControlledService;
  url: string;
  port: number;
  dataDir: string;
  stop(mode?: StopMode): Promise<void>;
  start(): Promise<void>;
  restart(mode?: StopMode): Promise<void>;
  isRunning(): boolean;
  /** Stops it and deletes its data. (Global teardown kills any left behind.) */
  dispose(): Promise<void>;
}

let counter = 0;

/**
 * Starts a new postgres (with database tessera_test), redis or mongo-protocol server on its own
 * port under this run's directory. Takes ~1 s for postgres (initdb), less for the others.
 */
export async function startPrivateService(kind: ControlledService): Promise<PrivateService> {
  const { runDir } = services();
  const name = `${kind}-private-${process.pid}-${++counter}`;
  const spec =
    kind === "postgres"
      ? await startPostgres(runDir, name)
      : kind === "redis"
        ? await startRedis(runDir, name)
        : await startMongo(runDir, name);
  const url =
    kind === "postgres"
      ? postgresInfo(spec).url
      : kind === "redis"
        ? redisInfo(spec).url
        : mongoInfo(spec).url;
  const stop = (mode?: StopMode) => halt(spec, mode);
  const start = async () => {
    await launch(spec);
  };
  return {
    kind,
    url,
    port: spec.port,
    // Postgres keeps its cluster in <base>/data; the directory to remove is its parent.
    dataDir: spec.dataDir,
    stop,
    start,
    restart: async (mode) => {
      await stop(mode);
      await start();
    },
    isRunning: () => pidOf(spec) !== undefined,
    dispose: async () => {
      await stop("crash");
      rmSync(kind === "postgres" ? dirname(spec.dataDir) : spec.dataDir, {
        recursive: true,
        force: true,
      });
    },
  };
}
