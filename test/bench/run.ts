// The benchmark: `pnpm run bench` at the repo root (builds the packages, then runs this).
//
//   node --import ./ts-resolve.ts run.ts [--rounds 3] [--duration 15] [--warmup 3]
//     [--connections 64] [--threads 2] [--users 1000] [--variants a,b] [--no-python]
//     [--login-rounds 3] [--login-seconds 15] [--refresh-rounds 3] [--refresh-seconds 15]
//     [--refresh-chains 64] [--memory-requests 1000000]
//     [--memory-variants a,b] [--memory-seconds-max 0] [--out DIR] [--name latest]
//     [--baseline FILE.json] [--render SAVED.json] [--compare REV] [--compare-variants a,b]
//
// Starts PostgreSQL, Redis and a MongoDB-protocol server (the test harness's modules), seeds
// the same users everywhere, then measures every variant in its own server process with wrk
// in another, variants interleaved over the rounds (order rotated each round), each with a
// warm-up; ratios are to bare Koa in the same round (lib/rounds.ts). Then the login-under-
// load benchmark (lib/login-under-load.ts), the refresh rate on PostgreSQL and Redis
// (lib/refresh-rate.ts) and the memory soak (lib/memory-soak.ts). Writes
// DIR/NAME.json, DIR/NAME.svg and, for the default output, the results section of
// docs/benchmarks.md (lib/write-results.ts). `--render` writes those again from a saved run.
// `--compare REV` also measures the variants at commit REV in the same rounds (lib/compare.ts).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { prepareCompare, twinsAt } from "./lib/compare.ts";
import { log } from "./lib/log.ts";
import { loginUnderLoad } from "./lib/login-under-load.ts";
import { memorySoak } from "./lib/memory-soak.ts";
import { type BenchOptions, parseOptions } from "./lib/options.ts";
import { machine, versions } from "./lib/provenance.ts";
import { ensurePython } from "./lib/python.ts";
import { refreshRate } from "./lib/refresh-rate.ts";
import {
  type BenchResults,
  compareTable,
  type LoginResult,
  loginTable,
  type MemoryResult,
  markdownTable,
  memoryTable,
  type RefreshResult,
  refreshTable,
  summarize,
  variantLabel,
  verifyPathTable,
} from "./lib/report.ts";
import { alongside, runRounds } from "./lib/rounds.ts";
import { seed } from "./lib/seed.ts";
import type { ServerEnvironment } from "./lib/server-process.ts";
import { startBenchServices, stopBenchServices } from "./lib/services.ts";
import { jwtPoolUserIds, seedSessions } from "./lib/session-pool.ts";
import { JWT_SECRET, SESSION_LIFETIME_SECONDS } from "./lib/shared.ts";
import { writeResults } from "./lib/write-results.ts";
import { ensureWrk } from "./lib/wrk.ts";

async function main(opts: BenchOptions): Promise<void> {
  const started = new Date();
  ensureWrk();
  // Before any server starts: checking out and building the other commit may fail.
  const target = opts.compare ? prepareCompare(opts.compare, opts.compareVariants) : null;
  const twins = target ? twinsAt(target, opts.compareVariants) : [];
  // The table's order: each variant followed by its twin at the other commit.
  const variants = alongside(opts.variants, twins).flat();
  const python = variants.some((v) => v.runtime === "python") ? ensurePython() : null;
  log("starting PostgreSQL, Redis and the MongoDB-protocol server…");
  const pools = new Set(variants.map((v) => v.pool));
  if (opts.loginRounds > 0) pools.add("db");
  const services = await startBenchServices({ mongo: pools.has("mongo") });
  try {
    const dir = join(services.runDir, "bench");
    log(`seeding ${opts.users} users and their tokens…`);
    const seeded = await seed(dir, services, opts.users, pools);
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
      files.session = await seedSessions(env, jwtPoolUserIds(files.jwt as string), dir);
    }
    const measurements = await runRounds(opts.variants, env, files, opts, twins, (v) =>
      v.rev ? target?.benchDir : undefined,
    );
    const summaries = summarize(variants, measurements);

    const login: LoginResult[] = [];
    const refresh: RefreshResult[] = [];
    const memory: MemoryResult[] = [];
    const results: BenchResults = {
      startedAt: started.toISOString(),
      command: opts.command,
      machine: machine(),
      versions: versions(python, services),
      settings: {
        rounds: opts.rounds,
        "seconds per run": opts.duration,
        "warm-up seconds": opts.warmup,
        "wrk threads": opts.threads,
        "wrk connections": opts.connections,
        "tokens per pool": opts.users,
        "mongo server": services.mongoKind,
        ...(opts.refreshRounds > 0
          ? {
              "refresh rounds": opts.refreshRounds,
              "refresh seconds": opts.refreshSeconds,
              "refresh chains": opts.refreshChains,
            }
          : {}),
      },
      measurements,
      summaries,
      login,
      ...(opts.refreshRounds > 0 ? { refresh } : {}),
      memory,
      ...(target
        ? {
            compare: {
              rev: target.rev,
              commit: target.commit,
              short: target.short,
              subject: target.subject,
            },
          }
        : {}),
    };
    console.log(markdownTable(summaries, undefined, (v) => variantLabel(v, results)));
    if (target) console.log(compareTable(summaries, measurements, (v) => variantLabel(v, results)));
    const verifyPath = verifyPathTable(measurements);
    if (verifyPath) console.log(verifyPath);
    // Saved after each phase, so a failure later keeps what was measured.
    const save = () => writeResults(results, opts.out, opts.name, opts.baseline);
    save();

    const emailsFile = join(dir, "emails.txt");
    writeFileSync(emailsFile, `${seeded.emails.join("\n")}\n`);
    if (opts.loginRounds > 0) {
      login.push(
        ...(await loginUnderLoad(env, files.db as string, emailsFile, {
          rounds: opts.loginRounds,
          seconds: opts.loginSeconds,
          warmup: opts.warmup,
        })),
      );
      console.log(loginTable(login));
      save();
    }
    if (opts.refreshRounds > 0) {
      refresh.push(
        ...(await refreshRate(env, emailsFile, {
          rounds: opts.refreshRounds,
          seconds: opts.refreshSeconds,
          warmup: opts.warmup,
          chains: opts.refreshChains,
        })),
      );
      console.log(refreshTable(refresh));
      save();
    }
    if (opts.memoryRequests > 0) {
      for (const v of opts.memoryVariants) {
        const m = await memorySoak(v, env, files[v.pool] as string, {
          requests: opts.memoryRequests,
          secondsMax: opts.memorySecondsMax,
          threads: opts.threads,
          connections: opts.connections,
        });
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

const opts = parseOptions(process.argv.slice(2));
if (opts.help) {
  // The usage is this file's header comment.
  const header = readFileSync(new URL(import.meta.url), "utf8").split("\nimport ")[0] as string;
  console.log(header.replace(/^\/\/ ?/gm, ""));
} else if (opts.render) {
  // Re-renders the markdown and the chart of a saved run (e.g. after a report change).
  const saved = JSON.parse(readFileSync(opts.render, "utf8")) as BenchResults;
  writeResults(saved, opts.out, opts.name, opts.baseline);
} else {
  await main(opts);
}
