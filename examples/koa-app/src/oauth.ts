import { Router } from "@koa/router";
import type { AuthenticationBackend } from "@tessera/core";
import type { Tessera } from "@tessera/koa";
import {
  github,
  MemoryOAuthStateStore,
  OAuthFlow,
  type OAuthProvider,
  type OAuthStateStore,
  OAuthTokenCipher,
  oidcProvider,
} from "@tessera/oauth";
import { RedisOAuthStateStore } from "@tessera/strategy-redis";
import type { Redis } from "ioredis";
import type { Context, Middleware } from "koa";
import type { Config, OAuthProviderConfig } from "./config.js";
import type { User } from "./db/index.js";
import type { Secrets } from "./secrets.js";

/** A configured provider, as the page's buttons show it (`GET /app/oauth-providers`). */
export interface OAuthProviderInfo {
  name: string;
  label: string;
}

/** The sign-in flows of the configured providers, by name. */
export interface OAuthSetup {
  providers: OAuthProviderInfo[];
  flows: Map<string, OAuthFlow>;
}

/** The login callback of a provider: `{APP_URL}/auth/{name}/callback`. */
export const loginCallbackPath = (name: string) => `/auth/${name}/callback`;
/** The associate callback of a provider: `{APP_URL}/auth/associate/{name}/callback`. */
export const associateCallbackPath = (name: string) => `/auth/associate/${name}/callback`;

function providerOf(config: OAuthProviderConfig): OAuthProvider {
  if (config.kind === "github") {
    return github({ clientId: config.clientId, clientSecret: config.clientSecret });
  }
  return oidcProvider({
    name: config.name,
    issuer: config.issuer,
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    // config.ts allows an http: issuer on loopback only (a provider in development).
    allowInsecureRequests: config.insecure,
  });
}

/**
 * One {@link OAuthFlow} per configured provider. The redirect URIs come from `APP_URL`,
 * never from a request's Host; the state is sealed and the provider tokens encrypted with
 * keys derived from the app's master secret; used states are remembered in Redis when the
 * app has Redis (every instance refuses a replay), else in memory.
 */
export function createOAuth(deps: {
  config: Config;
  secrets: Secrets;
  redis: Redis | undefined;
}): OAuthSetup {
  const { config, secrets, redis } = deps;
  const flows = new Map<string, OAuthFlow>();
  if (config.oauth.length === 0) return { providers: [], flows };
  const tokenCipher = new OAuthTokenCipher([{ id: "app", secret: secrets.oauthTokens }]);
  const stateStore: OAuthStateStore = redis
    ? new RedisOAuthStateStore({ redis, prefix: "koa-app:oauth-state:" })
    : new MemoryOAuthStateStore();
  for (const provider of config.oauth) {
    flows.set(
      provider.name,
      new OAuthFlow({
        provider: providerOf(provider),
        redirectUri: config.appUrl + loginCallbackPath(provider.name),
        associateRedirectUri: config.appUrl + associateCallbackPath(provider.name),
        stateSecret: secrets.oauthState,
        tokenCipher,
        stateStore,
        // Plain http on this machine (as the other cookies): a `__Host-` cookie must be
        // Secure, which not every browser accepts from http://localhost. Everywhere else
        // the default: `__Host-tessera_oauth`, Secure.
        ...(config.cookieSecure ? {} : { cookie: { secure: false } }),
      }),
    );
  }
  return {
    providers: config.oauth.map(({ name, label }) => ({ name, label })),
    flows,
  };
}

/**
 * The OAuth routes of the app: for each provider, sign-in (`/auth/{name}/authorize`,
 * `/callback`, logging in with the page's own `refresh-cookie` backend and answering 303 to
 * `/`) and linking (`/auth/associate/{name}/…`); the user's links under
 * `/users/me/oauth-accounts` (when a provider is configured);
 * and `GET /app/oauth-providers` for the page's buttons. Mount after the backends' auth routers.
 */
export function oauthRouters(
  tessera: Tessera<User, string>,
  pageBackend: AuthenticationBackend<User, string, Context>,
  oauth: OAuthSetup,
): Router[] {
  const routers: Router[] = [];
  for (const [name, flow] of oauth.flows) {
    routers.push(
      tessera.oauthRouter(flow, pageBackend, {
        prefix: `/auth/${name}`,
        redirectTo: "/",
        // The provider said the email is verified: it signs in as the user who registered
        // it, and a user it creates is verified. Unverified emails neither (Tessera's rule).
        associateByEmail: true,
        isVerifiedByDefault: true,
      }),
      tessera.oauthAssociateRouter(flow, { prefix: `/auth/associate/${name}` }),
    );
  }
  // Without a provider there is nothing to link: the API stays as it was.
  if (oauth.flows.size > 0) routers.push(tessera.oauthAccountsRouter({ prefix: "/users" }));
  const list = new Router();
  list.get("/app/oauth-providers", (ctx) => {
    ctx.set("Cache-Control", "no-cache");
    ctx.body = oauth.providers;
  });
  routers.push(list);
  return routers;
}

/**
 * A browser that comes back from the provider lands on the page, not on JSON: a callback
 * reached by a top-level navigation (`Sec-Fetch-Mode: navigate`) that ends in a refusal is
 * answered `303 /?oauth_error={code}`, and a completed link `303 /?linked={name}`; the page
 * says what happened. Every other client (an API client, a script) gets the routes' JSON
 * answers as documented. The state cookie's deletion and the login's cookies are kept.
 */
export function callbackLanding(oauth: OAuthSetup): Middleware {
  const login = new Map([...oauth.flows.keys()].map((name) => [loginCallbackPath(name), name]));
  const associate = new Map(
    [...oauth.flows.keys()].map((name) => [associateCallbackPath(name), name]),
  );
  return async (ctx, next) => {
    const name = login.get(ctx.path) ?? associate.get(ctx.path);
    if (ctx.method !== "GET" || name === undefined || ctx.get("sec-fetch-mode") !== "navigate") {
      return next();
    }
    try {
      await next();
    } catch (error) {
      const refusal = error as { status?: unknown; body?: unknown; headers?: unknown };
      const detail = (refusal.body as { detail?: unknown } | undefined)?.detail;
      if (typeof refusal.status !== "number" || (refusal.status >= 500 && refusal.status !== 503)) {
        throw error;
      }
      const headers = (refusal.headers ?? {}) as Record<string, string>;
      if (headers["Set-Cookie"]) ctx.append("Set-Cookie", headers["Set-Cookie"]);
      const code = typeof detail === "string" ? detail : `HTTP_${refusal.status}`;
      land(ctx, `/?oauth_error=${encodeURIComponent(code)}`);
      return;
    }
    if (associate.has(ctx.path) && ctx.status === 200) {
      land(ctx, `/?linked=${encodeURIComponent(name)}`);
    }
  };
}

function land(ctx: Context, location: string): void {
  ctx.redirect(location);
  ctx.status = 303;
  ctx.set("Cache-Control", "no-store");
}
