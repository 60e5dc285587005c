// The benchmark: `pnpm run bench` at the repo root (builds the packages, then runs this).
//
//   node --import ./ts-resolve.ts run.ts [--rounds 3] [--duration 15] [--warmup 3]
//     [--connections 64] [--threads 2] [--users 1000] [--variants a,b] [--no-python]
//     [--login-rounds 3] [--memory-requests 1000000] [--memory-seconds-max 0] [--out DIR] [--name latest]
//     [--baseline FILE.json] [--render SAVED.json]
//
// Starts PostgreSQL, Redis and a MongoDB-protocol server (the test harness's modules), seeds
// the same users everywhere, then measures every variant in its own server process with wrk
// in another, variants interleaved over the rounds (order rotated each round), each with a
// warm-up; ratios are to bare Koa in the same round. Then the login-under-load benchmark and
// the memory soak. Writes DIR/NAME.json, DIR/NAME.svg and, for the default output, the
// results section of docs/benchmarks.md.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  type BenchResults,
  type LoginResult,
  loginTable,
  type Measurement,
  type MemoryResult,
  markdownTable,
  memoryTable,
  ratioChart,
  summarize,
} from "./lib/report.ts";
import { seed } from "./lib/seed.ts";
import { checkServer, type ServerEnvironment, startServer } from "./lib/server-process.ts";
import { startBenchServices, stopBenchServices } from "./lib/services.ts";
import { JWT_SECRET, PASSWORD, SESSION_LIFETIME_SECONDS } from "./lib/shared.ts";
import { VARIANTS, type Variant } from "./lib/variants.ts";
import { ensureWrk, runWrk } from "./lib/wrk.ts";

const BENCH = fileURLToPath(new URL(".", import.meta.url));
const ROOT = join(BENCH, "..", "..");

const { values: opts } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    duration: { type: "string", default: "15" },
    warmup: { type: "string", default: "3" },
    connections: { type: "string", default: "64" },
    threads: { type: "string", default: "2" },
    users: { type: "string", default: "1000" },
    variants: { type: "string" },
    "no-python": { type: "boolean", default: false },
    "login-rounds": { type: "string", default: "3" },
    "login-seconds": { type: "string", default: "15" },
    "memory-requests": { type: "string", default: "1000000" },
    "memory-variants": { type: "string" },
    "memory-seconds-max": { type: "string", default: "0" },
    out: { type: "string", default: join(ROOT, "docs", "benchmarks") },
    name: { type: "string", default: "latest" },
    baseline: { type: "string" },
    render: { type: "string" },
  },
});
const num = (k: keyof typeof opts) => Number(opts[k]);
// Paths on the command line are relative to where `pnpm run bench` was typed (pnpm runs
// this script in test/bench and passes the original directory as INIT_CWD).
const fromCwd = (path: string) => resolve(process.env.INIT_CWD ?? process.cwd(), path);
if (opts.out) opts.out = fromCwd(opts.out);
// Read now, so a wrong path fails at once and not after the whole run.
const baseline = opts.baseline
  ? (JSON.parse(readFileSync(fromCwd(opts.baseline), "utf8")) as BenchResults)
  : undefined;
const log = (...a: unknown[]) => console.error("bench:", ...a);

function pickVariants(list: string | undefined, pool: Variant[], always: string[] = []): Variant[] {
  if (!list) return pool;
  const wanted = new Set([...always, ...list.split(",").map((s) => s.trim())]);
  const unknown = [...wanted].filter((w) => !pool.some((v) => v.name === w));
  if (unknown.length) throw new Error(`unknown variants: ${unknown.join(", ")}`);
  return pool.filter((v) => wanted.has(v.name));
}

let variants = pickVariants(opts.variants, VARIANTS, ["koa"]);
if (opts["no-python"]) variants = variants.filter((v) => v.runtime !== "python");

