// Helpers of the example-app tests: start the app as the README says and read its outbox.
// They talk HTTP to it with the tests' one client (test/support/client.ts) and its cookie jar.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { isIP } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { MongoClient } from "mongodb";
import pg from "pg";
import { type Browser, chromium } from "playwright-core";
import { createApp, type ExampleApp } from "../../examples/koa-app/src/app.js";
import { type Config, loadConfig } from "../../examples/koa-app/src/config.js";
import type { Logger } from "../../examples/koa-app/src/logger.js";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Variables the app reads: never inherited from the test run (the harness sets some). */
const APP_VARIABLES = [
  "PORT",
  "HOST",
  "APP_URL",
  "DATA_DIR",
  "DATABASE_URL",
  "MONGODB_URL",
  "REDIS_URL",
  "TESSERA_SECRET",
  "TESSERA_ADMIN_EMAIL",
  "TESSERA_ADMIN_PASSWORD",
  "SMTP_URL",
  "MAIL_OUTBOX_DIR",
  "MAIL_FROM",
  "TESSERA_SKIP_INSTALL",
  "ACCESS_TOKEN_LIFETIME_SECONDS",
];

/**
 * The environment of a fresh shell: no app variables (the sign-in providers' `OAUTH_*`
 * included), no npm/pnpm run-script variables.
 */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (APP_VARIABLES.includes(key) || /^(npm_|PNPM_|VITEST|NODE_ENV$|OAUTH_)/i.test(key)) continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

/** A free loopback port (the harness' picker). */
import { freePort } from "../harness/net.js";

export { freePort };

/** The example app, started by a command. */
export interface Running {
  url: string;
  /** From spawning the command to the app's "listening on" line. */
  startupMs: number;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /**
   * Waits until the output contains `text`: stderr and stdout are separate pipes, so a
   * warning printed before "listening on" may still arrive after it.
   */
  waitFor(text: string): Promise<void>;
  /** Ctrl-C: SIGINT to the whole process group, as a terminal sends it; resolves on exit. */
  stop(): Promise<void>;
}

/**
 * Runs `command` (e.g. `npm start`) from the repo root in its own process group and
 * resolves once the app prints `koa-app: listening on <url>`.
 */
export async function start(
  command: string[],
  env: Record<string, string>,
  timeoutMs: number,
): Promise<Running> {
  const began = performance.now();
  const [file, ...args] = command;
  const child: ChildProcess = spawn(file ?? "npm", args, {
    cwd: root,
    env: cleanEnv(env),
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      try {
        process.kill(-child.pid, "SIGINT");
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        if (child.pid && child.exitCode === null) process.kill(-child.pid, "SIGKILL");
      }, 10_000);
      await exited;
      clearTimeout(timer);
    }
  };
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`no "listening on" within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /koa-app: listening on (\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${command.join(" ")} exited (${code ?? signal}):\n${output}`));
    });
  });
  const waitFor = async (text: string) => {
    for (let i = 0; i < 100 && !output.includes(text); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    if (!output.includes(text)) throw new Error(`no "${text}" in the output:\n${output}`);
  };
  return {
    url,
    startupMs: Math.round(performance.now() - began),
    output: () => output,
    waitFor,
    stop,
  };
}

/** A mail the app wrote to its outbox. */
export interface Mail {
  file: string;
  to: string;
  subject: string;
  /** The whole message, quoted-printable decoded. */
  body: string;
}

const decodeQuotedPrintable = (s: string) =>
  s
    .replace(/=\r?\n/g, "")
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));

export function readOutbox(dir: string): Mail[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(".eml"));
  } catch {
    return [];
  }
  return files.sort().map((name) => {
    const raw = readFileSync(join(dir, name), "utf8");
    return {
      file: name,
      to: /^To: (.*)$/m.exec(raw)?.[1]?.trim() ?? "",
      subject: /^Subject: (.*)$/m.exec(raw)?.[1]?.trim() ?? "",
      body: decodeQuotedPrintable(raw),
    };
  });
}

/**
 * Waits for a new mail to `to` whose body links to `{appUrl}{path}?token=…` and returns
 * the link. Mail goes out in the background, so it may land just after the response.
 */
