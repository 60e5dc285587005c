// Sign in with OAuth2 / OpenID Connect over HTTP (issue 16): the Koa routers of @tessera/koa
// on @tessera/oauth's flow, against the suite's real provider (oidc-provider on loopback,
// inject("oidc")): GET /authorize → the provider's login and consent pages (the harness'
// browser helper) → GET /callback → logged in through each transport. No mocked provider.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { AuthenticationBackend } from "@tessera/core";
import type { OAuthFlowLike, OAuthRouterOptions, TesseraRouter } from "@tessera/koa";
import { OAuthFlow, type OAuthProvider, oidcProvider, StateSealer } from "@tessera/oauth";
import type { Context } from "koa";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { freePort } from "../harness/net.js";
import { signInAtProvider } from "../harness/oidc-browser.js";
import {
  newSigningKey,
  type RunningOidcProvider,
  startOidcProvider,
} from "../harness/oidc-provider.js";
import type { OidcProviderInfo } from "../harness/types.js";
import { cipher, githubOf, oidc, oidcOf, STATE_SECRET } from "../oauth/support.js";
import { type AppOptions, startApp, type TestApp } from "../support/app.js";
import { bearerMode, register, request } from "../support/client.js";
import type { StoreUser } from "../support/stores.js";

type Backend = AuthenticationBackend<StoreUser, string, Context>;

/** One sign-in router of a test app. */
interface LoginMount {
  /** Mounted at `/auth/<path>`. */
  path: string;
  backend: string;
  /** The provider (its name is the stored `oauth_name`). @default the suite's provider as "idp" */
  provider?: OAuthProvider;
  options?: OAuthRouterOptions;
}

interface OAuthApp extends TestApp {
  flows: Record<string, OAuthFlow>;
}

