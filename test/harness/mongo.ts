// A MongoDB-protocol server: the real mongod when installed; otherwise FerretDB v1 on its
// SQLite backend (mongod has no Debian package; FerretDB builds from the Go module proxy).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { missingBinaryError, mongoServer } from "./binaries.js";
import { freePort } from "./net.js";
import { launch } from "./proc.js";
import type { MongoInfo, ProcessSpec } from "./types.js";

export async function mongoSpec(runDir: string, name = "mongo"): Promise<ProcessSpec> {
  const server = mongoServer();
  if (!server) {
    throw missingBinaryError([
      "a MongoDB-protocol server (mongod on PATH, or FerretDB built by test/harness/ensure-binaries.sh)",
    ]);
  }
  const dataDir = join(runDir, name);
  const dbDir = join(dataDir, "db");
  mkdirSync(dbDir, { recursive: true });
  const port = await freePort();
  const args =
    server.kind === "mongod"
      ? ["--port", String(port), "--bind_ip", "127.0.0.1", "--dbpath", dbDir, "--quiet"]
      : [
          "--handler=sqlite",
          // A directory URI: FerretDB keeps one SQLite file per database in it.
          `--sqlite-url=file:${dbDir}/`,
          `--listen-addr=127.0.0.1:${port}`,
          // Its default debug/metrics listener is a fixed port (8088): two runs would clash.
          "--debug-addr=-",
          "--telemetry=disable",
          `--state-dir=${dataDir}`,
          "--log-level=warn",
          // No --setup-* flags and no --test-enable-new-auth: connections are unauthenticated.
        ];
  return {
    name,
    command: server.path,
    args,
    // FerretDB also honours DO_NOT_TRACK; belt and braces against any telemetry call.
    env: { DO_NOT_TRACK: "1" },
    host: "127.0.0.1",
    port,
    dataDir,
    logFile: join(dataDir, "server.log"),
    pidFile: join(runDir, "pids", `${name}.json`),
    // Both servers open their port only once ready to serve.
    ready: "tcp",
    stopSignal: "SIGTERM",
    crashSignal: "SIGKILL",
  };
}

export async function startMongo(runDir: string, name = "mongo"): Promise<ProcessSpec> {
  const spec = await mongoSpec(runDir, name);
  await launch(spec);
  return spec;
}

export function mongoInfo(spec: ProcessSpec): MongoInfo {
  return {
    url: `mongodb://${spec.host}:${spec.port}/`,
    host: spec.host,
    port: spec.port,
    kind: spec.command.endsWith("mongod") ? "mongod" : "ferretdb",
  };
}

/** MONGODB_URL; host/port are the first of a seed list (URL() cannot parse "a:1,b:2"). */
export function externalMongo(url: string): MongoInfo {
  const first = /^mongodb(?:\+srv)?:\/\/(?:[^@/]*@)?([^/,?]+)/.exec(url)?.[1] ?? "127.0.0.1";
  const u = new URL(`http://${first}`);
  return { url, host: u.hostname, port: Number(u.port || 27017), kind: "external" };
}
