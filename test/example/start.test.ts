// examples/koa-app started exactly as the README says (`npm start` from the repo root), on
// each database it supports, then used over HTTP as a user and an admin would. Runs one
// start at a time: each `npm start` rebuilds the packages, and two builds must not race.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MongoClient } from "mongodb";
import pg from "pg";
import { afterAll, describe, expect, inject, it } from "vitest";
import { signInAtProvider } from "../harness/oidc-browser.js";
import { Client, request } from "../support/client.js";
import {
  adminCanReadUsers,
  apiDocs,
  bearerBackend,
  bearerLogin,
  cookieBackend,
  NEW_PASSWORD,
  refreshBackend,
  registerAndVerify,
  resetPassword,
} from "./scenario.js";
import { freePort, harnessUrl, type Running, root, start } from "./support.js";

const ADMIN = { email: "admin@example.com", password: "an admin passphrase" };
const START_TIMEOUT_MS = 180_000;
const dirs: string[] = [];
const running: Running[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterAll(async () => {
  await Promise.all(running.map((r) => r.stop()));
  for (const cleanup of cleanups) await cleanup().catch(() => {});
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "koa-app-"));
  dirs.push(dir);
  return join(dir, "data");
}

/** `npm start`, the README's command; `skipInstall` skips only its `pnpm install` step. */
async function npmStart(env: Record<string, string>, skipInstall: boolean): Promise<Running> {
  const app = await start(
    ["npm", "start"],
    skipInstall ? { ...env, TESSERA_SKIP_INSTALL: "1" } : env,
    START_TIMEOUT_MS,
  );
  running.push(app);
  console.info(
    `koa-app (${env.DATABASE_URL ? "postgresql" : env.MONGODB_URL ? "mongodb" : "sqlite"}, install ${skipInstall ? "skipped" : "run"}): listening after ${app.startupMs} ms`,
  );
  return app;
}

/** Every backend, verification and reset over HTTP; returns a user and a token of theirs. */
async function useEveryBackend(app: Running, outboxDir: string, redis: boolean, label: string) {
  const seen = new Set<string>();
  const email = `ada.${label}@example.com`;
  const user = await registerAndVerify(app.url, outboxDir, email, seen);
  const backends = ["jwt", "db", ...(redis ? ["redis"] : [])];
  await apiDocs(app.url, ["cookie", ...backends]);
  for (const backend of backends) await bearerBackend(app.url, backend, email);
  await refreshBackend(app.url, email);
  const redisLogin = await new Client(app.url, { cookieJar: true }).request(
    "POST",
    "/auth/redis/login",
    {
      form: { username: email, password: "x" },
    },
  );
  expect(redisLogin.status).toBe(redis ? 400 : 404);
  await cookieBackend(app.url, email);
  await resetPassword(app.url, outboxDir, email, seen);
  const token = await bearerLogin(
    new Client(app.url, { cookieJar: true }),
    "jwt",
    email,
    NEW_PASSWORD,
  );
  return { user, email, token };
}

