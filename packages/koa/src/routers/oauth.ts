import {
  type AuthenticationBackend,
  type AuthResponse,
  ConfigurationError,
  type CookieSpec,
  CookieTransport,
  ErrorCode,
  isOAuthAccountDatabase,
  isTesseraError,
  type OAuthCallbackInput,
  type SessionDevice,
  type UserManager,
  type UserProtocol,
} from "@tessera/core";
import { serializeCookie } from "@tessera/core/internal";
import type { Context } from "koa";
import { emitAudit } from "../audit.js";
import { writeAuthResponse } from "../context.js";
import type { CsrfProtection } from "../csrf.js";
import { HttpErrorCode } from "../error-codes.js";
import { HttpError } from "../http-error.js";
import type { RouterOptions } from "../route/deps.js";
import { notFound } from "../route/errors.js";
import { publicRoute, type RouteError, type RouteSpec, userRoute } from "../route/spec.js";
import { issuesRefreshTokens, refreshPathOf } from "./auth.js";
import { checkedPath, seeOther } from "./form-redirect.js";

/** Which callback a sign-in is for (`@tessera/oauth`'s `OAuthPurpose`). */
export type OAuthRoutePurpose = "login" | "associate";

/**
 * What the OAuth routers need of a sign-in flow: `@tessera/oauth`'s `OAuthFlow` has it.
 * Described by shape, so `@tessera/koa` loads nothing of `@tessera/oauth` (an optional peer)
 * and an app without OAuth does not need it installed.
 */
export interface OAuthFlowLike {
  /** The provider; its `name` is the `oauth_name` and the routes' `{name}`. */
  readonly provider: { readonly name: string };
  /** The state cookie's name. */
  readonly cookieName: string;
  /** The configured callback URL of a purpose. */
  redirectUri(purpose?: OAuthRoutePurpose): string;
  begin(options?: {
    purpose?: OAuthRoutePurpose;
    userId?: string;
    scopes?: readonly string[];
  }): Promise<{ authorizationUrl: string; cookie: CookieSpec }>;
  complete(input: {
    query: Record<string, string | string[] | undefined>;
    cookie: string | undefined;
    purpose?: OAuthRoutePurpose;
    userId?: string;
  }): Promise<{ callbackInput: OAuthCallbackInput | null }>;
  /** The cookie spec that deletes the state cookie. */
  clearCookie(): CookieSpec;
}

/** Options of `tessera.oauthRouter` (FastAPI Users' `get_oauth_router`). */
export interface OAuthRouterOptions extends RouterOptions {
  /**
   * An unknown provider account whose **provider-verified** email is a user's logs in as
   * that user (and is linked to it). Off: `400 OAUTH_USER_ALREADY_EXISTS`.
   * @default false
   */
  associateByEmail?: boolean;
  /** A user created by a first login is verified, when the provider verified the email. @default false */
  isVerifiedByDefault?: boolean;
  /**
   * Create a user from a provider email the provider does not say is verified (FastAPI
   * Users does). Off, such a first login answers `400 OAUTH_EMAIL_NOT_VERIFIED`: whoever
   * typed someone else's address at the provider would otherwise hold an account under that
   * address, still linked to them after its owner takes it over by a password reset (account
   * pre-hijacking). Provider accounts linked already log in whatever their email says.
   * @default false
   */
  createUserFromUnverifiedEmail?: boolean;
  /** Unverified users cannot log in this way (`400 LOGIN_USER_NOT_VERIFIED`). @default false */
  requiresVerification?: boolean;
  /**
   * After a login, answer `303 See Other` to this front-end URL (a path of this site, or an
   * absolute http(s) URL) instead of the transport's login response. Cookie backends only:
   * the cookies travel with the 303, a Bearer token would be lost.
   * @default none: the transport's login response, as FastAPI Users
   */
  redirectTo?: string;
}

/** Options of `tessera.oauthAssociateRouter` (FastAPI Users' `get_oauth_associate_router`). */
export interface OAuthAssociateRouterOptions extends RouterOptions {
  /** Unverified users get 403. @default false */
  requiresVerification?: boolean;
}

/** Options of `tessera.oauthAccountsRouter`. */
export interface OAuthAccountsRouterOptions extends RouterOptions {
  /** Unverified users get 403. @default false */
  requiresVerification?: boolean;
}

