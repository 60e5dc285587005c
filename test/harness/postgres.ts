// A throwaway PostgreSQL: initdb into a temp dir, run as an unprivileged user, trust auth on
// 127.0.0.1 only, durability off (fsync etc.) because the data dies with the run anyway.
import { execFile, execFileSync } from "node:child_process";
import { chownSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { missingBinaryError, postgresBinDir } from "./binaries.js";
import { freePort } from "./net.js";
import { launch } from "./proc.js";
import type { PostgresInfo, ProcessSpec } from "./types.js";

const run = promisify(execFile);
export const TEST_DATABASE = "tessera_test";

/**
 * PostgreSQL refuses to run as root. When we are root, run it as the `tessera` system user
 * (ensure-binaries.sh creates it) or else `nobody`; otherwise as ourselves.
 */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ["tessera", "nobody"]) {
    try {
      const uid = Number(execFileSync("id", ["-u", name], { encoding: "utf8", stdio: "pipe" }));
      const gid = Number(execFileSync("id", ["-g", name], { encoding: "utf8", stdio: "pipe" }));
      return { uid, gid };
    } catch {
      // Try the next user.
    }
  }
  throw new Error("tessera harness: running as root but found no unprivileged user for PostgreSQL");
}

/** Creates the cluster (initdb) and returns how to run it; does not start it. */
export async function preparePostgres(runDir: string, name = "postgres"): Promise<ProcessSpec> {
  const bin = postgresBinDir();
  if (!bin) throw missingBinaryError(["PostgreSQL server binaries (apt-get install postgresql)"]);
  const base = join(runDir, name);
  const dataDir = join(base, "data");
  mkdirSync(base, { recursive: true, mode: 0o755 });
  const user = serverUser();
  if (user) chownSync(base, user.uid, user.gid);
  const port = await freePort();
  try {
    // --no-sync: nobody needs this cluster to survive a power cut; saves ~1 s.
    await run(
      join(bin, "initdb"),
      ["-D", dataDir, "-U", "postgres", "--auth=trust", "--no-locale", "-E", "UTF8", "--no-sync"],
      { ...(user ?? {}), cwd: base, env: { ...process.env, LC_ALL: "C" } },
    );
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new Error(`tessera harness: initdb failed: ${err.stderr || err.message}`);
  }
  return {
    name,
    command: join(bin, "postgres"),
    // Flags live here rather than in postgresql.conf so the spec alone describes the server.
    args: [
      ["-D", dataDir],
      ["-p", String(port)],
      ["-c", "listen_addresses=127.0.0.1"],
      // No unix socket: the default dir (/var/run/postgresql) may not exist or be writable.
      ["-c", "unix_socket_directories="],
      ["-c", "fsync=off"],
      ["-c", "synchronous_commit=off"],
      ["-c", "full_page_writes=off"],
      ["-c", "max_connections=200"],
      ["-c", "log_min_messages=warning"],
    ].flat(),
    env: { LC_ALL: "C" },
    ...(user ?? {}),
    host: "127.0.0.1",
    port,
    dataDir,
    logFile: join(base, "server.log"),
    pidFile: join(runDir, "pids", `${name}.json`),
    ready: "postgres",
    stopSignal: "SIGINT",
    crashSignal: "SIGQUIT",
  };
}

export function postgresUrl(spec: ProcessSpec, database = TEST_DATABASE): string {
  return `postgres://postgres@${spec.host}:${spec.port}/${database}`;
}

/** initdb + start + create the test database. */
export async function startPostgres(runDir: string, name = "postgres"): Promise<ProcessSpec> {
  const spec = await preparePostgres(runDir, name);
  await launch(spec);
  const client = new pg.Client({ connectionString: postgresUrl(spec, "postgres") });
  await client.connect();
  try {
    await client.query(`create database ${TEST_DATABASE}`);
  } finally {
    await client.end();
  }
  return spec;
}

export function postgresInfo(spec: ProcessSpec): PostgresInfo {
  return {
    url: postgresUrl(spec),
    host: spec.host,
    port: spec.port,
    database: TEST_DATABASE,
    user: "postgres",
    external: false,
  };
}

/** Connection info from POSTGRES_URL, for a server the harness does not manage. */
export function externalPostgres(url: string): PostgresInfo {
  const u = new URL(url);
  return {
    url,
    host: u.hostname,
    port: Number(u.port || 5432),
    database: decodeURIComponent(u.pathname.slice(1)) || "postgres",
    user: decodeURIComponent(u.username) || "postgres",
    external: true,
  };
}
