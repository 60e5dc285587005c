// What a run ran on, for the record in its results: the machine, and the version of every
// library, server and tool involved.
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { BENCH_DIR } from "./paths.ts";
import type { BenchServices } from "./services.ts";
import { ensureWrk } from "./wrk.ts";

const NODE_PACKAGES = [
  "koa",
  "@koa/router",
  "jose",
  "ioredis",
  "pg",
  "mongodb",
  "@mikro-orm/core",
  "koa-jwt",
  "jsonwebtoken",
  "koa-passport",
  "passport-jwt",
  "koa-session",
  "koa-redis",
];

export function versions(
  python: string | null,
  services?: Pick<BenchServices, "mongoKind" | "mongoVersion">,
): Record<string, string> {
  // Read from node_modules directly: some packages (@koa/router) do not export package.json.
  const pkg = (name: string) => {
    try {
      const file = join(BENCH_DIR, "node_modules", name, "package.json");
      return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
    } catch {
      return "?";
    }
  };
  const out: Record<string, string> = { node: process.version };
  for (const n of NODE_PACKAGES) out[n] = pkg(n);
  // Output whatever the exit code (`wrk --version` exits 1).
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { encoding: "utf8" });
    return `${r.stdout ?? ""}${r.stderr ?? ""}`.trim() || "?";
  };
  out.wrk = run(ensureWrk(), ["--version"]).split("\n")[0]?.split(" [")[0] ?? "?";
  out.postgres = run(
    `${execFileSync("sh", ["-c", "ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1"], {
      encoding: "utf8",
    }).trim()}/postgres`,
    ["--version"],
  );
  out["redis-server"] = run("redis-server", ["--version"]).split(" ").slice(0, 3).join(" ");
  // Which MongoDB-protocol server the mongo variants measured (the report names it).
  if (services?.mongoVersion) out[services.mongoKind] = services.mongoVersion;
  if (python) {
    out.python = run(python, ["--version"]);
    for (const line of run(python, ["-m", "pip", "freeze"]).split("\n")) {
      const [n, v] = line.split("==");
      if (n && v && /^(fastapi|fastapi-users|uvicorn|SQLAlchemy|asyncpg|redis)$/i.test(n))
        out[`py:${n}`] = v;
    }
  }
  return out;
}

export function machine(): Record<string, string> {
  const cpu = cpus();
  let os = "?";
  try {
    os = /PRETTY_NAME="([^"]+)"/.exec(readFileSync("/etc/os-release", "utf8"))?.[1] ?? "?";
  } catch {}
  return {
    cpu: `${cpu.length} × ${cpu[0]?.model ?? "?"}`,
    memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
    os,
    kernel: execFileSync("uname", ["-r"], { encoding: "utf8" }).trim(),
  };
}