/** A linked provider account on the wire: never its tokens. */
export interface OAuthAccountRead {
  id: string;
  oauth_name: string;
  account_id: string;
  account_email: string;
}

const AUTHORIZE_RESPONSE = "OAuth2AuthorizeResponse";
const authorizeComponents = {
  [AUTHORIZE_RESPONSE]: {
    type: "object",
    additionalProperties: false,
    required: ["authorization_url"],
    properties: {
      authorization_url: {
        type: "string",
        format: "uri",
        description: "Send the browser there: the provider's sign-in page",
      },
    },
  },
};

const ACCOUNT_READ = "OAuthAccountRead";
const accountComponents = {
  [ACCOUNT_READ]: {
    type: "object",
    additionalProperties: false,
    required: ["id", "oauth_name", "account_id", "account_email"],
    properties: {
      id: { type: "string", description: "The link's id (for `DELETE`)" },
      oauth_name: { type: "string", description: "The provider's name in this app" },
      account_id: { type: "string", description: "The account's id at the provider" },
      account_email: { type: "string", description: "The account's email at the provider" },
    },
  },
};

const scopesParameter = {
  name: "scopes",
  in: "query",
  required: false,
  description: "Scopes to ask for (repeat the parameter); the provider's defaults when none",
  style: "form",
  explode: true,
  schema: {
    type: "array",
    maxItems: 50,
    items: { type: "string", pattern: "^[\\x21\\x23-\\x5B\\x5D-\\x7E]{1,256}$" },
  },
} as const;

const callbackParameters = [
  ["code", "The authorization code"],
  ["state", "The state the authorization URL carried"],
  ["error", "The provider's OAuth error (`access_denied`…)"],
  ["error_description", "The provider's description of the error"],
  ["iss", "The issuer (RFC 9207), checked when the provider sends it"],
].map(([name, description]) => ({
  name: name as string,
  in: "query" as const,
  required: false,
  description: description as string,
  schema: { type: "string" as const },
}));

// The answers of a callback, by wire code. FastAPI Users' three, then Tessera's own.
const CALLBACK_ERRORS: Record<string, RouteError> = {
  [HttpErrorCode.OAUTH_INVALID_STATE]: {
    status: 400,
    code: HttpErrorCode.OAUTH_INVALID_STATE,
    summary:
      "No state cookie, a tampered or expired one, a state of another browser, provider or " +
      "user, or a state used already.",
  },
  [HttpErrorCode.OAUTH_ACCESS_DENIED]: {
    status: 400,
    code: HttpErrorCode.OAUTH_ACCESS_DENIED,
    summary: "The user cancelled at the provider (`error=access_denied`).",
  },
  [HttpErrorCode.OAUTH_PROVIDER_ERROR]: {
    status: 400,
    code: HttpErrorCode.OAUTH_PROVIDER_ERROR,
    summary: "The provider answered another OAuth error (`invalid_grant`: an expired code…).",
  },
  [HttpErrorCode.OAUTH_INVALID_RESPONSE]: {
    status: 400,
    code: HttpErrorCode.OAUTH_INVALID_RESPONSE,
    summary: "The provider's answer failed validation (ID token signature, issuer, nonce…).",
  },
  [HttpErrorCode.OAUTH_NOT_AVAILABLE_EMAIL]: {
    status: 400,
    code: HttpErrorCode.OAUTH_NOT_AVAILABLE_EMAIL,
    summary: "The provider gave no email for the account.",
  },
  [HttpErrorCode.OAUTH_PROVIDER_UNAVAILABLE]: {
    status: 503,
    code: HttpErrorCode.OAUTH_PROVIDER_UNAVAILABLE,
    summary: "The provider cannot be reached, timed out or answered garbage; retry later.",
  },
};