/** FastAPI Users in test/bench/.venv (gitignored), from PyPI, pinned by requirements.txt. */
function ensurePython(): string {
  const venv = join(BENCH, ".venv");
  const python = join(venv, "bin", "python");
  const requirements = join(BENCH, "python", "requirements.txt");
  const stamp = join(venv, ".installed");
  if (!existsSync(python)) {
    log("creating the Python venv for FastAPI Users (test/bench/.venv)…");
    execFileSync("python3", ["-m", "venv", venv], { stdio: "inherit" });
  }
  if (!existsSync(stamp) || statSync(requirements).mtimeMs > statSync(stamp).mtimeMs) {
    log("pip install -r python/requirements.txt…");
    execFileSync(python, ["-m", "pip", "install", "-q", "-r", requirements], { stdio: "inherit" });
    writeFileSync(stamp, "");
  }
  return python;
}

function versions(python: string | null): Record<string, string> {
  // Read from node_modules directly: some packages (@koa/router) do not export package.json.
  const pkg = (name: string) => {
    try {
      const file = join(BENCH, "node_modules", name, "package.json");
      return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
    } catch {
      return "?";
    }
  };
  const out: Record<string, string> = { node: process.version };
  for (const n of [
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
  ]) {
    out[n] = pkg(n);
  }
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

function machine(): Record<string, string> {
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

async function seedSessions(env: ServerEnvironment, ids: string[], dir: string): Promise<string> {
  const server = await startServer(
    VARIANTS.find((v) => v.name === "koa-session-redis") as Variant,
    env,
  );
  try {
    const lines: string[] = [];
    for (const id of ids) {
      const res = await fetch(`http://127.0.0.1:${server.port}/login?id=${id}`, { method: "POST" });
      const cookies = res.headers.getSetCookie().map((c) => c.split(";")[0]);
      if (res.status !== 204 || cookies.length < 2)
        throw new Error(`koa-session login: ${res.status}`);
      lines.push(`Cookie: ${cookies.join("; ")}`);
    }
    const file = join(dir, "session.txt");
    writeFileSync(file, `${lines.join("\n")}\n`);
    return file;
  } finally {
    await server.stop();
  }
}

async function measure(variant: Variant, env: ServerEnvironment, pool: string, round: number) {
  const server = await startServer(variant, env);
  try {
    await checkServer(server, pool);
    const common = {
      url: server.url,
      tokensFile: pool,
      threads: num("threads"),
      connections: num("connections"),
    };
    await runWrk({ ...common, seconds: num("warmup") });
    const cpuBefore = server.cpuSeconds();
    const measured = await runWrk({ ...common, seconds: num("duration") });
    // Server CPU per answered request: steadier than req/s on a shared machine, since it
    // does not depend on how much CPU the other processes left the server.
    const served = measured.rps * measured.seconds;
    const result = { ...measured, cpuUs: ((server.cpuSeconds() - cpuBefore) * 1e6) / served };
    // Kept, not thrown: an overloaded server answering 503 fast is a result too. Only
    // successful answers count in req/s (wrk.ts), and the tables show the errors.
    if (result.errors > 0) {
      log(`${variant.name}: ${result.errors} errors or non-2xx answers in round ${round}`);
    }
    return result;
  } finally {
    await server.stop();
  }
}

function runNode(script: string, args: string[], marker: string): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    import("node:child_process").then(({ spawn }) => {
      const child = spawn(process.execPath, [join(BENCH, "lib", script), ...args], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      let out = "";
      child.stdout.on("data", (d) => {
        out += d;
      });
      child.once("exit", (code) => {
        const line = new RegExp(`${marker} (\\{.*\\})`).exec(out)?.[1];
        if (code !== 0 || !line) reject(new Error(`${script} failed (${code}): ${out}`));
        else resolve(JSON.parse(line));
      });
    });
  });
}

/**
 * p50/p99 of `GET /users/me` at a fixed 200 req/s (open loop), alone and while 50 password
 * logins are kept in flight, on the server as shipped and on one whose hashing may use all
 * of libuv's pool (concurrency 4: the behaviour before PasswordHelper's limit), alternated.
 */
