// Behind a reverse proxy: which of Koa's settings (`app.proxy`, `app.proxyIpHeader`,
// `app.maxIpsCount`) and Tessera's `rateLimit.trustedProxies` decides what, as
// docs/deployment.md states it. Tessera never reads Koa's settings: the client address of
// the rate limiter and of a session's device is the TCP peer, or X-Forwarded-For read from
// the right when the peer is a trusted proxy (ASVS 5.0 15.3.4). Koa's `ctx.ip` (the app's
// own code, access logs) follows `app.proxy` and takes the leftmost entry. Cookies Tessera
// writes carry `Secure` whatever Koa thinks of the protocol; the CSRF Origin check compares
// with `ctx.host`, which `app.proxy` takes from X-Forwarded-Host (ASVS 5.0 3.5.1).
import { AuthenticationBackend, CookieTransport, type Strategy, UserManager } from "@tessera/core";
import { Tessera } from "@tessera/koa";
import { JWTStrategy } from "@tessera/strategy-jwt";
import Koa, { type Context, type Middleware } from "koa";
import { afterEach, describe, expect, it } from "vitest";
import { type AppOptions, startApp, type TestApp } from "../support/app.js";
import { Client, register, request } from "../support/client.js";
import { openStore, type StoreUser } from "../support/stores.js";

const PASSWORD = "correct horse battery";
const LIMIT = 3;
let app: TestApp;
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** What Koa itself makes of the request: `GET /koa` answers it. */
const koaView: Middleware = async (ctx, next) => {
  if (ctx.path !== "/koa") return next();
  ctx.body = { ip: ctx.ip, ips: ctx.ips, protocol: ctx.protocol, host: ctx.host };
};

async function start(trustedProxies: string[], koa: Partial<Koa> = {}) {
  const options: AppOptions = {
    middleware: [koaView],
    rateLimit: {
      trustedProxies,
      routes: { login: { client: { limit: LIMIT, windowSeconds: 60 } } },
    },
  };
  app = await startApp(options);
  const started = app;
  closers.push(() => started.close());
  Object.assign(app.koa, koa);
  await register(app.url, "ada@example.com", PASSWORD);
}

const failedLogin = (forwardedFor: string, extra: Record<string, string> = {}) =>
  request(`${app.url}/auth/jwt/login`, {
    form: { username: `nobody${Math.random()}@example.com`, password: "wrong" },
    headers: { "x-forwarded-for": forwardedFor, ...extra },
  });

const koaSees = async (headers: Record<string, string>) =>
  (await request(`${app.url}/koa`, { headers })).body as { ip: string; ips: string[] };

/** The address a new session of ada is listed with (`ip_address` of GET /users/me/sessions). */
async function sessionAddress(forwarded: string | Record<string, string>): Promise<string | null> {
  const login = await request(`${app.url}/auth/db/login`, {
    form: { username: "ada@example.com", password: PASSWORD },
    headers: typeof forwarded === "string" ? { "x-forwarded-for": forwarded } : forwarded,
  });
  expect(login.status, login.text).toBe(200);
  const bearer = (login.body as { access_token: string }).access_token;
  const sessions = (await request(`${app.url}/users/me/sessions`, { bearer })).body as {
    ip_address: string | null;
    current: boolean;
  }[];
  return sessions.find((s) => s.current)?.ip_address ?? null;
}

const loopback = (ip: string) => ip.replace(/^::ffff:/, "");