const LOGIN_ERRORS: Record<string, RouteError> = {
  ...CALLBACK_ERRORS,
  [HttpErrorCode.OAUTH_USER_ALREADY_EXISTS]: {
    status: 400,
    code: HttpErrorCode.OAUTH_USER_ALREADY_EXISTS,
    summary:
      "A user has this email, and it may not be associated (`associateByEmail` off, or the " +
      "provider did not verify the email).",
    on: [ErrorCode.USER_ALREADY_EXISTS],
  },
  [HttpErrorCode.OAUTH_EMAIL_NOT_VERIFIED]: {
    status: 400,
    code: HttpErrorCode.OAUTH_EMAIL_NOT_VERIFIED,
    summary:
      "A first login whose email the provider does not say is verified: no user is created " +
      "(`createUserFromUnverifiedEmail`).",
  },
  [HttpErrorCode.LOGIN_BAD_CREDENTIALS]: {
    status: 400,
    code: HttpErrorCode.LOGIN_BAD_CREDENTIALS,
    summary: "The user is inactive.",
  },
};

const ASSOCIATE_ERRORS: Record<string, RouteError> = {
  ...CALLBACK_ERRORS,
  [HttpErrorCode.OAUTH_ACCOUNT_ALREADY_LINKED]: {
    status: 400,
    code: HttpErrorCode.OAUTH_ACCOUNT_ALREADY_LINKED,
    summary: "This provider account is linked to another user.",
    on: [ErrorCode.OAUTH_ACCOUNT_ALREADY_LINKED],
  },
};

const AUTHORIZE_ERRORS: RouteError[] = [
  {
    status: 400,
    code: HttpErrorCode.OAUTH_INVALID_SCOPE,
    summary: "A scope that is not an RFC 6749 scope token, or too many.",
  },
  {
    status: 503,
    code: HttpErrorCode.OAUTH_PROVIDER_UNAVAILABLE,
    summary: "The provider's metadata cannot be read (discovery); retry later.",
  },
];

// The flow's stable error codes (`@tessera/oauth`'s OAuthErrorCode), by value: this package
// does not import that one.
const FLOW_CODES = new Set([
  "OAUTH_INVALID_STATE",
  "OAUTH_PROVIDER_ERROR",
  "OAUTH_INVALID_RESPONSE",
  "OAUTH_PROVIDER_UNAVAILABLE",
]);

/** The wire code of an error the flow threw, or null when it is not one of the flow's. */
function flowErrorCode(error: unknown): string | null {
  if (!(error instanceof Error)) return null;
  const { code, error: oauthError } = error as { code?: unknown; error?: unknown };
  if (typeof code !== "string" || !FLOW_CODES.has(code)) return null;
  if (code === "OAUTH_PROVIDER_ERROR" && oauthError === "access_denied") {
    return HttpErrorCode.OAUTH_ACCESS_DENIED;
  }
  return code;
}

const SCOPE_RE = /^[\x21\x23-\x5B\x5D-\x7E]{1,256}$/;

/** `?scopes=` (repeatable; FastAPI Users' `List[str]`), or null when it is not valid. */
function scopesOf(ctx: Context): string[] | undefined | null {
  const given = ctx.query.scopes;
  if (given === undefined) return undefined;
  const scopes = Array.isArray(given) ? given : [given];
  if (scopes.length > 50 || !scopes.every((s) => SCOPE_RE.test(s))) return null;
  return scopes;
}

/** `GET /authorize` for a purpose: the authorization URL, and the sealed state cookie. */
function authorizeRoute<U extends UserProtocol<ID>, ID>(
  flow: OAuthFlowLike,
  purpose: OAuthRoutePurpose,
  base: { operationId: string; summary: string; description: string },
  who: { verified: boolean } | null,
): RouteSpec<U, ID> {
  const spec = {
    method: "get" as const,
    path: "/authorize",
    ...base,
    tags: ["auth"],
    parameters: [scopesParameter],
    response: {
      status: 200,
      description: `The provider's sign-in URL; sets the state cookie \`${flow.cookieName}\``,
      body: AUTHORIZE_RESPONSE,
    },
    components: authorizeComponents,
    errors: AUTHORIZE_ERRORS,
  };
  const begin = async (ctx: Context, fail: (code: string) => never, userId?: string) => {
    const scopes = scopesOf(ctx);
    if (scopes === null) return fail(HttpErrorCode.OAUTH_INVALID_SCOPE);
    let begun: Awaited<ReturnType<OAuthFlowLike["begin"]>>;
    try {
      begun = await flow.begin({
        purpose,
        ...(userId === undefined ? {} : { userId }),
        ...(scopes ? { scopes } : {}),
      });
    } catch (error) {
      const code = flowErrorCode(error);
      if (code === HttpErrorCode.OAUTH_PROVIDER_UNAVAILABLE) return fail(code);
      throw error;
    }
    ctx.append("Set-Cookie", serializeCookie(begun.cookie));
    // The URL carries a fresh state: no cache may keep it.
    ctx.set("Cache-Control", "no-store");
    return { authorization_url: begun.authorizationUrl };
  };
  if (who === null) {
    return publicRoute<U, ID>({
      ...spec,
      async handler(ctx, { fail }) {
        return begin(ctx, fail);
      },
    });
  }
  return userRoute<U, ID>({
    ...spec,
    who: "user",
    verified: who.verified,
    async handler(ctx, { fail, auth }) {
      return begin(ctx, fail, String(auth.user.id));
    },
  });
}

