// Several instances (issue 18): two processes of examples/koa-app, started from its sources
// as `npm start` runs it, on ONE PostgreSQL database and ONE Redis, with one TESSERA_SECRET,
// one signing-key file (copied into each instance's DATA_DIR) and TRUSTED_PROXIES naming the
// proxy, behind a round-robin proxy on loopback (./round-robin-proxy.ts) that adds
// X-Forwarded-For/-Proto and says which instance answered. What one instance does, the next
// request, served by the OTHER instance, sees at once:
//
// - the login rate limit (ASVS 5.0 6.3.1): failures spread over both trip it at the count
//   one instance would, per account and per client address (read through X-Forwarded-For,
//   ASVS 5.0 15.3.4);
// - logout and log-out-everywhere (ASVS 5.0 7.4.1, 7.4.3) on the jwt (Redis denylist), db
//   and redis backends;
// - the cookie backend's CSRF tokens (ASVS 5.0 3.5.1);
// - refresh-token rotation and theft detection (ASVS 5.0 7.2.4), concurrent refreshes too;
// - a password change ending the other sessions (ASVS 5.0 7.4.3);
// - the MFA login's mfa_token (single use, ASVS 5.0 6.5.1) and the OAuth state (single use,
//   ASVS 5.0 10.1.2), both kept in Redis.
//
// Figures (requests per instance, how soon a logout is seen, N requests through the proxy)
// are printed, never asserted.

import { createHmac, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Agent } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { generateJwks, SIGNING_KEYS_FILE } from "../../examples/koa-app/src/signing-keys.js";
import { DEFAULT_RATE_LIMITS } from "../../packages/koa/src/index.js";
import { stepAt, totpAtStep } from "../../packages/mfa/src/test-utils/rfc6238.js";
import { signInAtProvider } from "../harness/oidc-browser.js";
import { Client, type Reply } from "../support/client.js";
import { nodeFromSource } from "../support/from-source.js";
import { type RoundRobinProxy, SERVED_BY, startRoundRobinProxy } from "./round-robin-proxy.js";
import {
  freePort,
  harnessUrl,
  type Running,
  readOutbox,
  scratchPostgres,
  start,
} from "./support.js";

const PASSWORD = "correct horse battery staple";
const NEW_PASSWORD = "another horse battery staple";
const START_TIMEOUT_MS = 60_000;

const cleanups: (() => Promise<void> | void)[] = [];
const instances: { name: string; app: Running; url: string; dataDir: string }[] = [];
let proxy: RoundRobinProxy;
/** The figures for the note, printed at the end. */
const figures: Record<string, unknown> = {};

beforeAll(async () => {
  const redis = harnessUrl("REDIS_URL");
  const oidc = inject("oidc");
  proxy = await startRoundRobinProxy();
  cleanups.push(() => proxy.close());
  const dir = mkdtempSync(join(tmpdir(), "koa-app-multi-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  // One signing-key file for both, as an operator copies it (or mounts one secret).
  const jwks = `${JSON.stringify(generateJwks(), null, 2)}\n`;
  const shared = {
    DATABASE_URL: scratchPostgres("koa_app_multi", cleanups),
    REDIS_URL: redis,
    TESSERA_SECRET: randomBytes(32).toString("base64url"),
    // The clients' address is read from X-Forwarded-For when the proxy is the peer.
    TRUSTED_PROXIES: "127.0.0.1,::1",
    // The address users and mails see: the proxy's. Loopback: cookies without Secure.
    APP_URL: proxy.url,
    HOST: "127.0.0.1",
    OAUTH_LOCAL_ISSUER: oidc.issuer,
    OAUTH_LOCAL_CLIENT_ID: oidc.clientId,
    OAUTH_LOCAL_CLIENT_SECRET: oidc.clientSecret,
  };
  // One after the other: each creates the schema it misses at start-up.
  for (const name of ["A", "B"]) {
    const dataDir = join(dir, name, "data");
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, SIGNING_KEYS_FILE), jwks, { mode: 0o600 });
    const port = await freePort();
    const app = await start(
      nodeFromSource("examples/koa-app/src/server.ts"),
      { ...shared, PORT: String(port), DATA_DIR: dataDir },
      START_TIMEOUT_MS,
    );
    cleanups.push(() => app.stop());
    instances.push({ name, app, url: `http://127.0.0.1:${port}`, dataDir });
    figures[`startup ms, instance ${name}`] = app.startupMs;
  }
  proxy.upstreams = instances.map(({ name, url }) => ({ name, url }));
}, 2 * START_TIMEOUT_MS);