async function loginUnderLoad(
  env: ServerEnvironment,
  pool: string,
  emailsFile: string,
  rounds: number,
): Promise<LoginResult[]> {
  const seconds = num("login-seconds");
  const rate = 200;
  const results: LoginResult[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const arm of ["limited", "unlimited"] as const) {
      const variant: Variant = {
        name: "tessera-login",
        label: "login",
        group: "tessera",
        runtime: "node",
        server: "tessera-login",
        pool: "db",
        env: {
          BENCH_LOOP_DELAY: "1",
          ...(arm === "unlimited" ? { BENCH_HASH_CONCURRENCY: "4" } : {}),
        },
      };
      const server = await startServer(variant, env);
      const me = `http://127.0.0.1:${server.port}/users/me`;
      const login = `http://127.0.0.1:${server.port}/auth/db/login`;
      try {
        await runWrk({
          url: me,
          tokensFile: pool,
          threads: 1,
          connections: 8,
          seconds: num("warmup"),
        });
        await server.loopDelay();
        const idle = await runNode(
          "probe.ts",
          [me, pool, String(rate), String(seconds)],
          "PROBE_JSON",
        );
        const idleLoop = await server.loopDelay();
        const loginsRun = runNode(
          "logins.ts",
          [login, emailsFile, PASSWORD, "50", String(seconds + 3)],
          "LOGINS_JSON",
        );
        await new Promise((r) => setTimeout(r, 2000));
        await server.loopDelay();
        const loaded = await runNode(
          "probe.ts",
          [me, pool, String(rate), String(seconds)],
          "PROBE_JSON",
        );
        const loadedLoop = await server.loopDelay();
        const logins = await loginsRun;
        results.push({
          round,
          arm,
          idle,
          loaded,
          logins,
          loopDelay: { idle: idleLoop, loaded: loadedLoop },
        } as unknown as LoginResult);
        log(
          `login round ${round} (${arm} hashing): /users/me p99 ${idle.p99Ms?.toFixed(2)} ms idle, ${loaded.p99Ms?.toFixed(2)} ms with logins (${logins.perSecond?.toFixed(1)} logins/s, ${logins.failures} failed); event-loop delay p99 ${idleLoop?.p99Ms.toFixed(2)} ms idle, ${loadedLoop?.p99Ms.toFixed(2)} ms with logins`,
        );
      } finally {
        await server.stop();
      }
    }
  }
  return results;
}

async function memorySoak(
  variant: Variant,
  env: ServerEnvironment,
  pool: string,
  target: number,
): Promise<MemoryResult> {
  const server = await startServer(variant, env);
  const mb = (n: number) => n / 2 ** 20;
  try {
    const common = {
      url: server.url,
      tokensFile: pool,
      threads: num("threads"),
      connections: num("connections"),
    };
    await runWrk({ ...common, seconds: 5 });
    const heapBefore = await server.heap();
    const rssBefore = server.rss();
    let requests = 0;
    // RSS after every 30-second chunk, to tell a plateau (allocator and V8 keeping pages)
    // from a steady climb.
    const samples: number[] = [];
    const usageSamples: NonNullable<MemoryResult["usageSamplesMb"]> = [];
    // --memory-seconds-max caps slow variants; the table then shows how many were served.
    const cap =
      num("memory-seconds-max") > 0 ? Date.now() + num("memory-seconds-max") * 1000 : Infinity;
    while (requests < target && Date.now() < cap) {
      const r = await runWrk({ ...common, seconds: 30 });
      if (r.errors > 0)
        throw new Error(`${variant.name}: ${r.errors} errors during the memory soak`);
      requests += r.requests;
      samples.push(Math.round(mb(server.rss()) * 10) / 10);
      // Where the resident memory is, after a full GC: V8's heap (reserved and used), and
      // what lives outside it (Buffers and other external memory). RSS growing while these
      // stay is native memory (the allocator, drivers' own buffers).
      const usage = await server.heap();
      if (usage) {
        const r1 = (n: number) => Math.round(mb(n) * 10) / 10;
        usageSamples.push({
          heapTotal: r1(usage.heapTotal),
          heapUsed: r1(usage.heapUsed),
          external: r1(usage.external),
          arrayBuffers: r1(usage.arrayBuffers),
        });
        log(
          `memory ${variant.name}: ${requests} requests, RSS ${samples.at(-1)} MB, V8 heap ${r1(usage.heapUsed)} used of ${r1(usage.heapTotal)}, external ${r1(usage.external)} (array buffers ${r1(usage.arrayBuffers)}) MB`,
        );
      }
    }
    const heapAfter = await server.heap();
    return {
      variant: variant.name,
      requests,
      rssBeforeMb: mb(rssBefore),
      rssAfterMb: mb(server.rss()),
      heapBeforeMb: heapBefore ? mb(heapBefore.heapUsed) : null,
      heapAfterMb: heapAfter ? mb(heapAfter.heapUsed) : null,
      rssSamplesMb: samples,
      usageSamplesMb: usageSamples,
    };
  } finally {
    await server.stop();
  }
}

