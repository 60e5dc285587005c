// An outside tool checks the OpenAPI document: Schemathesis (PyPI, pinned in requirements.txt,
// settings and exclusions in schemathesis.toml) runs every check, the stateful phase included,
// against examples/koa-app on SQLite and on PostgreSQL, as a normal user and as a superuser,
// with rate limiting off. Any failed check fails the test, which lists each failing check and
// operation with Schemathesis's curl command. Reports land in test/output/schemathesis/.
// TESSERA_ST_SEED=<n> repeats a run's generation (the seed is printed).
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, it } from "vitest";
import { freePort, type Running, root, scratchPostgres, start } from "../example/support.js";
import { nodeFromSource } from "../support/from-source.js";
import { clip, formatFailures, type ReportFiles, readRun } from "./report.js";
import { ensureSchemathesis, schemathesisVersion } from "./venv.js";

const CONFIG = join(root, "test", "schemathesis", "schemathesis.toml");
const OUTPUT = join(root, "test", "output", "schemathesis");
const SEED = Number(process.env.TESSERA_ST_SEED) || randomInt(1, 2 ** 31);
const USER = { email: "ada.schemathesis@example.com", password: "correct horse battery staple" };
const ADMIN = { email: "admin.schemathesis@example.com", password: "an admin passphrase" };
const START_TIMEOUT_MS = 60_000;
/** A Schemathesis process takes 2–40 s on 2 cores; a hung one is killed before the test times out. */
const RUN_TIMEOUT_MS = 150_000;

interface Account {
  email: string;
  password: string;
}

/**
 * Two runs per database. The normal user takes every route but the superuser-only
 * /users/{id} and /users/{id}/sessions…: as a superuser, Schemathesis would send the id
 * /users/me answers to DELETE /users/{id} and delete the account it runs as. The superuser
 * takes those, with /auth/register to make the users it reads, changes and deletes.
 */
const SUPERUSER_PATHS = "/users/\\{id\\}(/sessions(/\\{sessionId\\})?)?";
const RUNS: { who: string; account: Account; select: string[] }[] = [
  { who: "user", account: USER, select: ["--exclude-path-regex", `^${SUPERUSER_PATHS}$`] },
  {
    who: "superuser",
    account: ADMIN,
    select: ["--include-path-regex", `^(/auth/register|${SUPERUSER_PATHS})$`],
  },
];

/**
 * Each run is two processes. Schemathesis logs in again after a 401 in its unit phases but
 * not in the stateful one, which a fresh process starts with a fresh login: the unit phases
 * end with logouts that leave the cached token dead. (A stateful step deleting the current
 * session still leaves the steps after it unauthenticated.)
 */
const PHASES = [
  { name: "unit", phases: "examples,coverage,fuzzing" },
  { name: "stateful", phases: "stateful" },
];

let schemathesis: string[] = [];

/** The refresh routes of the app's refresh-token backends (issue 15). */
const REFRESH_ROUTES = ["POST /auth/refresh/refresh", "POST /auth/refresh-cookie/refresh"];

beforeAll(async () => {
  schemathesis = await ensureSchemathesis((line) => console.log(`schemathesis: ${line}`));
  console.log(`schemathesis ${schemathesisVersion()}, seed ${SEED}`);
}, 600_000);

for (const database of ["sqlite", "postgresql"] as const) {
  describe(`Schemathesis against examples/koa-app on ${database}`, () => {
    let app: Running;
    const cleanups: (() => Promise<void>)[] = [];

    beforeAll(async () => {
      app = await startApp(database, cleanups);
      await register(app.url, USER);
      // Both accounts log in through the Bearer (JWT) backend first: a wrong password fails
      // here in one line, not as 401s all through the run.
      for (const account of [USER, ADMIN]) await login(app.url, account);
    }, START_TIMEOUT_MS + 30_000);

    afterAll(async () => {
      await app?.stop();
      for (const cleanup of cleanups) await cleanup().catch(() => {});
    });

    for (const run of RUNS) {
      it(
        `as a ${run.who}: every check passes`,
        async () => {
          const problems: string[] = [];
          for (const phases of PHASES) {
            const label = `${database}-${run.who}-${phases.name}`;
            problems.push(...(await runSchemathesis(app, label, run.account, run.select, phases)));
          }
          if (problems.length > 0) {
            throw new Error(
              `Schemathesis on ${database} as a ${run.who} (seed ${SEED}; ` +
                `TESSERA_ST_SEED=${SEED} pnpm exec vitest run test/schemathesis repeats it):\n\n` +
                problems.join("\n\n"),
            );
          }
        },
        2 * RUN_TIMEOUT_MS + 30_000,
      );
    }
  });
}

/**
 * The app's own entry point from its TypeScript sources, as the other tests use the
 * packages: no build, so nothing races with the `npm start` builds of test/example.
 */
async function startApp(
  database: "sqlite" | "postgresql",
  cleanups: (() => Promise<void>)[],
): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), "koa-app-schemathesis-"));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const env: Record<string, string> = {
    PORT: String(await freePort()),
    DATA_DIR: join(dir, "data"),
    RATE_LIMIT: "off",
    TESSERA_SECRET: randomBytes(32).toString("base64url"),
    TESSERA_ADMIN_EMAIL: ADMIN.email,
    TESSERA_ADMIN_PASSWORD: ADMIN.password,
  };
  if (database === "postgresql") {
    // A database of its own, which the app creates: nothing shared with other test files.
    env.DATABASE_URL = scratchPostgres("schemathesis", cleanups);
  }
  const app = await start(nodeFromSource("examples/koa-app/src/server.ts"), env, START_TIMEOUT_MS);
  console.log(`koa-app on ${database}: listening on ${app.url} after ${app.startupMs} ms`);
  return app;
}

