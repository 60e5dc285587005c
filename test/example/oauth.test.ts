// The example app's "Sign in with …" over HTTP (issue 16), on each of its databases: the app
// runs in-process, built by createApp from a configuration whose OAUTH_LOCAL_* variables name
// the suite's real OpenID Connect provider (oidc-provider on loopback, inject("oidc")). The
// browser's part at the provider (login form, consent) is the harness' signInAtProvider.
// authorize → provider → callback → the page's refresh-cookie session; a refusal landing on the
// page; linking an account to a password user (associate) and unlinking it; the provider
// tokens encrypted in oauth_accounts. No mocked provider.
import { randomBytes } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import { MongoClient } from "mongodb";
import pg from "pg";
import { afterAll, describe, expect, inject, it } from "vitest";
import type { ExampleApp } from "../../examples/koa-app/src/app.js";
import { signInAtProvider } from "../harness/oidc-browser.js";
import { Client, type Reply } from "../support/client.js";
import { harnessUrl, scratchMongo, scratchPostgres, startInProcess } from "./support.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** The OAUTH_* variables that configure the suite's provider as "local". */
export function localProviderEnv(): Record<string, string> {
  const oidc = inject("oidc");
  // The global setup exports the issuer too, for a child process' environment.
  expect(process.env.TESSERA_OIDC_ISSUER).toBe(oidc.issuer);
  return {
    OAUTH_LOCAL_ISSUER: oidc.issuer,
    OAUTH_LOCAL_CLIENT_ID: oidc.clientId,
    OAUTH_LOCAL_CLIENT_SECRET: oidc.clientSecret,
  };
}

/** The example app in-process on 127.0.0.1 (the provider accepts loopback callbacks only). */
async function startExample(env: Record<string, string>) {
  return startInProcess(
    {
      ...localProviderEnv(),
      ...env,
    },
    { cleanups, hostname: "127.0.0.1", prefix: "koa-app-oauth-" },
  );
}

const detail = (res: Reply) => (res.body as { detail?: unknown } | undefined)?.detail;
const NAVIGATE = { "sec-fetch-mode": "navigate", accept: "text/html" };

/** authorize → the provider's login and consent → the callback URL's path and query. */
async function throughProvider(browser: Client, url: string, authorize: string, login: string) {
  const begun = await browser.request("GET", authorize);
  expect(begun.status, begun.text).toBe(200);
  const authorizationUrl = (begun.body as { authorization_url: string }).authorization_url;
  const callback = await signInAtProvider(authorizationUrl, { login });
  expect(callback.origin).toBe(url);
  return { authorizationUrl, callback: callback.pathname + callback.search };
}

interface Database {
  name: string;
  env: () => Promise<Record<string, string>>;
  /** The stored access_token of a link, as the database holds it. */
  storedToken: (example: ExampleApp, env: Record<string, string>) => Promise<string>;
}

const databases: Database[] = [
  {
    name: "SQLite (the default), state in memory",
    env: async () => ({}),
    storedToken: async (example) => {
      const file = example.config.database.kind === "sqlite" ? example.config.database.file : "";
      const db = new DatabaseSync(file, { readOnly: true });
      try {
        const row = db.prepare("select access_token from oauth_accounts limit 1").get();
        return String(row?.access_token);
      } finally {
        db.close();
      }
    },
  },
  {
    name: "PostgreSQL (the app creates oauth_accounts), state in Redis",
    env: async () => {
      const redis = harnessUrl("REDIS_URL");
      return { DATABASE_URL: scratchPostgres("koa_app_oauth", cleanups), REDIS_URL: redis };
    },
    storedToken: async (_example, env) => {
      const client = new pg.Client({ connectionString: env.DATABASE_URL });
      await client.connect();
      try {
        const { rows } = await client.query("select access_token from oauth_accounts limit 1");
        return String(rows[0]?.access_token);
      } finally {
        await client.end();
      }
    },
  },
  {
    name: "MongoDB protocol (links in the user document, keys in oauth_account_keys), state in Redis",
    env: async () => {
      const redis = harnessUrl("REDIS_URL");
      return { MONGODB_URL: scratchMongo("koa_app_oauth", cleanups), REDIS_URL: redis };
    },
    storedToken: async (example, env) => {
      const client = await new MongoClient(env.MONGODB_URL as string).connect();
      try {
        const db = client.db(
          example.config.database.kind === "mongodb" ? example.config.database.dbName : "",
        );
        expect(await db.collection("oauth_account_keys").countDocuments()).toBeGreaterThan(0);
        const user = await db
          .collection("users")
          .findOne({ "oauth_accounts.0": { $exists: true } });
        return String(
          (user?.oauth_accounts as { access_token: string }[] | undefined)?.[0]?.access_token,
        );
      } finally {
        await client.close();
      }
    },
  },
];