describe("client address: Tessera's trustedProxies, never Koa's app.proxy", () => {
  it("ASVS 5.0 15.3.4: app.proxy = true but trustedProxies empty: Koa believes X-Forwarded-For, Tessera keys on the proxy, so every client behind it shares one bucket", async () => {
    await start([], { proxy: true });
    expect((await koaSees({ "x-forwarded-for": "198.51.100.1" })).ip).toBe("198.51.100.1");
    // A session's device is the proxy's address, whatever the header says.
    expect(loopback((await sessionAddress("198.51.100.5")) ?? "")).toBe("127.0.0.1");
    for (let i = 1; i <= LIMIT; i++) {
      expect((await failedLogin(`198.51.100.${i}`)).status).toBe(400);
    }
    // A different client, as the header says: refused all the same.
    expect((await failedLogin("198.51.100.99")).status).toBe(429);
  });

  it("ASVS 5.0 15.3.4: trustedProxies set, app.proxy false (Koa's default): Tessera reads X-Forwarded-For, Koa's ctx.ip stays the proxy", async () => {
    await start(["127.0.0.1", "::1"]);
    expect(loopback((await koaSees({ "x-forwarded-for": "198.51.100.1" })).ip)).toBe("127.0.0.1");
    for (let i = 0; i < LIMIT; i++) expect((await failedLogin("198.51.100.7")).status).toBe(400);
    expect((await failedLogin("198.51.100.7")).status).toBe(429);
    expect((await failedLogin("198.51.100.8")).status).toBe(400);
    expect(await sessionAddress("198.51.100.5")).toBe("198.51.100.5");
  });

  it("ASVS 5.0 15.3.4: both set: Koa takes the leftmost entry (a client writes it), Tessera the rightmost untrusted one; maxIpsCount = 1 makes Koa agree", async () => {
    await start(["127.0.0.1", "::1"], { proxy: true });
    // The client sent "X-Forwarded-For: 203.0.113.66"; the proxy appended the real peer.
    const chain = "203.0.113.66, 198.51.100.20";
    expect((await koaSees({ "x-forwarded-for": chain })).ip).toBe("203.0.113.66");
    expect(await sessionAddress(chain)).toBe("198.51.100.20");
    // Changing the forged part changes nothing for the limiter.
    for (let i = 0; i < LIMIT; i++) {
      expect((await failedLogin(`203.0.113.${i}, 198.51.100.20`)).status).toBe(400);
    }
    expect((await failedLogin("203.0.113.77, 198.51.100.20")).status).toBe(429);
    app.koa.maxIpsCount = 1;
    expect((await koaSees({ "x-forwarded-for": chain })).ip).toBe("198.51.100.20");
  });

  it("app.proxyIpHeader is Koa's alone: Tessera reads X-Forwarded-For, never X-Real-IP", async () => {
    await start(["127.0.0.1", "::1"], { proxy: true, proxyIpHeader: "X-Real-IP" });
    expect((await koaSees({ "x-real-ip": "198.51.100.30" })).ip).toBe("198.51.100.30");
    // Distinct X-Real-IP values, one X-Forwarded-For: one client for Tessera.
    for (let i = 0; i < LIMIT; i++) {
      const res = await failedLogin("198.51.100.40", { "x-real-ip": `198.51.100.${50 + i}` });
      expect(res.status).toBe(400);
    }
    expect((await failedLogin("198.51.100.40", { "x-real-ip": "198.51.100.60" })).status).toBe(429);
    // Only X-Real-IP: the peer (the proxy) is the client for Tessera.
    expect(loopback((await sessionAddress({ "x-real-ip": "198.51.100.31" })) ?? "")).toBe(
      "127.0.0.1",
    );
  });
});

describe("the CSRF Origin check compares with ctx.host (ASVS 5.0 3.5.1)", () => {
  const cookieLogin = (headers: Record<string, string>) =>
    request(`${app.url}/auth/cookie/login`, {
      form: { username: "ada@example.com", password: PASSWORD },
      headers,
    });

  it("a proxy that keeps the Host header needs nothing; one that sends X-Forwarded-Host needs app.proxy", async () => {
    await start([]);
    const origin = "https://app.example.com";
    // The browser's Host reached the app: same host, accepted.
    expect((await cookieLogin({ origin, host: "app.example.com" })).status).toBe(204);
    // The proxy rewrote Host and said the original in X-Forwarded-Host: without
    // app.proxy Koa ignores it, and the login looks cross-origin.
    const forwarded = { origin, "x-forwarded-host": "app.example.com" };
    const refused = await cookieLogin(forwarded);
    expect([refused.status, (refused.body as { detail: string }).detail]).toEqual([
      403,
      "CSRF_FAILED",
    ]);
    app.koa.proxy = true;
    expect((await cookieLogin(forwarded)).status).toBe(204);
    // Another site stays refused either way.
    const evil = await cookieLogin({
      origin: "https://evil.example",
      "x-forwarded-host": "app.example.com",
    });
    expect(evil.status).toBe(403);
  });
});