/**
 * Runs a callback's work; whatever happens, the answer deletes the state cookie (used or
 * useless now), and a refusal is the declared error of its code.
 */
async function clearingState<T>(
  ctx: Context,
  flow: OAuthFlowLike,
  errors: Record<string, RouteError>,
  work: (refuse: (code: string) => never) => Promise<T>,
): Promise<T> {
  const clear = serializeCookie(flow.clearCookie());
  const refusal = (code: string) => {
    const declared = errors[code];
    if (!declared) throw new Error(`OAuth callback refused with undeclared code ${code}`);
    return new HttpError(declared.status, code, {
      "Set-Cookie": clear,
      ...(declared.status === 503 ? { "Retry-After": "5" } : {}),
    });
  };
  try {
    const result = await work((code) => {
      throw refusal(code);
    });
    ctx.append("Set-Cookie", clear);
    return result;
  } catch (error) {
    if (error instanceof HttpError) throw error;
    const code = flowErrorCode(error);
    if (code !== null) throw refusal(code);
    if (isTesseraError(error)) {
      const declared = Object.values(errors).find((e) => e.on?.includes(error.code));
      if (declared) throw refusal(declared.code);
    }
    throw error;
  }
}

/** The callback's query and state cookie, as the flow takes them. */
function callbackInput(ctx: Context, flow: OAuthFlowLike) {
  return {
    query: ctx.query as Record<string, string | string[] | undefined>,
    cookie: ctx.cookies.get(flow.cookieName, { signed: false }),
  };
}

/**
 * `GET /authorize` and `GET /callback` of FastAPI Users' `get_oauth_router`: sign in with a
 * provider, logged in through `backend` as its `/login` does.
 */
