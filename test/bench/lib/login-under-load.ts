// Login under load: does password hashing starve the event loop? The database strategy on
// PostgreSQL with the auth and users routers; a prober (probe.ts) sends `GET /users/me` at
// a fixed rate, alone and while another process (logins.ts) keeps 50 logins in flight.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { log } from "./log.ts";
import { BENCH_DIR } from "./paths.ts";
import type { LoginResult } from "./report.ts";
import { type ServerEnvironment, startServer } from "./server-process.ts";
import { PASSWORD } from "./shared.ts";
import type { Variant } from "./variants.ts";
import { runWrk } from "./wrk.ts";

export interface LoginSettings {
  rounds: number;
  /** Seconds of each probe (without and with logins). */
  seconds: number;
  /** Seconds of the server's warm-up. */
  warmup: number;
}

/** Runs lib/`script` in its own Node process; its result is the JSON after `marker`. */
function runNode(script: string, args: string[], marker: string): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(BENCH_DIR, "lib", script), ...args], {
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
}

/** The login server, as shipped ("limited") or with hashing on all of libuv's pool. */
function loginVariant(arm: LoginResult["arm"]): Variant {
  return {
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
}

/**
 * p50/p99 of `GET /users/me` at a fixed 200 req/s (open loop), alone and while 50 password
 * logins are kept in flight, on the server as shipped and on one whose hashing may use all
 * of libuv's pool (concurrency 4: the behaviour before PasswordHelper's limit), alternated.
 */
export async function loginUnderLoad(
  env: ServerEnvironment,
  pool: string,
  emailsFile: string,
  settings: LoginSettings,
): Promise<LoginResult[]> {
  const { seconds } = settings;
  const rate = 200;
  const results: LoginResult[] = [];
  for (let round = 1; round <= settings.rounds; round++) {
    for (const arm of ["limited", "unlimited"] as const) {
      const server = await startServer(loginVariant(arm), env);
      const me = `http://127.0.0.1:${server.port}/users/me`;
      const login = `http://127.0.0.1:${server.port}/auth/db/login`;
      try {
        await runWrk({
          url: me,
          tokensFile: pool,
          threads: 1,
          connections: 8,
          seconds: settings.warmup,
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