async function register(url: string, account: Account): Promise<void> {
  const res = await fetch(`${url}/auth/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(account),
  });
  if (res.status !== 201)
    throw new Error(`register ${account.email}: ${res.status} ${await res.text()}`);
}

async function login(url: string, account: Account): Promise<void> {
  const res = await fetch(`${url}/auth/jwt/login`, {
    method: "POST",
    body: new URLSearchParams({ username: account.email, password: account.password }),
  });
  const body = (await res.json().catch(() => ({}))) as { access_token?: string };
  if (res.status !== 200 || !body.access_token) {
    throw new Error(`login ${account.email}: ${res.status} ${JSON.stringify(body)}`);
  }
}

/** One Schemathesis process; returns what is wrong with its results (nothing: passed). */
async function runSchemathesis(
  app: Running,
  label: string,
  account: Account,
  select: string[],
  phases: (typeof PHASES)[number],
): Promise<string[]> {
  const dir = join(OUTPUT, label);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const files: ReportFiles = {
    json: join(dir, "report.json"),
    ndjson: join(dir, "events.ndjson"),
    junit: join(dir, "junit.xml"),
  };
  const [command = "", ...prefix] = schemathesis;
  const args = [
    ...prefix,
    "--config-file",
    CONFIG,
    "run",
    `${app.url}/openapi.json`,
    "--seed",
    String(SEED),
    "--phases",
    phases.phases,
    "--no-color",
    "--report",
    "json,ndjson,junit",
    "--report-json-path",
    files.json,
    "--report-ndjson-path",
    files.ndjson,
    "--report-junit-path",
    files.junit,
    ...select,
  ];
  const { code, output } = await runProcess(command, args, dir, {
    TESSERA_ST_ORIGIN: app.url,
    TESSERA_ST_EMAIL: account.email,
    TESSERA_ST_PASSWORD: account.password,
  });
  writeFileSync(join(dir, "output.txt"), output);
  writeFileSync(join(dir, "app.log"), app.output());

  const problems: string[] = [];
  let result: ReturnType<typeof readRun> | undefined;
  try {
    result = readRun(files);
  } catch (error) {
    problems.push(
      `no readable report (${String(error)}); Schemathesis exited ${code}:\n${tail(output)}`,
    );
  }
  if (result) {
    const links = /API Links:\s+(.*)/.exec(output)?.[1];
    console.log(
      `schemathesis ${label}: ${result.generated} test cases generated, ` +
        `${result.operations.tested}/${result.operations.selected} operations, ` +
        `${Math.round(result.seconds)} s, seed ${SEED}` +
        (links ? `; links ${links}` : "") +
        `; re-authenticated ${result.auth.reauthCount} times` +
        `; ${result.failures.length} check × operation failing`,
    );
    for (const [name, operations] of Object.entries(result.warnings)) {
      console.log(`schemathesis ${label}: warning ${name}: ${operations.join(", ")}`);
    }
    if (!result.complete) problems.push("the run did not complete");
    if (result.errors.length > 0) {
      problems.push(
        `${result.errors.length} errors:\n${result.errors.map((e) => clip(e, 600)).join("\n")}`,
      );
    }
    for (const phase of phases.phases.split(",")) {
      // The examples phase has nothing to run while the document gives no examples.
      const ran = ["success", "failure"].includes(result.phases[phase] ?? "");
      if (!ran && phase !== "examples") {
        problems.push(`the ${phase} phase did not run (${result.phases[phase]})`);
      }
    }
    // Every authenticated operation must have been reached with working credentials. A
    // refresh is the exception by construction: it answers 2xx only to the one live refresh
    // token of a session, rotated at each use, which no generated case holds
    // (test/http/refresh.test.ts covers its 2xx answers and their schema).
    const unreached = (result.warnings.missing_auth ?? []).filter(
      (operation) => !REFRESH_ROUTES.includes(operation),
    );
    if (unreached.length > 0) problems.push(`only 401/403 answers on: ${unreached.join(", ")}`);
    if (result.auth.reauthBroke) problems.push("logging in again stopped working during the run");
    if (result.failures.length > 0) problems.push(formatFailures(result.failures));
    if (code !== 0 && problems.length === 0) {
      problems.push(`Schemathesis exited ${code} without failures:\n${tail(output)}`);
    }
  }
  // ~10 MB of events, only needed to explain a failure.
  if (problems.length === 0) rmSync(files.ndjson, { force: true });
  return problems.map((p) => `${label} (reports in ${dir}): ${p}`);
}

/** Runs a command in `cwd` with extra environment, killed after RUN_TIMEOUT_MS. */
function runProcess(
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(command, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout?.on("data", (d: Buffer) => {
      output += d.toString();
    });
    child.stderr?.on("data", (d: Buffer) => {
      output += d.toString();
    });
    const timer = setTimeout(() => {
      output += `\n(killed after ${RUN_TIMEOUT_MS} ms)`;
      child.kill("SIGKILL");
    }, RUN_TIMEOUT_MS);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

function tail(text: string, lines = 40): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}