export async function waitForLink(
  outboxDir: string,
  to: string,
  appUrl: string,
  path: "/verify" | "/reset-password",
  seen: Set<string>,
): Promise<{ link: string; token: string; mail: Mail }> {
  const pattern = new RegExp(`${escapeRegExp(appUrl + path)}\\?token=([A-Za-z0-9._~%-]+)`);
  for (let i = 0; i < 100; i++) {
    for (const mail of readOutbox(outboxDir)) {
      if (seen.has(mail.file) || mail.to !== to) continue;
      const match = pattern.exec(mail.body);
      if (!match?.[1]) continue;
      seen.add(mail.file);
      return { link: match[0], token: decodeURIComponent(match[1]), mail };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no mail to ${to} with a ${path} link in ${outboxDir}`);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Debian's Chromium (or `CHROMIUM_PATH`), headless, as every browser test of the example runs it. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** The address of a server the harness started (it sets the variable), or an error saying so. */
export function harnessUrl(
  name: "POSTGRES_URL" | "REDIS_URL" | "MONGODB_URL" | "TESSERA_OIDC_ISSUER",
): string {
  const url = process.env[name];
  if (!url) throw new Error(`${name} unset: run through vitest (the harness sets it)`);
  return url;
}

/**
 * A database of its own on the harness' PostgreSQL (`prefix` + random), which the app
 * creates; dropped by the cleanup pushed first onto `cleanups`. Returns its URL.
 */
export function scratchPostgres(prefix: string, cleanups: (() => void | Promise<void>)[]): string {
  const postgres = harnessUrl("POSTGRES_URL");
  const dbName = `${prefix}_${randomBytes(4).toString("hex")}`;
  const url = new URL(postgres);
  url.pathname = `/${dbName}`;
  cleanups.unshift(async () => {
    const admin = new pg.Client({ connectionString: postgres });
    await admin.connect();
    await admin.query(`drop database if exists "${dbName}" with (force)`);
    await admin.end();
  });
  return url.href;
}

/** The same on the harness' MongoDB-protocol server. */
export function scratchMongo(prefix: string, cleanups: (() => void | Promise<void>)[]): string {
  const mongo = harnessUrl("MONGODB_URL");
  const dbName = `${prefix}_${randomBytes(4).toString("hex")}`;
  const url = new URL(mongo);
  url.pathname = `/${dbName}`;
  cleanups.unshift(async () => {
    const client = await new MongoClient(mongo).connect();
    await client.db(dbName).dropDatabase();
    await client.close();
  });
  return url.href;
}

/** How {@link startInProcess} runs the example app. */
export interface InProcessOptions {
  /** Stopping the app (and removing its data directory) is pushed here. */
  cleanups: (() => void | Promise<void>)[];
  /** `APP_URL`'s host; an IP address is also the one address listened on. @default localhost */
  hostname?: string;
  /** Where the app logs. @default nowhere */
  log?: Logger;
  /** The data directory's name prefix in the OS temp folder. @default koa-app- */
  prefix?: string;
}

/**
 * The example app in this process, listening on a free port with a data directory of its
 * own, configured by `env` as the environment would (`PORT`, `APP_URL` and `DATA_DIR` are
 * set here): for tests that need its objects (`example`) or a server of their own.
 */
export async function startInProcess(
  env: Record<string, string>,
  { cleanups, hostname = "localhost", log = quietLogger, prefix = "koa-app-" }: InProcessOptions,
): Promise<{ example: ExampleApp; config: Config; url: string }> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const port = await freePort();
  const config = loadConfig({
    PORT: String(port),
    APP_URL: `http://${hostname}:${port}`,
    DATA_DIR: join(dir, "data"),
    ...env,
  });
  const example = await createApp(config, log);
  const server: Server = isIP(hostname)
    ? example.app.listen(port, hostname)
    : example.app.listen(port);
  await new Promise((resolve) => server.once("listening", resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await example.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { example, config, url: config.appUrl };
}

const quietLogger: Logger = { info() {}, warn() {}, error() {} };

/** A logger that keeps every line in `logs`, for tests that read or print the app's log. */
export function collectingLogger(): { log: Logger; logs: string[] } {
  const logs: string[] = [];
  const keep = (...args: unknown[]) => {
    logs.push(args.join(" "));
  };
  return { log: { info: keep, warn: keep, error: keep }, logs };
}