export function oauthRoutes<U extends UserProtocol<ID>, ID>(
  flow: OAuthFlowLike,
  backend: AuthenticationBackend<U, ID, Context>,
  options: OAuthRouterOptions,
  csrf: CsrfProtection | null,
  deviceOf: (ctx: Context) => SessionDevice,
): RouteSpec<U, ID>[] {
  const name = flow.provider.name;
  const cookie = backend.transport instanceof CookieTransport ? backend.transport : null;
  let redirectTo: string | undefined;
  if (options.redirectTo !== undefined) {
    if (!cookie) {
      throw new ConfigurationError(
        `oauthRouter redirectTo: "${backend.name}" is no cookie backend, and a 303 would lose its token`,
      );
    }
    redirectTo = checkedRedirectTo(options.redirectTo);
  }
  const pairs = issuesRefreshTokens(backend as never);
  const verified = options.requiresVerification ?? false;
  const errors: Record<string, RouteError> = { ...LOGIN_ERRORS };
  if (verified) {
    errors[HttpErrorCode.LOGIN_USER_NOT_VERIFIED] = {
      status: 400,
      code: HttpErrorCode.LOGIN_USER_NOT_VERIFIED,
      summary: "The user is not verified (`requiresVerification`).",
    };
  }
  const operation = `oauth:${name}.${backend.name}`;

  const logIn = async (ctx: Context, user: U, userManager: UserManager<U, ID>) => {
    const strategy = await backend.getStrategy(ctx);
    const device = { device: deviceOf(ctx) };
    let response: AuthResponse;
    if (pairs && strategy.writeTokenPair) {
      const refreshPath = refreshPathOf(backend);
      if (refreshPath === undefined) {
        throw new ConfigurationError(
          `oauthRouter: make tessera.authRouter(${backend.name}) (its /refresh route) before the OAuth router of a refresh-token backend`,
        );
      }
      const tokens = await strategy.writeTokenPair(user, device);
      response = backend.transport.loginResponse(tokens.accessToken, { ...tokens, refreshPath });
    } else {
      const token = strategy.writeSession
        ? await strategy.writeSession(user, device)
        : await strategy.writeToken(user);
      response = backend.transport.loginResponse(token);
    }
    if (cookie && csrf?.applies(cookie)) {
      response.cookies = [...(response.cookies ?? []), csrf.cookieFor(cookie)];
    }
    writeAuthResponse(ctx, response);
    emitAudit(ctx, {
      type: "login_succeeded",
      reason: "oauth",
      userId: String(user.id),
      email: user.email,
      backend: backend.name,
    });
    await userManager.onAfterLogin(user, ctx);
    if (redirectTo !== undefined) seeOther(ctx, redirectTo);
  };

  return [
    authorizeRoute<U, ID>(
      flow,
      "login",
      {
        operationId: `${operation}.authorize`,
        summary: `Sign in with ${name}: the authorization URL (${backend.name})`,
        description:
          "Answers the provider's sign-in URL and sets a sealed, short-lived `__Host-` cookie " +
          "binding the `state` to this browser (PKCE and nonce inside). Send the browser to " +
          "`authorization_url`; the provider sends it back to `/callback`.",
      },
      null,
    ),
    publicRoute<U, ID>({
      method: "get",
      path: "/callback",
      operationId: `${operation}.callback`,
      summary: `Sign in with ${name}: the provider's redirect (${backend.name})`,
      description:
        "Checks the state against this browser's cookie (once), exchanges the code, finds the " +
        "user by provider account, else by a provider-verified email (`associateByEmail`), " +
        "else creates one; then logs in as this backend's `/login` does.",
      tags: ["auth"],
      parameters: callbackParameters,
      rateLimit: { bucket: "oauthCallback", code: HttpErrorCode.TOO_MANY_REQUESTS },
      response: { transport: pairs ? "pair" : "login" },
      backend: backend.name,
      ...(redirectTo !== undefined
        ? { redirect: `Signed in: the cookies are set, and the browser goes to \`${redirectTo}\`` }
        : {}),
      errors: Object.values(errors),
      async handler(ctx, { userManager, attempt }) {
        await attempt(null);
        await clearingState(ctx, flow, errors, async (refuse) => {
          const { callbackInput: input } = await flow.complete({
            ...callbackInput(ctx, flow),
            purpose: "login",
          });
          if (input === null) return refuse(HttpErrorCode.OAUTH_NOT_AVAILABLE_EMAIL);
          if (input.emailVerified !== true && options.createUserFromUnverifiedEmail !== true) {
            // Only a provider account linked already may log in with an unverified email:
            // no user is created from it, none is associated (account pre-hijacking). The
            // same answer whether a user has that email or not: no enumeration through it.
            const db = userManager.userDb;
            const linked = isOAuthAccountDatabase(db)
              ? await db.getByOAuthAccount(input.oauthName, input.accountId)
              : null;
            if (isOAuthAccountDatabase(db) && linked === null) {
              return refuse(HttpErrorCode.OAUTH_EMAIL_NOT_VERIFIED);
            }
          }
          const user = await userManager.oauthCallback(input, {
            associateByEmail: options.associateByEmail ?? false,
            isVerifiedByDefault: options.isVerifiedByDefault ?? false,
            context: ctx,
          });
          if (!user.isActive) return refuse(HttpErrorCode.LOGIN_BAD_CREDENTIALS);
          if (verified && !user.isVerified) return refuse(HttpErrorCode.LOGIN_USER_NOT_VERIFIED);
          await logIn(ctx, user, userManager);
        });
        return undefined;
      },
    }),
  ];
}

/**
 * `GET /authorize` and `GET /callback` of FastAPI Users' `get_oauth_associate_router`:
 * link a provider account to the signed-in user; the callback answers the user.
 */