describe.each(databases)("the example app's Sign in with, on $name", (database) => {
  it("authorize → the provider's login → callback: 303 to the page, signed in with the page's cookies, the account linked; the tokens encrypted at rest; a replay refused", async () => {
    const env = await database.env();
    const { example, url } = await startExample(env);
    const browser = new Client(url, { cookieJar: true });
    cleanups.push(() => browser.close());

    // The page's buttons read the providers from here.
    const listed = await browser.request("GET", "/app/oauth-providers");
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual([{ name: "local", label: "Local" }]);

    // The redirect URI comes from APP_URL, whatever Host the request names (ASVS 5.0 10.4.1).
    const forged = await browser.request("GET", "/auth/local/authorize", {
      headers: { host: "evil.example" },
    });
    const forgedUrl = new URL((forged.body as { authorization_url: string }).authorization_url);
    expect(forgedUrl.searchParams.get("redirect_uri")).toBe(`${url}/auth/local/callback`);
    expect(forgedUrl.origin).toBe(inject("oidc").issuer);
    // Plain http on loopback: the state cookie is not Secure, so it is not __Host-.
    expect(forged.headers.getSetCookie().join("\n")).toMatch(/^tessera_oauth=.+HttpOnly/im);

    const { callback } = await throughProvider(browser, url, "/auth/local/authorize", "alice");
    const landed = await browser.request("GET", callback);
    expect(landed.status, landed.text).toBe(303);
    expect(landed.headers.get("location")).toBe("/");
    // The page's backend: the access and refresh cookies, and the CSRF cookie.
    for (const name of ["tessera_access", "tessera_refresh", "tessera_csrf"]) {
      expect(browser.cookies.has(name), name).toBe(true);
    }
    const me = await browser.request("GET", "/users/me");
    expect(me.status).toBe(200);
    // A verified provider email: the user is made verified (isVerifiedByDefault).
    expect(me.body).toMatchObject({ email: "alice@example.com", is_verified: true });
    const accounts = await browser.request("GET", "/users/me/oauth-accounts");
    expect(accounts.body).toEqual([
      expect.objectContaining({
        oauth_name: "local",
        account_id: "alice",
        account_email: "alice@example.com",
      }),
    ]);

    // Encrypted with the key derived from the master secret (ASVS 5.0 11.3.2).
    expect(await database.storedToken(example, env)).toMatch(/^v1\.app\./);

    // The same callback again: the state was used (ASVS 5.0 10.1.2).
    const replay = await browser.request("GET", callback);
    expect(replay.status).toBe(400);
    expect(detail(replay)).toBe("OAUTH_INVALID_STATE");

    // From a browser's navigation, a refusal lands on the page with its code.
    const again = await browser.request("GET", callback, { headers: NAVIGATE });
    expect(again.status).toBe(303);
    expect(again.headers.get("location")).toBe("/?oauth_error=OAUTH_INVALID_STATE");
  }, 60_000);

  it("link a provider account to a password user (associate), sign in with it, unlink it; an unverified email alone makes no user", async () => {
    const env = await database.env();
    const { url } = await startExample(env);
    const browser = new Client(url, { cookieJar: true });
    cleanups.push(() => browser.close());

    // bob's provider email is unverified: no user is made from it (account pre-hijacking,
    // ASVS 5.0 6.8.1); a browser lands on the page with the reason.
    const first = await throughProvider(browser, url, "/auth/local/authorize", "bob");
    const refused = await browser.request("GET", first.callback, { headers: NAVIGATE });
    expect(refused.status).toBe(303);
    expect(refused.headers.get("location")).toBe("/?oauth_error=OAUTH_EMAIL_NOT_VERIFIED");
    // The state cookie is deleted with the refusal.
    expect(refused.headers.getSetCookie().join("\n")).toMatch(/^tessera_oauth=;/m);

    // Grace registers with a password and logs in on the page's backend.
    const email = `grace-${randomBytes(3).toString("hex")}@example.com`;
    const password = "correct horse battery staple";
    expect((await browser.json("/auth/register", { email, password })).status).toBe(201);
    const login = await browser.form("/auth/refresh-cookie/login", { username: email, password });
    expect(login.status, login.text).toBe(204);

    // Link bob's provider account to her: signing in at the provider proves it is hers.
    const link = await throughProvider(browser, url, "/auth/associate/local/authorize", "bob");
    expect(new URL(link.authorizationUrl).searchParams.get("redirect_uri")).toBe(
      `${url}/auth/associate/local/callback`,
    );
    const linked = await browser.request("GET", link.callback, { headers: NAVIGATE });
    expect(linked.status, linked.text).toBe(303);
    expect(linked.headers.get("location")).toBe("/?linked=local");
    const accounts = (await browser.request("GET", "/users/me/oauth-accounts")).body as {
      id: string;
      oauth_name: string;
      account_email: string;
    }[];
    expect(accounts).toEqual([
      expect.objectContaining({ oauth_name: "local", account_email: "bob@example.com" }),
    ]);

    // Another browser signs in with bob's provider account: it is Grace now.
    const other = new Client(url, { cookieJar: true });
    cleanups.push(() => other.close());
    const second = await throughProvider(other, url, "/auth/local/authorize", "bob");
    expect((await other.request("GET", second.callback)).status).toBe(303);
    expect(((await other.request("GET", "/users/me")).body as { email: string }).email).toBe(email);

    // Unlink (a cookie session: CSRF-checked); the provider account signs in no more.
    const account = accounts[0] as { id: string };
    const noCsrf = await browser.request(
      "DELETE",
      `/users/me/oauth-accounts/${encodeURIComponent(account.id)}`,
    );
    expect(noCsrf.status).toBe(403);
    const unlinked = await browser.request(
      "DELETE",
      `/users/me/oauth-accounts/${encodeURIComponent(account.id)}`,
      { csrf: true },
    );
    expect(unlinked.status, unlinked.text).toBe(204);
    expect((await browser.request("GET", "/users/me/oauth-accounts")).body).toEqual([]);
    const third = new Client(url, { cookieJar: true });
    cleanups.push(() => third.close());
    const after = await throughProvider(third, url, "/auth/local/authorize", "bob");
    const gone = await third.request("GET", after.callback);
    expect(gone.status).toBe(400);
    expect(detail(gone)).toBe("OAUTH_EMAIL_NOT_VERIFIED");
  }, 60_000);
});