describe("Secure cookies behind a TLS-terminating proxy", () => {
  /** A cookie backend with a `__Host-` cookie (Secure, Path=/), on plain HTTP. */
  async function secureApp(proxy: boolean) {
    const store = await openStore();
    const strategy = new JWTStrategy<StoreUser, string>({
      secret: "a-secret-of-at-least-thirty-two-bytes!!!",
      lifetimeSeconds: 600,
    }) as Strategy<StoreUser, string>;
    const backend = new AuthenticationBackend<StoreUser, string, Context>({
      name: "cookie",
      transport: new CookieTransport({ cookieName: "__Host-session", cookieSecure: true }),
      getStrategy: () => strategy,
    });
    const tessera = new Tessera<StoreUser, string>({
      getUserManager: () =>
        new UserManager<StoreUser, string>({
          userDb: store.users(),
          idParser: store.idParser,
          verificationTokenSecret: "verify-secret-of-at-least-thirty-two-bytes",
          resetPasswordTokenSecret: "reset-secret-of-at-least-thirty-two-bytes!",
        }),
      backends: [backend],
      rateLimit: { trustedProxies: ["127.0.0.1", "::1"] },
    });
    const koa = new Koa({ proxy });
    koa.silent = true;
    // The app's own cookie, through Koa: Koa refuses Secure unless ctx.secure.
    koa.use(async (ctx, next) => {
      if (ctx.path !== "/own-cookie") return next();
      ctx.cookies.set("theme", "dark", { secure: true });
      ctx.body = { protocol: ctx.protocol };
    });
    koa.use(tessera.authRouter(backend, { prefix: "/auth/cookie" }).routes());
    koa.use(tessera.registerRouter({ prefix: "/auth" }).routes());
    koa.use(tessera.usersRouter({ prefix: "/users" }).routes());
    const server = koa.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    const address = server.address();
    const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    closers.push(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await store.reset();
    });
    return url;
  }

  it.each([false, true])(
    "app.proxy = %s: Tessera's login sets its __Host- cookie with Secure, and the browser's next request is authenticated",
    async (proxy) => {
      const url = await secureApp(proxy);
      const tls = { "x-forwarded-proto": "https", "x-forwarded-for": "198.51.100.3" };
      expect((await register(url, "bob@example.com", PASSWORD)).status).toBe(201);
      const browser = new Client(url, { cookieJar: true });
      closers.push(() => browser.close());
      const login = await browser.request("POST", "/auth/cookie/login", {
        form: { username: "bob@example.com", password: PASSWORD },
        headers: tls,
      });
      expect(login.status, login.text).toBe(204);
      const cookie = login.headers.getSetCookie().find((c) => c.startsWith("__Host-session="));
      expect(cookie).toMatch(/; Secure/);
      expect(cookie).toMatch(/; Path=\//);
      expect(cookie).not.toMatch(/Domain=/i);
      expect((await browser.request("GET", "/users/me", { headers: tls })).status).toBe(200);
      // The app's own Secure cookie through Koa: only with app.proxy (which trusts
      // X-Forwarded-Proto) does Koa know the request came over TLS.
      const own = await browser.request("GET", "/own-cookie", { headers: tls });
      expect(own.status).toBe(proxy ? 200 : 500);
    },
  );
});