describe("examples/koa-app, started as the README says", () => {
  it("the README's quick start is `npm start`, which runs the example app", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const quickStart = readme.slice(readme.indexOf("## Quick start"));
    expect(quickStart).toMatch(/```sh\nnpm start\b/);
    expect(quickStart).toContain("http://localhost:8000");
    const scripts = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts;
    expect(scripts.start).toBe("sh scripts/run.sh pnpm --filter koa-app start");
  });

  const sqliteDataDir = tempDataDir();
  let jwtBeforeRestart = "";
  let dbBeforeRestart = "";
  let refreshBeforeRestart = { access_token: "", refresh_token: "" };

  it(
    "SQLite (the default), `npm start` with its install step: every backend, verify, reset, the admin",
    async () => {
      const port = await freePort();
      const app = await npmStart(
        {
          PORT: String(port),
          DATA_DIR: sqliteDataDir,
          TESSERA_ADMIN_EMAIL: ADMIN.email,
          TESSERA_ADMIN_PASSWORD: ADMIN.password,
        },
        false,
      );
      expect(app.url).toBe(`http://localhost:${port}`);
      expect(app.output()).toContain(`database  sqlite (${join(sqliteDataDir, "tessera.sqlite")})`);
      expect(app.output()).toContain(`admin: created superuser ${ADMIN.email}`);
      // No TESSERA_SECRET: one is generated into the data directory, private, with a warning.
      const secretFile = join(sqliteDataDir, "secret");
      expect(statSync(secretFile).mode & 0o777).toBe(0o600);
      await app.waitFor(`generated into ${secretFile}; set TESSERA_SECRET`);
      // The access tokens' signing key too: a private JWK Set, generated once (issue 15).
      const keysFile = join(sqliteDataDir, "jwks.json");
      expect(statSync(keysFile).mode & 0o777).toBe(0o600);
      await app.waitFor(`keys      generated into ${keysFile}`);

      const page = await request(app.url);
      expect(page.status).toBe(200);
      expect(page.text).toContain("<title>Tessera example</title>");

      const { user, email, token } = await useEveryBackend(
        app,
        join(sqliteDataDir, "outbox"),
        false,
        "sqlite",
      );
      await adminCanReadUsers(app.url, ADMIN, { id: user.id, token });
      jwtBeforeRestart = token;
      dbBeforeRestart = await bearerLogin(
        new Client(app.url, { cookieJar: true }),
        "db",
        email,
        NEW_PASSWORD,
      );
      refreshBeforeRestart = await refreshBackend(app.url, email, NEW_PASSWORD);
      await app.stop();
    },
    START_TIMEOUT_MS + 60_000,
  );

  it(
    "SQLite, restarted on the same data: the secret and the sessions survive, the admin is not re-created",
    async () => {
      const secretFile = join(sqliteDataDir, "secret");
      const secret = readFileSync(secretFile, "utf8");
      const keysFile = join(sqliteDataDir, "jwks.json");
      const keys = readFileSync(keysFile, "utf8");
      const app = await npmStart(
        {
          PORT: String(await freePort()),
          DATA_DIR: sqliteDataDir,
          TESSERA_ADMIN_EMAIL: ADMIN.email,
          TESSERA_ADMIN_PASSWORD: ADMIN.password,
        },
        true,
      );
      expect(readFileSync(secretFile, "utf8")).toBe(secret);
      await app.waitFor(`read from ${secretFile}`);
      expect(readFileSync(keysFile, "utf8")).toBe(keys);
      await app.waitFor(`keys      read from ${keysFile}`);
      expect(app.output()).not.toContain("admin: created");
      const client = new Client(app.url, { cookieJar: true });
      // A JWT signed before the restart still verifies: the same secret was derived.
      expect((await client.request("GET", "/users/me", { bearer: jwtBeforeRestart })).status).toBe(
        200,
      );
      expect((await client.request("GET", "/users/me", { bearer: dbBeforeRestart })).status).toBe(
        200,
      );
      // The refresh backend's access token verifies with the kept key, and its refresh
      // session (in the database) rotates.
      expect(
        (await client.request("GET", "/users/me", { bearer: refreshBeforeRestart.access_token }))
          .status,
      ).toBe(200);
      const rotated = await client.request("POST", "/auth/refresh/refresh", {
        form: { grant_type: "refresh_token", refresh_token: refreshBeforeRestart.refresh_token },
      });
      expect(rotated.status, rotated.text).toBe(200);
      await bearerLogin(client, "jwt", ADMIN.email, ADMIN.password);
      await app.stop();
    },
    START_TIMEOUT_MS,
  );

  it(
    "PostgreSQL (DATABASE_URL, a database the app creates) with Redis (REDIS_URL)",
    async () => {
      const postgres = harnessUrl("POSTGRES_URL");
      const redis = harnessUrl("REDIS_URL");
      const dbName = `koa_app_${randomBytes(4).toString("hex")}`;
      const url = new URL(postgres);
      url.pathname = `/${dbName}`;
      cleanups.push(async () => {
        const admin = new pg.Client({ connectionString: postgres });
        await admin.connect();
        await admin.query(`drop database if exists "${dbName}" with (force)`);
        await admin.end();
      });
      const dataDir = tempDataDir();
      const app = await npmStart(
        {
          PORT: String(await freePort()),
          DATA_DIR: dataDir,
          DATABASE_URL: url.href,
          REDIS_URL: redis,
          TESSERA_SECRET: randomBytes(32).toString("base64url"),
          TESSERA_ADMIN_EMAIL: ADMIN.email,
          TESSERA_ADMIN_PASSWORD: ADMIN.password,
        },
        true,
      );
      expect(app.output()).toContain("database  postgresql");
      expect(app.output()).toContain("secrets   from TESSERA_SECRET");
      const { user, token } = await useEveryBackend(app, join(dataDir, "outbox"), true, "pg");
      await adminCanReadUsers(app.url, ADMIN, { id: user.id, token });
      await app.stop();
    },
    START_TIMEOUT_MS + 60_000,
  );

  it(
    "MongoDB protocol (MONGODB_URL, a fresh database) with Redis (REDIS_URL)",
    async () => {
      const mongo = harnessUrl("MONGODB_URL");
      const redis = harnessUrl("REDIS_URL");
      const dbName = `koa_app_${randomBytes(4).toString("hex")}`;
      const url = new URL(mongo);
      url.pathname = `/${dbName}`;
      cleanups.push(async () => {
        const client = await new MongoClient(mongo).connect();
        await client.db(dbName).dropDatabase();
        await client.close();
      });
      const dataDir = tempDataDir();
      const app = await npmStart(
        {
          PORT: String(await freePort()),
          DATA_DIR: dataDir,
          MONGODB_URL: url.href,
          REDIS_URL: redis,
          TESSERA_ADMIN_EMAIL: ADMIN.email,
          TESSERA_ADMIN_PASSWORD: ADMIN.password,
        },
        true,
      );
      expect(app.output()).toContain("database  mongodb");
      const { user, token } = await useEveryBackend(app, join(dataDir, "outbox"), true, "mongo");
      // ObjectId strings, not UUIDs: the id parser follows the database.
      expect(user.id).toMatch(/^[0-9a-f]{24}$/);
      await adminCanReadUsers(app.url, ADMIN, { id: user.id, token });
      await app.stop();
    },
    START_TIMEOUT_MS + 60_000,
  );

  it(
    "Sign in with a provider named by OAUTH_LOCAL_* (the suite's OIDC provider, TESSERA_OIDC_ISSUER): the log names it, the page lists it, the sign-in lands on the page logged in; a missing part stops the start in one line",
    async () => {
      const oidc = inject("oidc");
      const issuer = harnessUrl("TESSERA_OIDC_ISSUER");
      const port = await freePort();
      const provider = {
        OAUTH_LOCAL_ISSUER: issuer,
        OAUTH_LOCAL_CLIENT_ID: oidc.clientId,
        OAUTH_LOCAL_CLIENT_SECRET: oidc.clientSecret,
      };
      const app = await npmStart(
        {
          PORT: String(port),
          // The provider accepts callbacks on 127.0.0.1 only.
          APP_URL: `http://127.0.0.1:${port}`,
          DATA_DIR: tempDataDir(),
          ...provider,
        },
        true,
      );
      await app.waitFor("koa-app: sign-in");
      expect(app.output()).toContain(
        `koa-app: sign-in   Local (${issuer}) → ${app.url}/auth/local/callback`,
      );
      const browser = new Client(app.url, { cookieJar: true });
      try {
        expect((await browser.request("GET", "/app/oauth-providers")).body).toEqual([
          { name: "local", label: "Local" },
        ]);
        const begun = await browser.request("GET", "/auth/local/authorize");
        const url = (begun.body as { authorization_url: string }).authorization_url;
        const callback = await signInAtProvider(url, { login: "alice" });
        const landed = await browser.request("GET", callback.pathname + callback.search);
        expect(landed.status, landed.text).toBe(303);
        expect(landed.headers.get("location")).toBe("/");
        const me = await browser.request("GET", "/users/me");
        expect(me.body).toMatchObject({ email: "alice@example.com", is_verified: true });
      } finally {
        browser.close();
      }
      await app.stop();

      const { OAUTH_LOCAL_CLIENT_SECRET: _, ...incomplete } = provider;
      await expect(
        npmStart({ PORT: String(await freePort()), DATA_DIR: tempDataDir(), ...incomplete }, true),
      ).rejects.toThrow(
        "koa-app: sign-in provider local: set OAUTH_LOCAL_CLIENT_SECRET too, or unset OAUTH_LOCAL_*",
      );
    },
    2 * START_TIMEOUT_MS,
  );
});