afterAll(async () => {
  figures["requests served, by instance"] = Object.fromEntries(proxy?.served ?? []);
  console.info(`multi-instance figures: ${JSON.stringify(figures, null, 2)}`);
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const detail = (res: Reply) => (res.body as { detail?: unknown } | undefined)?.detail;
const servedBy = (res: Reply) => res.headers.get(SERVED_BY);

/**
 * A client of the proxy from its own loopback address (127.0.0.2 and up), so that the
 * instances tell clients apart by X-Forwarded-For; with a cookie jar when asked.
 */
function clientFrom(address: string, cookieJar = false): Client {
  const agent = new Agent({ keepAlive: true, timeout: 4_000, localAddress: address });
  const client = new Client(proxy.url, { agent, cookieJar });
  cleanups.push(() => client.close());
  return client;
}

/** Sends padding requests until the proxy's next request goes to `name`. */
async function aim(client: Client, name: string): Promise<void> {
  for (let i = 0; i < 4 && proxy.next() !== name; i++) {
    await client.request("GET", "/.well-known/jwks.json");
  }
  expect(proxy.next()).toBe(name);
}

/** `send()` through the proxy, reaching instance `name`: checked on the answer. */
async function on(name: "A" | "B", client: Client, send: () => Promise<Reply>): Promise<Reply> {
  await aim(client, name);
  const res = await send();
  expect(servedBy(res), `${res.status} ${res.text}`).toBe(name);
  return res;
}

const unique = (label: string) => `${label}-${randomBytes(4).toString("hex")}@example.com`;

async function signUp(client: Client, email: string): Promise<void> {
  const res = await client.request("POST", "/auth/register", {
    json: { email, password: PASSWORD },
  });
  expect(res.status, res.text).toBe(201);
}

function login(client: Client, backend: string, email: string, password = PASSWORD) {
  return client.request("POST", `/auth/${backend}/login`, {
    form: { username: email, password },
  });
}

async function tokenOf(client: Client, backend: string, email: string, password = PASSWORD) {
  const res = await login(client, backend, email, password);
  expect(res.status, res.text).toBe(200);
  return (res.body as { access_token: string }).access_token;
}

const me = (client: Client, bearer: string) => client.request("GET", "/users/me", { bearer });

describe("two example-app processes behind a round-robin proxy, one PostgreSQL, one Redis", () => {
  it("the proxy alternates: consecutive requests reach different instances, each adding X-Forwarded-For", async () => {
    const client = clientFrom("127.0.0.2");
    const order: (string | null)[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await client.request("GET", "/.well-known/jwks.json");
      expect(res.status).toBe(200);
      order.push(servedBy(res));
    }
    for (let i = 1; i < order.length; i++) expect(order[i]).not.toBe(order[i - 1]);
    expect(new Set(order)).toEqual(new Set(["A", "B"]));
    // Both publish the one key set they were given.
    const a = await on("A", client, () => client.request("GET", "/.well-known/jwks.json"));
    const b = await on("B", client, () => client.request("GET", "/.well-known/jwks.json"));
    expect(a.body).toEqual(b.body);

    // Each instance reads the client's address from the proxy's X-Forwarded-For: a session
    // made on A from 127.0.0.3 is listed with that address by B.
    const from3 = clientFrom("127.0.0.3");
    const email = unique("xff");
    await signUp(from3, email);
    const token = (await on("A", from3, () => login(from3, "db", email))).body as {
      access_token: string;
    };
    const sessions = await on("B", from3, () =>
      from3.request("GET", "/users/me/sessions", { bearer: token.access_token }),
    );
    expect(sessions.status, sessions.text).toBe(200);
    expect(sessions.body).toEqual([
      expect.objectContaining({ ip_address: "127.0.0.3", current: true }),
    ]);
  });

  it("ASVS 5.0 6.3.1: failed logins spread over both instances trip the account limit at the count of one instance", async () => {
    const limit = DEFAULT_RATE_LIMITS.login.account;
    if (limit === false) throw new Error("the default login limit counts accounts");
    const client = clientFrom("127.0.0.4");
    const email = unique("limited");
    await signUp(client, email);
    const answers: Reply[] = [];
    for (let i = 0; i < limit.limit; i++) {
      answers.push(await login(client, "jwt", email, "wrong password"));
    }
    expect(answers.map((r) => r.status)).toEqual(Array(limit.limit).fill(400));
    // Neither instance saw the whole count: 3 failures on one, 2 on the other.
    const perInstance = answers.map(servedBy);
    expect(perInstance.filter((n) => n === "A").length).toBeLessThan(limit.limit);
    expect(perInstance.filter((n) => n === "B").length).toBeLessThan(limit.limit);
    const last = servedBy(answers.at(-1) as Reply) as "A" | "B";
    // The next one, on the other instance: refused, however it tries.
    const other = last === "A" ? "B" : "A";
    const throttled = await on(other, client, () => login(client, "jwt", email, "wrong password"));
    expect([throttled.status, detail(throttled)]).toEqual([429, "LOGIN_BAD_CREDENTIALS"]);
    const right = await on(last, client, () => login(client, "jwt", email));
    expect(right.status).toBe(429);
    figures["login failures before 429 (account), both instances"] = limit.limit;
  });

  it("ASVS 5.0 6.3.1, 15.3.4: one client address is limited across accounts and both instances; another address is not", async () => {
    const limit = DEFAULT_RATE_LIMITS.login.client;
    if (limit === false) throw new Error("the default login limit counts client addresses");
    const attacker = clientFrom("127.0.0.5");
    const served = new Set<string | null>();
    for (let i = 0; i < limit.limit; i++) {
      const res = await login(attacker, "db", unique(`spray${i}`), "wrong password");
      expect(res.status, res.text).toBe(400);
      served.add(servedBy(res));
    }
    expect(served).toEqual(new Set(["A", "B"]));
    for (const name of ["A", "B"] as const) {
      const res = await on(name, attacker, () => login(attacker, "db", unique("more"), "x"));
      expect(res.status).toBe(429);
    }
    // The proxy's own address is not the key: a neighbour behind it is not throttled.
    const neighbour = clientFrom("127.0.0.6");
    for (const name of ["A", "B"] as const) {
      const res = await on(name, neighbour, () => login(neighbour, "db", unique("n"), "x"));
      expect(res.status).toBe(400);
    }
    figures["login failures before 429 (client address), both instances"] = limit.limit;
  });

  it.each(["jwt", "db", "redis"])(
    "ASVS 5.0 7.4.1, 7.4.3: %s backend: a logout on A refuses the token on B at once; log-out-everywhere on A ends every session on B",
    async (backend) => {
      const client = clientFrom("127.0.0.7");
      const email = unique(`logout-${backend}`);
      await signUp(client, email);
      const first = await tokenOf(client, backend, email);
      const second = await tokenOf(client, backend, email);
      expect((await on("B", client, () => me(client, first))).status).toBe(200);

      const out = await on("A", client, () =>
        client.request("POST", `/auth/${backend}/logout`, { bearer: first }),
      );
      expect(out.status, out.text).toBe(204);
      // The very next request, on B.
      const refused = await on("B", client, () => me(client, first));
      expect(refused.status).toBe(401);
      figures[`${backend}: logout on A -> refused on B, round trip ms`] = Math.round(refused.ms);
      expect((await on("B", client, () => me(client, second))).status).toBe(200);

      const third = await tokenOf(client, backend, email);
      const all = await on("A", client, () =>
        client.request("POST", `/auth/${backend}/logout-all`, { bearer: second }),
      );
      expect(all.status, all.text).toBe(204);
      for (const token of [second, third]) {
        expect((await on("B", client, () => me(client, token))).status).toBe(401);
      }
      // A new login still works, on either.
      const fresh = await tokenOf(client, backend, email);
      expect((await on("B", client, () => me(client, fresh))).status).toBe(200);
      expect((await on("A", client, () => me(client, fresh))).status).toBe(200);
    },
  );

  it("ASVS 5.0 3.5.1: the cookie backend's CSRF token issued by A is accepted by B; missing or signed with another key, refused", async () => {
    const browser = clientFrom("127.0.0.8", true);
    const email = unique("csrf");
    await signUp(browser, email);
    const signedIn = await on("A", browser, () => login(browser, "cookie", email));
    expect(signedIn.status, signedIn.text).toBe(204);
    expect(browser.cookies.has("tessera_csrf")).toBe(true);
    const change = (csrf: boolean) => browser.request("PATCH", "/users/me", { json: {}, csrf });

    const accepted = await on("B", browser, () => change(true));
    expect(accepted.status, accepted.text).toBe(200);
    const missing = await on("B", browser, () => change(false));
    expect([missing.status, detail(missing)]).toEqual([403, "CSRF_FAILED"]);
    // The same shape, signed with a key the instances do not share: refused.
    const nonce = randomBytes(18).toString("base64url");
    const forged = `${nonce}.${createHmac("sha256", randomBytes(32)).update(nonce).digest("base64url")}`;
    const issued = browser.cookies.get("tessera_csrf") as string;
    browser.cookies.set("tessera_csrf", forged);
    const wrongKey = await on("A", browser, () => change(true));
    expect([wrongKey.status, detail(wrongKey)]).toEqual([403, "CSRF_FAILED"]);
    browser.cookies.set("tessera_csrf", issued);
    const logout = await on("A", browser, () =>
      browser.request("POST", "/auth/cookie/logout", { csrf: true }),
    );
    expect(logout.status, logout.text).toBe(204);
  });

  it("ASVS 5.0 7.2.4: refresh on A, the child used, the parent replayed on B: the session ends everywhere", async () => {
    const client = clientFrom("127.0.0.9");
    const email = unique("theft");
    await signUp(client, email);
    const refresh = (token: string) =>
      client.request("POST", "/auth/refresh/refresh", {
        form: { grant_type: "refresh_token", refresh_token: token },
      });
    const pairOf = (res: Reply) => res.body as { access_token: string; refresh_token: string };
    const first = pairOf(await login(client, "refresh", email));

    const child = await on("A", client, () => refresh(first.refresh_token));
    expect(child.status, child.text).toBe(200);
    // Before its child is used the parent still answers, with the same child, on B too.
    const again = await on("B", client, () => refresh(first.refresh_token));
    expect(pairOf(again).refresh_token).toBe(pairOf(child).refresh_token);
    const grandchild = await on("A", client, () => refresh(pairOf(child).refresh_token));
    expect(grandchild.status).toBe(200);

    const stolen = await on("B", client, () => refresh(first.refresh_token));
    expect([stolen.status, detail(stolen)]).toEqual([401, "REFRESH_TOKEN_REUSED"]);
    const after = await on("A", client, () => refresh(pairOf(grandchild).refresh_token));
    expect([after.status, detail(after)]).toEqual([401, "REFRESH_TOKEN_INVALID"]);
    // B detected it, so B mailed the owner.
    const b = instances.find((i) => i.name === "B");
    let mails: ReturnType<typeof readOutbox> = [];
    for (let i = 0; i < 100 && mails.length === 0; i++) {
      mails = readOutbox(join(b?.dataDir ?? "", "outbox")).filter(
        (m) => m.to === email && /old sign-in token/.test(m.subject),
      );
      if (mails.length === 0) await new Promise((r) => setTimeout(r, 50));
    }
    expect(mails).toHaveLength(1);
  });

  it("concurrent refreshes with one token, spread over both instances, all get the one child", async () => {
    const client = clientFrom("127.0.0.10");
    const email = unique("concurrent");
    await signUp(client, email);
    const first = (await login(client, "refresh", email)).body as { refresh_token: string };
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        client.request("POST", "/auth/refresh/refresh", {
          form: { grant_type: "refresh_token", refresh_token: first.refresh_token },
        }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(new Set(answers.map(servedBy))).toEqual(new Set(["A", "B"]));
    const children = new Set(
      answers.map((a) => (a.body as { refresh_token: string }).refresh_token),
    );
    expect(children.size).toBe(1);
    // One session, as both instances list it; its one chain goes on.
    const access = (answers[0]?.body as { access_token: string } | undefined)?.access_token ?? "";
    for (const name of ["A", "B"] as const) {
      const list = await on(name, client, () =>
        client.request("GET", "/users/me/sessions", { bearer: access }),
      );
      expect(list.status, list.text).toBe(200);
      expect(list.body).toEqual([
        expect.objectContaining({ ip_address: "127.0.0.10", current: true }),
      ]);
    }
    const next = await client.request("POST", "/auth/refresh/refresh", {
      form: { grant_type: "refresh_token", refresh_token: [...children][0] as string },
    });
    expect(next.status, next.text).toBe(200);
  });

  it("ASVS 5.0 7.4.3: a password change on A ends the user's other sessions on B, every backend", async () => {
    const client = clientFrom("127.0.0.11");
    const email = unique("password");
    await signUp(client, email);
    const changer = await tokenOf(client, "db", email);
    const others = {
      db: await tokenOf(client, "db", email),
      jwt: await tokenOf(client, "jwt", email),
      redis: await tokenOf(client, "redis", email),
    };
    const refreshPair = (await login(client, "refresh", email)).body as { refresh_token: string };
    for (const token of Object.values(others)) {
      expect((await me(client, token)).status).toBe(200);
    }

    const changed = await on("A", client, () =>
      client.request("PATCH", "/users/me", {
        json: { password: NEW_PASSWORD, current_password: PASSWORD },
        bearer: changer,
      }),
    );
    expect(changed.status, changed.text).toBe(200);
    for (const [backend, token] of Object.entries(others)) {
      const res = await on("B", client, () => me(client, token));
      expect(res.status, backend).toBe(401);
    }
    const refreshed = await on("B", client, () =>
      client.request("POST", "/auth/refresh/refresh", {
        form: { grant_type: "refresh_token", refresh_token: refreshPair.refresh_token },
      }),
    );
    expect([refreshed.status, detail(refreshed)]).toEqual([401, "REFRESH_TOKEN_INVALID"]);
    // The session that changed the password stays, on both.
    expect((await on("B", client, () => me(client, changer))).status).toBe(200);
    expect((await on("A", client, () => me(client, changer))).status).toBe(200);
    // The new password works on both; the old one on neither.
    expect((await on("B", client, () => login(client, "jwt", email, NEW_PASSWORD))).status).toBe(
      200,
    );
    expect((await on("A", client, () => login(client, "jwt", email))).status).toBe(400);
  });

  it("ASVS 5.0 6.5.1: an MFA login begun on A completes on B, once", async () => {
    const client = clientFrom("127.0.0.12");
    const email = unique("mfa");
    await signUp(client, email);
    const bearer = await tokenOf(client, "jwt", email);
    const enrol = await client.request("POST", "/users/me/mfa/totp", { bearer });
    expect(enrol.status, enrol.text).toBe(200);
    const secret = (enrol.body as { secret: string }).secret;
    const step = stepAt(Date.now());
    const confirm = await client.request("POST", "/users/me/mfa/totp/confirm", {
      json: { code: totpAtStep(secret, step) },
      bearer,
    });
    expect(confirm.status, confirm.text).toBe(200);

    const challenge = await on("A", client, () => login(client, "jwt", email));
    expect([challenge.status, detail(challenge)]).toEqual([400, "LOGIN_MFA_REQUIRED"]);
    const token = (challenge.body as { mfa_token: string }).mfa_token;
    const done = await on("B", client, () =>
      client.request("POST", "/auth/jwt/login/mfa", {
        json: { mfa_token: token, code: totpAtStep(secret, step + 1) },
      }),
    );
    expect(done.status, done.text).toBe(200);
    const replay = await on("A", client, () =>
      client.request("POST", "/auth/jwt/login/mfa", {
        json: { mfa_token: token, code: totpAtStep(secret, step + 2) },
      }),
    );
    expect([replay.status, detail(replay)]).toEqual([400, "MFA_TOKEN_USED"]);
  });

  it("ASVS 5.0 10.1.2: an OAuth sign-in begun on A calls back to B; the state replayed on A is refused", async () => {
    const browser = clientFrom("127.0.0.13", true);
    const begun = await on("A", browser, () => browser.request("GET", "/auth/local/authorize"));
    expect(begun.status, begun.text).toBe(200);
    const authorizationUrl = (begun.body as { authorization_url: string }).authorization_url;
    const callback = await signInAtProvider(authorizationUrl, { login: "alice" });
    expect(callback.origin).toBe(proxy.url);
    const path = callback.pathname + callback.search;
    const landed = await on("B", browser, () => browser.request("GET", path));
    expect(landed.status, landed.text).toBe(303);
    expect(browser.cookies.has("tessera_access")).toBe(true);
    const replay = await on("A", browser, () => browser.request("GET", path));
    expect([replay.status, detail(replay)]).toEqual([400, "OAUTH_INVALID_STATE"]);
  });

  it("N requests through the proxy: each instance serves half, every answer right (figures printed)", async () => {
    const client = clientFrom("127.0.0.14");
    const email = unique("many");
    await signUp(client, email);
    const token = await tokenOf(client, "jwt", email);
    const before = new Map(proxy.served);
    const N = 400;
    const CONCURRENCY = 8;
    const started = performance.now();
    const statuses: number[] = [];
    let sent = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (sent < N) {
          sent++;
          statuses.push((await me(client, token)).status);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    expect(statuses).toEqual(Array(N).fill(200));
    const delta = (name: string) => (proxy.served.get(name) ?? 0) - (before.get(name) ?? 0);
    expect(delta("A") + delta("B")).toBe(N);
    expect(Math.abs(delta("A") - delta("B"))).toBeLessThanOrEqual(1);
    figures[
      `GET /users/me (jwt, Redis denylist) x ${N} through the proxy, ${CONCURRENCY} at a time`
    ] = {
      seconds: Number(seconds.toFixed(2)),
      perSecond: Math.round(N / seconds),
      servedByA: delta("A"),
      servedByB: delta("B"),
    };
  });
});