function writeDocs(results: BenchResults, baseline?: BenchResults): void {
  mkdirSync(opts.out as string, { recursive: true });
  const base = join(opts.out as string, opts.name as string);
  writeFileSync(`${base}.json`, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(
    `${base}.svg`,
    ratioChart(
      results.summaries,
      `GET /me, req/s as a ratio to bare Koa (median of ${results.settings.rounds} rounds)`,
    ),
  );
  const section = [
    `Run ${results.startedAt} with \`${results.command}\`.`,
    "",
    "Machine: " +
      Object.entries(results.machine)
        .map(([k, v]) => `${k} ${v}`)
        .join("; ") +
      ".",
    "",
    "Settings: " +
      Object.entries(results.settings)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ") +
      ".",
    "",
    "Versions: " +
      Object.entries(results.versions)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ") +
      ".",
    "",
    `![ratios](benchmarks/${opts.name}.svg)`,
    "",
    markdownTable(results.summaries, baseline),
    "",
    "### Login under load",
    "",
    loginTable(results.login),
    "",
    "### Memory",
    "",
    memoryTable(results.memory),
  ].join("\n");
  const doc = join(ROOT, "docs", "benchmarks.md");
  if (opts.out === join(ROOT, "docs", "benchmarks") && existsSync(doc)) {
    const begin = `<!-- bench:${opts.name}:begin -->`;
    const end = `<!-- bench:${opts.name}:end -->`;
    const text = readFileSync(doc, "utf8");
    const i = text.indexOf(begin);
    const j = text.indexOf(end);
    if (i >= 0 && j > i) {
      writeFileSync(doc, `${text.slice(0, i + begin.length)}\n${section}\n${text.slice(j)}`);
      log(`updated docs/benchmarks.md (${opts.name})`);
    }
  }
  writeFileSync(`${base}.md`, `${section}\n`);
  log(`wrote ${base}.{json,svg,md}`);
}

async function main(): Promise<void> {
  const started = new Date();
  ensureWrk();
  const python = variants.some((v) => v.runtime === "python") ? ensurePython() : null;
  log("starting PostgreSQL, Redis and the MongoDB-protocol server…");
  const pools = new Set(variants.map((v) => v.pool));
  if (num("login-rounds") > 0) pools.add("db");
  const services = await startBenchServices({ mongo: pools.has("mongo") });
  try {
    const dir = join(services.runDir, "bench");
    log(`seeding ${num("users")} users and their tokens…`);
    const seeded = await seed(dir, services, num("users"), pools);
    const env: ServerEnvironment = {
      POSTGRES_URL: services.postgresUrl,
      REDIS_URL: services.redisUrl,
      MONGODB_URL: services.mongoUrl ?? "",
      SQLITE_FILE: seeded.sqliteFile,
      FASTAPI_POSTGRES_URL: seeded.fastapiPostgresUrl,
      PYTHON: python ?? "python3",
      JWT_SECRET,
      SESSION_LIFETIME_SECONDS: String(SESSION_LIFETIME_SECONDS),
    } as ServerEnvironment;
    const files: Record<string, string> = { ...seeded.pools };
    if (pools.has("session")) {
      const ids = readFileSync(files.jwt as string, "utf8")
        .trim()
        .split("\n")
        .map((l) => {
          const payload = l.split(".")[1] as string;
          return (JSON.parse(Buffer.from(payload, "base64url").toString()) as { sub: string }).sub;
        });
      files.session = await seedSessions(env, ids, dir);
    }
    const measurements: Measurement[] = [];
    const rounds = num("rounds");
    for (let round = 1; round <= rounds; round++) {
      // Rotate the order so no variant always runs first or last in a round.
      const shift = ((round - 1) * Math.ceil(variants.length / rounds)) % variants.length;
      const order = [...variants.slice(shift), ...variants.slice(0, shift)];
      const results = new Map<string, Awaited<ReturnType<typeof measure>>>();
      for (const v of order) {
        const r = await measure(v, env, files[v.pool] as string, round);
        results.set(v.name, r);
        log(
          `round ${round}/${rounds} ${v.name}: ${Math.round(r.rps)} req/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms`,
        );
      }
      const koa = results.get("koa")?.rps ?? Number.NaN;
      for (const [name, r] of results)
        measurements.push({ ...r, variant: name, round, ratio: r.rps / koa });
    }
    const summaries = summarize(variants, measurements);
    console.log(markdownTable(summaries));

    const login: LoginResult[] = [];
    const memory: MemoryResult[] = [];
    const results: BenchResults = {
      startedAt: started.toISOString(),
      command: `pnpm run bench${process.argv.length > 2 ? ` ${process.argv.slice(2).join(" ")}` : ""}`,
      machine: machine(),
      versions: versions(python),
      settings: {
        rounds,
        "seconds per run": num("duration"),
        "warm-up seconds": num("warmup"),
        "wrk threads": num("threads"),
        "wrk connections": num("connections"),
        "tokens per pool": num("users"),
        "mongo server": services.mongoKind,
      },
      measurements,
      summaries,
      login,
      memory,
    };
    // Saved after each phase, so a failure later keeps what was measured.
    const save = () => writeDocs(results, baseline);
    save();

    if (num("login-rounds") > 0) {
      const emailsFile = join(dir, "emails.txt");
      writeFileSync(emailsFile, `${seeded.emails.join("\n")}\n`);
      login.push(
        ...(await loginUnderLoad(env, files.db as string, emailsFile, num("login-rounds"))),
      );
      console.log(loginTable(login));
      save();
    }
    if (num("memory-requests") > 0) {
      const tessera = variants.filter((v) => v.group === "tessera");
      for (const v of pickVariants(opts["memory-variants"], tessera)) {
        const m = await memorySoak(v, env, files[v.pool] as string, num("memory-requests"));
        memory.push(m);
        log(
          `memory ${v.name}: ${m.requests} requests, RSS ${m.rssBeforeMb.toFixed(1)} -> ${m.rssAfterMb.toFixed(1)} MB, heap ${m.heapBeforeMb?.toFixed(1)} -> ${m.heapAfterMb?.toFixed(1)} MB`,
        );
        save();
      }
      console.log(memoryTable(memory));
    }
  } finally {
    stopBenchServices(services);
  }
}

if (opts.render) {
  // Re-renders the markdown and the chart of a saved run (e.g. after a report change).
  const saved = JSON.parse(readFileSync(fromCwd(opts.render), "utf8")) as BenchResults;
  writeDocs(saved, baseline);
} else {
  await main();
}