export function oauthAssociateRoutes<U extends UserProtocol<ID>, ID>(
  flow: OAuthFlowLike,
  read: (user: U) => Record<string, unknown>,
  options: OAuthAssociateRouterOptions,
): RouteSpec<U, ID>[] {
  const name = flow.provider.name;
  const verified = options.requiresVerification ?? false;
  return [
    authorizeRoute<U, ID>(
      flow,
      "associate",
      {
        operationId: `oauth-associate:${name}.authorize`,
        summary: `Link a ${name} account: the authorization URL`,
        description:
          "As the sign-in's `/authorize`, with the state bound to the signed-in user too: " +
          "only this user, in this browser, can finish the link.",
      },
      { verified },
    ),
    userRoute<U, ID>({
      who: "user",
      verified,
      method: "get",
      path: "/callback",
      operationId: `oauth-associate:${name}.callback`,
      summary: `Link a ${name} account: the provider's redirect`,
      description:
        "Checks the state against this browser's cookie and this user, exchanges the code and " +
        "links the provider account to the user.",
      tags: ["auth"],
      parameters: callbackParameters,
      rateLimit: { bucket: "oauthCallback", code: HttpErrorCode.TOO_MANY_REQUESTS },
      response: { status: 200, description: "The user, now linked", body: "UserRead" },
      errors: Object.values(ASSOCIATE_ERRORS),
      async handler(ctx, { userManager, auth, attempt }) {
        await attempt(null);
        return clearingState(ctx, flow, ASSOCIATE_ERRORS, async (refuse) => {
          const { callbackInput: input } = await flow.complete({
            ...callbackInput(ctx, flow),
            purpose: "associate",
            userId: String(auth.user.id),
          });
          if (input === null) return refuse(HttpErrorCode.OAUTH_NOT_AVAILABLE_EMAIL);
          return read(await userManager.oauthAssociateCallback(auth.user, input, ctx));
        });
      },
    }),
  ];
}

const accountIdParameter = {
  name: "accountId",
  in: "path",
  required: true,
  description: "The link's `id`, as `GET /me/oauth-accounts` lists it",
  schema: { type: "string" },
} as const;

/** `GET /me/oauth-accounts` and `DELETE /me/oauth-accounts/{accountId}`. */
export function oauthAccountRoutes<U extends UserProtocol<ID>, ID>(
  options: OAuthAccountsRouterOptions,
): RouteSpec<U, ID>[] {
  const me = { who: "user", verified: options.requiresVerification ?? false } as const;
  const gone = notFound("No linked account of this user has this id.");
  return [
    userRoute<U, ID>({
      ...me,
      method: "get",
      path: "/me/oauth-accounts",
      operationId: "users:oauth_accounts",
      summary: "The current user's linked provider accounts",
      description: "Oldest first; never the provider's tokens.",
      tags: ["users"],
      response: {
        status: 200,
        description: "The linked accounts",
        body: { type: "array", items: { $ref: `#/components/schemas/${ACCOUNT_READ}` } },
      },
      components: accountComponents,
      async handler(_ctx, { userManager, auth }) {
        const accounts = await userManager.listOAuthAccounts(auth.user);
        return accounts.map(
          (a): OAuthAccountRead => ({
            id: a.id,
            oauth_name: a.oauthName,
            account_id: a.accountId,
            account_email: a.accountEmail,
          }),
        );
      },
    }),
    userRoute<U, ID>({
      ...me,
      method: "delete",
      path: "/me/oauth-accounts/:accountId",
      operationId: "users:delete_oauth_account",
      summary: "Unlink a provider account from the current user",
      description:
        "The provider account no longer signs in as this user. A user created by an OAuth " +
        "login has no password anyone knows: `forgot-password` sets one.",
      tags: ["users"],
      parameters: [accountIdParameter],
      response: { status: 204, description: "Unlinked" },
      errors: [gone],
      async handler(ctx, { userManager, auth, fail }) {
        const id = String(ctx.params.accountId);
        if (!(await userManager.removeOAuthAccount(auth.user, id, ctx))) fail(gone.code);
        return undefined;
      },
    }),
  ];
}

/** `redirectTo`: a path of this site, or an absolute http(s) URL without credentials. */
function checkedRedirectTo(value: string): string {
  if (value.startsWith("/")) return checkedPath(value, "oauthRouter redirectTo");
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigurationError(`oauthRouter redirectTo is neither a path nor a URL: ${value}`);
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || url.username || url.password) {
    throw new ConfigurationError(`oauthRouter redirectTo must be an http(s) URL: ${value}`);
  }
  return url.href;
}