const apps: TestApp[] = [];
const providers: RunningOidcProvider[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});
afterAll(async () => {
  await Promise.all(providers.map((p) => p.close()));
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

/**
 * A test app with sign-in routers, the associate router of `idp` at `/auth/associate/idp`
 * and the linked-accounts routes under `/users`.
 */
async function appWith(logins: LoginMount[], more: AppOptions = {}): Promise<OAuthApp> {
  const flows: Record<string, OAuthFlow> = {};
  const app = await startApp({
    refresh: {},
    ...more,
    oauth: ({ url, tessera, backends }) => {
      const routers: TesseraRouter[] = [];
      for (const login of logins) {
        const flow = new OAuthFlow({
          provider: login.provider ?? oidcOf(),
          redirectUri: `${url}/auth/${login.path}/callback`,
          stateSecret: STATE_SECRET,
          tokenCipher: cipher,
        });
        flows[login.path] = flow;
        routers.push(
          tessera.oauthRouter(flow, backends[login.backend] as Backend, {
            prefix: `/auth/${login.path}`,
            ...login.options,
          }),
        );
      }
      const associate = new OAuthFlow({
        provider: oidcOf(),
        redirectUri: `${url}/auth/idp/callback`,
        associateRedirectUri: `${url}/auth/associate/idp/callback`,
        stateSecret: STATE_SECRET,
        tokenCipher: cipher,
      });
      flows["associate/idp"] = associate;
      routers.push(tessera.oauthAssociateRouter(associate, { prefix: "/auth/associate/idp" }));
      routers.push(tessera.oauthAccountsRouter({ prefix: "/users" }));
      return routers;
    },
  });
  apps.push(app);
  return Object.assign(app, { flows });
}

/** The `name=value` of a Set-Cookie line. */
const pairOf = (line: string) => line.split(";")[0] ?? "";

/** `GET {prefix}/authorize`: the authorization URL and the state cookie (`name=value`). */
async function authorize(app: TestApp, path: string, headers: Record<string, string> = {}) {
  const res = await request(`${app.url}/auth/${path}/authorize`, { headers });
  expect(res.status, res.text).toBe(200);
  const line = res.headers.getSetCookie().find((c) => c.startsWith("__Host-tessera_oauth="));
  expect(line).toBeDefined();
  return {
    url: (res.body as { authorization_url: string }).authorization_url,
    cookie: pairOf(line as string),
    setCookie: line as string,
    res,
  };
}

/** The browser at the provider: its login (and consent); the query it brings back. */
async function atProvider(app: TestApp, path: string, url: string, login: string, abort = false) {
  const callback = await signInAtProvider(url, {
    login,
    abort,
    callbackPrefix: `${app.url}/auth/${path}/callback`,
  });
  return callback.search;
}

/** `GET {prefix}/callback` with a query and a Cookie header. */
function callback(
  app: TestApp,
  path: string,
  search: string,
  cookie: string | undefined,
  headers: Record<string, string> = {},
) {
  return request(`${app.url}/auth/${path}/callback${search}`, {
    headers: { ...headers, ...(cookie ? { cookie } : {}) },
  });
}

/** The whole flow in one browser: authorize → provider → callback. */
async function signIn(
  app: TestApp,
  path: string,
  login: string,
  headers: Record<string, string> = {},
) {
  const begun = await authorize(app, path, headers);
  const search = await atProvider(app, path, begun.url, login);
  const res = await callback(app, path, search, begun.cookie, headers);
  return { res, begun, search };
}

const detail = (res: { body: unknown }) => (res.body as { detail: unknown }).detail;
const bearerOf = (res: { body: unknown }) => ({
  authorization: `Bearer ${(res.body as { access_token: string }).access_token}`,
});
const me = async (app: TestApp, headers: Record<string, string>) =>
  (await request(`${app.url}/users/me`, { headers })).body as Record<string, unknown>;

/** The state cookie is deleted by a callback's answer, whatever it is. */
function expectStateCleared(res: { headers: Headers }) {
  const line = res.headers.getSetCookie().find((c) => c.startsWith("__Host-tessera_oauth="));
  expect(line).toMatch(/^__Host-tessera_oauth=;/);
  expect(line).toMatch(/Max-Age=0/i);
}

describe("sign in over HTTP: authorize → provider → callback → logged in", () => {
  it("GET /authorize: the provider's URL with PKCE S256, nonce and the configured redirect URI, and a __Host- state cookie (ASVS 5.0 10.2.1, 10.4.1, 3.3.1)", async () => {
    const app = await appWith([{ path: "idp", backend: "jwt" }]);
    const begun = await authorize(app, "idp", { host: "evil.example" });
    const url = new URL(begun.url);
    expect(url.origin).toBe(oidc().issuer);
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(url.searchParams.get("nonce")).toMatch(/.{20,}/);
    expect(url.searchParams.get("state")).toMatch(/.{40,}/);
    // Fixed by configuration: the request's Host does not reach it.
    expect(url.searchParams.get("redirect_uri")).toBe(`${app.url}/auth/idp/callback`);
    expect(begun.setCookie).toMatch(/; Path=\//);
    expect(begun.setCookie).toMatch(/; Secure/i);
    expect(begun.setCookie).toMatch(/; HttpOnly/i);
    expect(begun.setCookie).toMatch(/; SameSite=Lax/i);
    expect(begun.setCookie).not.toMatch(/Domain=/i);
    expect(begun.res.headers.get("cache-control")).toBe("no-store");

    const scoped = await request(
      `${app.url}/auth/idp/authorize?scopes=openid&scopes=email&scopes=profile`,
    );
    const scope = new URL(
      (scoped.body as { authorization_url: string }).authorization_url,
    ).searchParams.get("scope");
    expect(scope).toBe("openid email profile");
    for (const bad of ["scopes=a%20b", "scopes=", `scopes=${"x".repeat(300)}`]) {
      const res = await request(`${app.url}/auth/idp/authorize?${bad}`);
      expect(res.status).toBe(400);
      expect(detail(res)).toBe("OAUTH_INVALID_SCOPE");
    }
  });

  it("Bearer: the callback answers the transport's token; a first login creates the user, unverified by default", async () => {
    const app = await appWith([{ path: "idp", backend: "jwt" }]);
    const { res } = await signIn(app, "idp", "alice");
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ token_type: "bearer" });
    expectStateCleared(res);
    const user = await me(app, bearerOf(res));
    expect(user).toMatchObject({ email: "alice@example.com", is_active: true, is_verified: false });
    // A second login is the same user (identity: provider + account id).
    const again = await signIn(app, "idp", "alice");
    expect((await me(app, bearerOf(again.res))).id).toBe(user.id);
    expect(await app.userCount()).toBe(1);
    // The provider's tokens are stored encrypted (ASVS 5.0 10.4.x, 14.2.x).
    const stored = await app
      .userManager()
      .listOAuthAccounts((await app.userDb.getByEmail("alice@example.com")) as StoreUser);
    expect(stored).toHaveLength(1);
    expect(stored[0]?.accessToken).toMatch(/^v1\.test-2\./);
  });

  it("isVerifiedByDefault: a user created from a provider-verified email is verified", async () => {
    const app = await appWith([
      { path: "idp", backend: "jwt", options: { isVerifiedByDefault: true } },
    ]);
    const { res } = await signIn(app, "idp", "alice");
    expect((await me(app, bearerOf(res))).is_verified).toBe(true);
  });

  it("cookie: 204 with the auth cookie and the CSRF cookie, the state cookie deleted", async () => {
    const app = await appWith([{ path: "idp", backend: "cookie" }]);
    const { res } = await signIn(app, "idp", "alice");
    expect(res.status, res.text).toBe(204);
    const cookies = res.headers.getSetCookie();
    const auth = cookies.find((c) => c.startsWith("tessera_auth="));
    expect(auth).toMatch(/HttpOnly/i);
    expect(cookies.some((c) => c.startsWith("tessera_csrf="))).toBe(true);
    expectStateCleared(res);
    expect((await me(app, { cookie: pairOf(auth as string) })).email).toBe("alice@example.com");
  });

  it("refresh-token backend: the token pair, and the refresh token rotates at /refresh", async () => {
    const app = await appWith([{ path: "idp", backend: "refresh" }]);
    const { res } = await signIn(app, "idp", "alice");
    expect(res.status, res.text).toBe(200);
    const pair = res.body as { access_token: string; refresh_token: string; expires_in: number };
    expect(pair.refresh_token).toBeTruthy();
    expect(pair.expires_in).toBeGreaterThan(0);
    expect((await me(app, bearerOf(res))).email).toBe("alice@example.com");
    const refreshed = await request(`${app.url}/auth/refresh/refresh`, {
      form: { grant_type: "refresh_token", refresh_token: pair.refresh_token },
    });
    expect(refreshed.status, refreshed.text).toBe(200);
  });

  it("database backend: the session records the device it came from, and onAfterLogin runs", async () => {
    const logins: string[] = [];
    const app = await appWith([{ path: "idp", backend: "db" }], {
      hooks: {
        onAfterLogin: (user) => {
          logins.push(user.email);
        },
      },
    });
    const { res } = await signIn(app, "idp", "alice", { "user-agent": "OAuthTest/1.0" });
    expect(res.status, res.text).toBe(200);
    expect(logins).toEqual(["alice@example.com"]);
    const sessions = await request(`${app.url}/users/me/sessions`, { headers: bearerOf(res) });
    expect(sessions.body).toEqual([
      expect.objectContaining({ backend: "db", user_agent: "OAuthTest/1.0", current: true }),
    ]);
  });

  it("redirectTo: 303 to the front-end with the auth cookie set; refused for a Bearer backend", async () => {
    const app = await appWith([
      { path: "idp", backend: "cookie", options: { redirectTo: "/welcome" } },
    ]);
    const { res } = await signIn(app, "idp", "alice");
    expect(res.status, res.text).toBe(303);
    expect(res.headers.get("location")).toBe("/welcome");
    const auth = res.headers.getSetCookie().find((c) => c.startsWith("tessera_auth="));
    expect((await me(app, { cookie: pairOf(auth as string) })).email).toBe("alice@example.com");
    await expect(
      appWith([{ path: "idp", backend: "jwt", options: { redirectTo: "/welcome" } }]),
    ).rejects.toThrow(/no cookie backend/);
  });

  it("GitHub-style (plain OAuth2, user API) through the same router", async () => {
    const app = await appWith([{ path: "github", backend: "jwt", provider: githubOf() }]);
    const begun = await authorize(app, "github");
    expect(new URL(begun.url).searchParams.get("nonce")).toBeNull();
    const search = await atProvider(app, "github", begun.url, "alice");
    const res = await callback(app, "github", search, begun.cookie);
    expect(res.status, res.text).toBe(200);
    const user = await me(app, bearerOf(res));
    expect(user.email).toBe("alice@example.com");
    const accounts = await request(`${app.url}/users/me/oauth-accounts`, {
      headers: bearerOf(res),
    });
    expect(accounts.body).toEqual([
      expect.objectContaining({
        oauth_name: "github",
        account_id: "1001",
        account_email: "alice@example.com",
      }),
    ]);
  });
});

describe("the callback's refusals", () => {
  it("a replayed callback: 400 OAUTH_INVALID_STATE, the state is single-use (ASVS 5.0 10.1.2)", async () => {
    const app = await appWith([{ path: "idp", backend: "jwt" }]);
    const { res, begun, search } = await signIn(app, "idp", "alice");
    expect(res.status).toBe(200);
    const replay = await callback(app, "idp", search, begun.cookie);
    expect(replay.status).toBe(400);
    expect(detail(replay)).toBe("OAUTH_INVALID_STATE");
    expectStateCleared(replay);
  });

  it("a state from another browser, or none: 400 OAUTH_INVALID_STATE, and the victim is not logged in (CVE-2025-68481, ASVS 5.0 10.1.2)", async () => {
    const app = await appWith([{ path: "idp", backend: "cookie" }]);
    // The attacker signs in with their own account and stops before their callback.
    const attacker = await authorize(app, "idp");
    const search = await atProvider(app, "idp", attacker.url, "bob");
    // The victim's browser (another cookie jar) began its own sign-in, or none.
    const victim = await authorize(app, "idp");
    for (const cookie of [victim.cookie, undefined]) {
      const res = await callback(app, "idp", search, cookie);
      expect(res.status).toBe(400);
      expect(detail(res)).toBe("OAUTH_INVALID_STATE");
      expect(res.headers.getSetCookie().some((c) => c.startsWith("tessera_auth="))).toBe(false);
    }
    expect(await app.userCount()).toBe(0);
  });

  it("a tampered state cookie (the PKCE verifier's only copy): 400 OAUTH_INVALID_STATE; a wrong verifier: the provider refuses, 400 OAUTH_PROVIDER_ERROR (ASVS 5.0 10.2.1)", async () => {
    const app = await appWith([{ path: "idp", backend: "jwt" }]);
    const first = await authorize(app, "idp");
    const firstSearch = await atProvider(app, "idp", first.url, "alice");
    const [name, value = ""] = first.cookie.split("=");
    const raw = Buffer.from(value, "base64url");
    raw[30] = (raw[30] as number) ^ 0x01;
    const tampered = await callback(
      app,
      "idp",
      firstSearch,
      `${name}=${raw.toString("base64url")}`,
    );
    expect(tampered.status).toBe(400);
    expect(detail(tampered)).toBe("OAUTH_INVALID_STATE");

    const sealer = new StateSealer(STATE_SECRET);
    const second = await authorize(app, "idp");
    const search = await atProvider(app, "idp", second.url, "alice");
    const payload = sealer.open(second.cookie.slice(`${name}=`.length));
    if (!payload) throw new Error("the cookie should open");
    const wrong = sealer.seal({ ...payload, codeVerifier: "x".repeat(43) });
    const res = await callback(app, "idp", search, `${name}=${wrong}`);
    expect(res.status).toBe(400);
    expect(detail(res)).toBe("OAUTH_PROVIDER_ERROR");
    expect(await app.userCount()).toBe(0);
  });

  it("an ID token whose nonce is not the state's: 400 OAUTH_INVALID_RESPONSE (ASVS 5.0 10.5.1)", async () => {
    const app = await appWith([{ path: "idp", backend: "jwt" }]);
    const begun = await authorize(app, "idp");
    const search = await atProvider(app, "idp", begun.url, "alice");
    const sealer = new StateSealer(STATE_SECRET);
    const [name] = begun.cookie.split("=");
    const payload = sealer.open(begun.cookie.slice(`${name}=`.length));
    if (!payload) throw new Error("the cookie should open");
    const otherNonce = sealer.seal({ ...payload, nonce: "another-nonce-0123456789abcdef01234" });
    const res = await callback(app, "idp", search, `${name}=${otherNonce}`);
    expect(res.status).toBe(400);
    expect(detail(res)).toBe("OAUTH_INVALID_RESPONSE");
    expect(await app.userCount()).toBe(0);
  });

  it("an ID token signed by a key the issuer does not publish: 400 OAUTH_INVALID_RESPONSE (ASVS 5.0 10.5.x, 9.1.1)", async () => {
    const published = await newSigningKey("key-1");
    const forger = await newSigningKey("key-1");
    const rogue = await startOidcProvider({
      signingKey: forger.priv,
      publishedJwks: { keys: [published.pub] },
    });
    providers.push(rogue);
    const app = await appWith([{ path: "idp", backend: "jwt", provider: oidcOf(rogue.info) }]);
    const { res } = await signIn(app, "idp", "alice");
    expect(res.status).toBe(400);
    expect(detail(res)).toBe("OAUTH_INVALID_RESPONSE");
    expect(await app.userCount()).toBe(0);
  });

  it("the user cancels at the provider (error=access_denied): 400 OAUTH_ACCESS_DENIED", async () => {
    const app = await appWith([{ path: "idp", backend: "jwt" }]);
    const begun = await authorize(app, "idp");
    const search = await atProvider(app, "idp", begun.url, "alice", true);
    expect(new URLSearchParams(search).get("error")).toBe("access_denied");
    const res = await callback(app, "idp", search, begun.cookie);
    expect(res.status).toBe(400);
    expect(detail(res)).toBe("OAUTH_ACCESS_DENIED");
    expectStateCleared(res);
  });

  it("no email from the provider: 400 OAUTH_NOT_AVAILABLE_EMAIL", async () => {
    const app = await appWith([{ path: "idp", backend: "jwt" }]);
    const { res } = await signIn(app, "idp", "carol");
    expect(res.status).toBe(400);
    expect(detail(res)).toBe("OAUTH_NOT_AVAILABLE_EMAIL");
    expect(await app.userCount()).toBe(0);
  });

  it("an unverified provider email creates no user by default: 400 OAUTH_EMAIL_NOT_VERIFIED; createUserFromUnverifiedEmail creates it, as FastAPI Users (account pre-hijacking, ASVS 5.0 10.5.x)", async () => {
    const app = await appWith([
      { path: "idp", backend: "jwt" },
      { path: "lax", backend: "jwt", options: { createUserFromUnverifiedEmail: true } },
    ]);
    const refused = await signIn(app, "idp", "bob");
    expect(refused.res.status).toBe(400);
    expect(detail(refused.res)).toBe("OAUTH_EMAIL_NOT_VERIFIED");
    expect(await app.userCount()).toBe(0);
    const created = await signIn(app, "lax", "bob");
    expect(created.res.status, created.res.text).toBe(200);
    expect(await me(app, bearerOf(created.res))).toMatchObject({
      email: "bob@example.com",
      is_verified: false,
    });
    // Linked now: the account logs in through the strict router too.
    const linked = await signIn(app, "idp", "bob");
    expect(linked.res.status).toBe(200);
  });

  it("an email a user has: 400 OAUTH_USER_ALREADY_EXISTS; associateByEmail logs in as that user when the provider verified it", async () => {
    const app = await appWith([
      { path: "idp", backend: "jwt" },
      { path: "by-email", backend: "jwt", options: { associateByEmail: true } },
    ]);
    await register(app.url, "alice@example.com");
    const refused = await signIn(app, "idp", "alice");
    expect(refused.res.status).toBe(400);
    expect(detail(refused.res)).toBe("OAUTH_USER_ALREADY_EXISTS");
    const password = await bearerMode.login(app.url, "alice@example.com", "correct horse battery");
    const owner = await me(app, password);
    const joined = await signIn(app, "by-email", "alice");
    expect(joined.res.status, joined.res.text).toBe(200);
    expect((await me(app, bearerOf(joined.res))).id).toBe(owner.id);
    expect(await app.userCount()).toBe(1);
  });

  it("associateByEmail with an email the provider did not verify: refused, the account stays its owner's (ASVS 5.0 10.5.x)", async () => {
    const app = await appWith([
      { path: "by-email", backend: "jwt", options: { associateByEmail: true } },
      {
        path: "by-email-lax",
        backend: "jwt",
        options: { associateByEmail: true, createUserFromUnverifiedEmail: true },
      },
    ]);
    await register(app.url, "bob@example.com");
    const strict = await signIn(app, "by-email", "bob");
    expect(strict.res.status).toBe(400);
    expect(detail(strict.res)).toBe("OAUTH_EMAIL_NOT_VERIFIED");
    // Even where unverified emails may create users, they never associate (core's rule).
    const lax = await signIn(app, "by-email-lax", "bob");
    expect(lax.res.status).toBe(400);
    expect(detail(lax.res)).toBe("OAUTH_USER_ALREADY_EXISTS");
    const password = await bearerMode.login(app.url, "bob@example.com", "correct horse battery");
    const accounts = await request(`${app.url}/users/me/oauth-accounts`, { headers: password });
    expect(accounts.body).toEqual([]);
  });

  it("an inactive user: 400 LOGIN_BAD_CREDENTIALS, as FastAPI Users", async () => {
    const app = await appWith([{ path: "idp", backend: "jwt" }]);
    expect((await signIn(app, "idp", "alice")).res.status).toBe(200);
    const user = (await app.userDb.getByEmail("alice@example.com")) as StoreUser;
    await app.userDb.update(user, { isActive: false });
    const { res } = await signIn(app, "idp", "alice");
    expect(res.status).toBe(400);
    expect(detail(res)).toBe("LOGIN_BAD_CREDENTIALS");
    expect(res.headers.getSetCookie().some((c) => c.startsWith("tessera_auth="))).toBe(false);
  });

  it("requiresVerification: an unverified user gets 400 LOGIN_USER_NOT_VERIFIED", async () => {
    const app = await appWith([
      { path: "idp", backend: "jwt", options: { requiresVerification: true } },
    ]);
    const { res } = await signIn(app, "idp", "alice");
    expect(res.status).toBe(400);
    expect(detail(res)).toBe("LOGIN_USER_NOT_VERIFIED");
  });

  it("the callback is rate-limited per client: 429 TOO_MANY_REQUESTS with Retry-After (ASVS 5.0 6.3.1)", async () => {
    const app = await appWith([{ path: "idp", backend: "jwt" }], {
      rateLimit: { routes: { oauthCallback: { client: { limit: 2, windowSeconds: 60 } } } },
    });
    for (let i = 0; i < 2; i++) {
      const res = await callback(app, "idp", "?code=x&state=y", undefined);
      expect(res.status).toBe(400);
    }
    const limited = await callback(app, "idp", "?code=x&state=y", undefined);
    expect(limited.status).toBe(429);
    expect(detail(limited)).toBe("TOO_MANY_REQUESTS");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});

describe("a provider that is down", () => {
  it("at /authorize: 503 OAUTH_PROVIDER_UNAVAILABLE at once, not a 500", async () => {
    const port = await freePort();
    const down = oidcProvider({
      name: "idp",
      issuer: `http://127.0.0.1:${port}`,
      clientId: oidc().clientId,
      clientSecret: oidc().clientSecret,
      allowInsecureRequests: true,
      timeoutSeconds: 5,
    });
    const app = await appWith([{ path: "idp", backend: "jwt", provider: down }]);
    const res = await request(`${app.url}/auth/idp/authorize`);
    expect(res.status).toBe(503);
    expect(detail(res)).toBe("OAUTH_PROVIDER_UNAVAILABLE");
    // A refused connection is not waited on: well under the 5 s timeout.
    console.log(`provider down: /authorize answered 503 in ${Math.round(res.ms)} ms`);
    expect(res.ms).toBeLessThan(5_000);
  });

  it("stopped between /authorize and /callback, or answering a 502 page: 503 OAUTH_PROVIDER_UNAVAILABLE, the state cookie deleted", async () => {
    const idp = await startOidcProvider();
    providers.push(idp);
    const badGateway = createServer((_req, res) => {
      res.writeHead(502, { "content-type": "text/html" }).end("<h1>Bad gateway</h1>");
    });
    servers.push(badGateway);
    await new Promise<void>((r) => badGateway.listen({ port: 0, host: "127.0.0.1" }, () => r()));
    const gateway = `http://127.0.0.1:${(badGateway.address() as AddressInfo).port}`;
    const info: OidcProviderInfo = oidc();
    const app = await appWith([
      { path: "idp", backend: "jwt", provider: oidcOf(idp.info) },
      {
        path: "github",
        backend: "jwt",
        provider: githubOf({ ...info, github: { ...info.github, token: `${gateway}/token` } }),
      },
    ]);
    const begun = await authorize(app, "idp");
    const search = await atProvider(app, "idp", begun.url, "alice");
    await idp.close();
    const res = await callback(app, "idp", search, begun.cookie);
    expect(res.status).toBe(503);
    expect(detail(res)).toBe("OAUTH_PROVIDER_UNAVAILABLE");
    expect(res.headers.get("retry-after")).toBeTruthy();
    expectStateCleared(res);

    const viaGateway = await signIn(app, "github", "alice");
    expect(viaGateway.res.status).toBe(503);
    expect(detail(viaGateway.res)).toBe("OAUTH_PROVIDER_UNAVAILABLE");
  });
});

describe("linking a provider account to the signed-in user (the associate router)", () => {
  it("links, lists without tokens, signs in as that user, unlinks", async () => {
    const app = await appWith([{ path: "idp", backend: "jwt" }]);
    await register(app.url, "dora@example.com");
    const dora = await bearerMode.login(app.url, "dora@example.com", "correct horse battery");
    // bob's provider email is unverified: linking needs none, the signed-in user proves it.
    const { res } = await signIn(app, "associate/idp", "bob", dora);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ email: "dora@example.com" });
    expect(res.body).not.toHaveProperty("hashed_password");
    expectStateCleared(res);

    const listed = await request(`${app.url}/users/me/oauth-accounts`, { headers: dora });
    expect(listed.status).toBe(200);
    const accounts = listed.body as Record<string, unknown>[];
    expect(accounts).toEqual([
      {
        id: expect.any(String),
        oauth_name: "idp",
        account_id: "bob",
        account_email: "bob@example.com",
      },
    ]);
    expect(listed.text).not.toMatch(/v1\.test-/);

    // The linked account signs in as dora.
    const login = await signIn(app, "idp", "bob");
    expect(login.res.status, login.res.text).toBe(200);
    expect((await me(app, bearerOf(login.res))).email).toBe("dora@example.com");

    const id = accounts[0]?.id as string;
    const removed = await request(`${app.url}/users/me/oauth-accounts/${id}`, {
      method: "DELETE",
      headers: dora,
    });
    expect(removed.status).toBe(204);
    const again = await request(`${app.url}/users/me/oauth-accounts/${id}`, {
      method: "DELETE",
      headers: dora,
    });
    expect(again.status).toBe(404);
    expect((await request(`${app.url}/users/me/oauth-accounts`, { headers: dora })).body).toEqual(
      [],
    );
    // Unlinked: bob's unverified email signs nobody in.
    const after = await signIn(app, "idp", "bob");
    expect(detail(after.res)).toBe("OAUTH_EMAIL_NOT_VERIFIED");
  });

  it("a front-end page as the redirect URI (FastAPI Users' redirect_url): a Bearer app links by calling the callback with the query and its token", async () => {
    const app = await startApp({
      oauth: ({ url, tessera }) => {
        const flow = new OAuthFlow({
          provider: oidcOf(),
          redirectUri: `${url}/app/signed-in`,
          associateRedirectUri: `${url}/app/linked`,
          stateSecret: STATE_SECRET,
          tokenCipher: cipher,
        });
        return [
          tessera.oauthAssociateRouter(flow, { prefix: "/auth/associate/idp" }),
          tessera.oauthAccountsRouter({ prefix: "/users" }),
        ];
      },
    });
    apps.push(app);
    await register(app.url, "dora@example.com");
    const dora = await bearerMode.login(app.url, "dora@example.com", "correct horse battery");
    const begun = await authorize(app, "associate/idp", dora);
    expect(new URL(begun.url).searchParams.get("redirect_uri")).toBe(`${app.url}/app/linked`);
    // The provider sends the browser to the page; the page calls the API with the query.
    const page = await signInAtProvider(begun.url, {
      login: "alice",
      callbackPrefix: `${app.url}/app/linked`,
    });
    const res = await callback(app, "associate/idp", page.search, begun.cookie, dora);
    expect(res.status, res.text).toBe(200);
    const listed = await request(`${app.url}/users/me/oauth-accounts`, { headers: dora });
    expect(listed.body).toEqual([
      expect.objectContaining({ oauth_name: "idp", account_id: "alice" }),
    ]);
  });

  it("needs a signed-in user: 401 at /authorize and /callback, and for the accounts routes", async () => {
    const app = await appWith([]);
    for (const [method, path] of [
      ["GET", "/auth/associate/idp/authorize"],
      ["GET", "/auth/associate/idp/callback?code=x&state=y"],
      ["GET", "/users/me/oauth-accounts"],
      ["DELETE", "/users/me/oauth-accounts/1"],
    ] as const) {
      expect((await request(`${app.url}${path}`, { method })).status).toBe(401);
    }
  });

  it("a state begun by another user: 400 OAUTH_INVALID_STATE, nothing linked (ASVS 5.0 10.1.2)", async () => {
    const app = await appWith([]);
    await register(app.url, "dora@example.com");
    await register(app.url, "erin@example.com");
    const dora = await bearerMode.login(app.url, "dora@example.com", "correct horse battery");
    const erin = await bearerMode.login(app.url, "erin@example.com", "correct horse battery");
    const begun = await authorize(app, "associate/idp", dora);
    const search = await atProvider(app, "associate/idp", begun.url, "alice");
    const res = await callback(app, "associate/idp", search, begun.cookie, erin);
    expect(res.status).toBe(400);
    expect(detail(res)).toBe("OAUTH_INVALID_STATE");
    for (const who of [dora, erin]) {
      expect((await request(`${app.url}/users/me/oauth-accounts`, { headers: who })).body).toEqual(
        [],
      );
    }
  });

  it("an account linked to someone else: 400 OAUTH_ACCOUNT_ALREADY_LINKED, it stays where it is", async () => {
    const app = await appWith([{ path: "idp", backend: "jwt" }]);
    const alice = await signIn(app, "idp", "alice");
    expect(alice.res.status).toBe(200);
    await register(app.url, "dora@example.com");
    const dora = await bearerMode.login(app.url, "dora@example.com", "correct horse battery");
    const { res } = await signIn(app, "associate/idp", "alice", dora);
    expect(res.status).toBe(400);
    expect(detail(res)).toBe("OAUTH_ACCOUNT_ALREADY_LINKED");
    expectStateCleared(res);
    const login = await signIn(app, "idp", "alice");
    expect((await me(app, bearerOf(login.res))).email).toBe("alice@example.com");
  });

  it("a cookie-authenticated unlink from another origin: 403 CSRF_FAILED (ASVS 5.0 3.5.1)", async () => {
    const app = await appWith([{ path: "idp", backend: "cookie" }]);
    const { res } = await signIn(app, "idp", "alice");
    const auth = pairOf(
      res.headers.getSetCookie().find((c) => c.startsWith("tessera_auth=")) as string,
    );
    const listed = await request(`${app.url}/users/me/oauth-accounts`, {
      headers: { cookie: auth },
    });
    const id = (listed.body as { id: string }[])[0]?.id as string;
    const forged = await request(`${app.url}/users/me/oauth-accounts/${id}`, {
      method: "DELETE",
      headers: { cookie: auth, origin: "https://evil.example" },
    });
    expect(forged.status).toBe(403);
    expect(detail(forged)).toBe("CSRF_FAILED");
  });
});

describe("configuration and the OpenAPI document", () => {
  it("OAuthFlow is what the routers take (by shape: @tessera/koa imports nothing of @tessera/oauth)", () => {
    const flow: OAuthFlowLike = new OAuthFlow({
      provider: oidcOf(),
      redirectUri: "https://app.example/auth/idp/callback",
      stateSecret: STATE_SECRET,
      tokenCipher: cipher,
    });
    expect(flow.cookieName).toBe("__Host-tessera_oauth");
  });

  it("documents every route, code, the 303 and both 503s; each route answers only documented statuses", async () => {
    const app = await appWith(
      [
        { path: "idp", backend: "jwt" },
        { path: "idp-cookie", backend: "cookie", options: { redirectTo: "/welcome" } },
      ],
      { docs: true },
    );
    const doc = (await request(`${app.url}/openapi.json`)).body as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    const codesOf = (path: string) => JSON.stringify(doc.paths[path]?.get?.responses ?? {});
    const login = codesOf("/auth/idp/callback");
    for (const code of [
      "OAUTH_INVALID_STATE",
      "OAUTH_NOT_AVAILABLE_EMAIL",
      "OAUTH_USER_ALREADY_EXISTS",
      "OAUTH_EMAIL_NOT_VERIFIED",
      "OAUTH_ACCESS_DENIED",
      "OAUTH_PROVIDER_ERROR",
      "OAUTH_INVALID_RESPONSE",
      "LOGIN_BAD_CREDENTIALS",
      "OAUTH_PROVIDER_UNAVAILABLE",
      "SERVICE_UNAVAILABLE",
      "TOO_MANY_REQUESTS",
    ]) {
      expect(login).toContain(code);
    }
    expect(Object.keys(doc.paths["/auth/idp/callback"]?.get?.responses ?? {}).sort()).toEqual(
      ["200", "400", "429", "500", "503"].sort(),
    );
    expect(doc.paths["/auth/idp-cookie/callback"]?.get?.responses).toHaveProperty("303");
    expect(doc.paths["/auth/idp-cookie/callback"]?.get?.responses).toHaveProperty("204");
    expect(codesOf("/auth/associate/idp/callback")).toContain("OAUTH_ACCOUNT_ALREADY_LINKED");
    expect(codesOf("/auth/idp/authorize")).toContain("OAUTH_PROVIDER_UNAVAILABLE");
    expect(doc.paths["/users/me/oauth-accounts/{accountId}"]?.delete?.responses).toHaveProperty(
      "404",
    );

    // Every OAuth route, called without and with a user, answers a documented status.
    await register(app.url, "olga@example.com");
    const olga = await bearerMode.login(app.url, "olga@example.com", "correct horse battery");
    for (const [path, item] of Object.entries(doc.paths)) {
      if (!/oauth|\/authorize|\/callback/.test(path)) continue;
      for (const [method, operation] of Object.entries(item)) {
        for (const headers of [{}, olga]) {
          const res = await request(`${app.url}${path.replace("{accountId}", "unknown")}`, {
            method: method.toUpperCase(),
            headers,
          });
          expect(Object.keys(operation.responses), `${method} ${path}: ${res.status}`).toContain(
            String(res.status),
          );
        }
      }
    }
  });
});
