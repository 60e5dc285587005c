import {
  type AuthenticationBackend,
  type AuthResponse,
  ConfigurationError,
  CookieTransport,
  ErrorCode,
  type LoginFailureReason,
  normalizeEmail,
  type SessionDevice,
  type UserProtocol,
} from "@tessera/core";
import type { Context } from "koa";
import { z } from "zod";
import { emitAudit, loginMethodOf } from "../audit.js";
import { authRequest, writeAuthResponse } from "../context.js";
import type { CsrfProtection } from "../csrf.js";
import { HttpErrorCode } from "../error-codes.js";
import type { RouterOptions } from "../route/deps.js";
import { publicRoute, type RouteError, type RouteSpec, userRoute } from "../route/spec.js";
import { checkedPath, isFormNavigation, redirectTarget, seeOther } from "./form-redirect.js";
import { type MfaSetup, mfaLoginErrors, mfaLoginGate, mfaLoginRoutes } from "./mfa.js";
import { type PasskeySetup, passkeyLoginRoutes } from "./passkeys.js";

/**
 * How a cookie backend answers plain HTML form posts (piccolo's `session_login`; FastAPI
 * Users #372, #434): `303 See Other` to a same-origin path, so a site works without JS.
 */
export interface FormRedirectOptions {
  /** Where a successful form login goes: a path of this site (`/`, `/account`). */
  success: string;
  /** Where a form logout goes. @default success */
  logout?: string;
  /**
   * Where a refused form login goes (bad credentials, inactive, unverified), e.g.
   * `/login?error=1`. @default none: the JSON 400 answer, as for any client
   */
  failure?: string;
  /**
   * Path prefixes that a `next` parameter (form field or query) may name; a `next` outside
   * them, or not a plain same-origin path, is ignored for the configured path.
   * @default [] (`next` is ignored)
   */
  allowed?: readonly string[];
}

/** Options of the auth router. */
export interface AuthRouterOptions extends RouterOptions {
  /** Unverified users cannot log in (400 LOGIN_USER_NOT_VERIFIED) nor log out. @default false */
  requiresVerification?: boolean;
  /**
   * Mount `POST /refresh` and answer logins with a token pair: the backend's strategy issues
   * refresh tokens (`RefreshTokenStrategy`). Detected when `getStrategy` returns such a
   * strategy without waiting (`getStrategy: () => strategy`); set it when yours is async.
   * @default detected
   */
  refresh?: boolean;
  /**
   * Cookie backends only: a login or logout posted by an HTML form (`Accept: text/html`)
   * answers `303` to this path (or to an allowed `next`) instead of `204`.
   * @default undefined (every client gets the API answers)
   */
  formRedirect?: FormRedirectOptions;
  /**
   * Second factors at login (`@tessera/mfa`), instead of the `Tessera` instance's `mfa`;
   * `false`: none on this router. With it, a user with a factor gets
   * `400 {"detail": "LOGIN_MFA_REQUIRED", "mfa_token"}` and `POST /login/mfa` completes it.
   * @default the instance's `mfa`
   */
  mfa?: MfaSetup<never, never> | false;
  /**
   * Passkey login (`@tessera/passkeys`: `POST /passkey/options`, `POST /passkey/login`),
   * instead of the instance's `passkeys`; `false`: none on this router.
   * @default the instance's `passkeys`
   */
  passkeys?: PasskeySetup<never, never> | false;
}

/** What the instance adds to every auth router (its `mfa` and `passkeys`). */
export interface AuthRouterExtras<U extends UserProtocol<ID>, ID> {
  mfa?: MfaSetup<U, ID> | undefined;
  passkeys?: PasskeySetup<U, ID> | undefined;
}

/** OAuth2 password grant form (RFC 6749 §4.3.2), as FastAPI's OAuth2PasswordRequestForm. */
export const loginForm = z.object({
  username: z.string().max(1024),
  password: z.string().max(65_536),
  grant_type: z
    .string()
    .regex(/^password$/)
    .optional(),
});

/** The refresh grant (RFC 6749 §6): a Bearer client's body at `POST /refresh`. */
export const refreshForm = z.object({
  grant_type: z.string().regex(/^refresh_token$/),
  refresh_token: z.string().min(1).max(8192),
  scope: z.string().max(1024).optional(),
});

const NOT_VERIFIED = "The user is not verified (`requiresVerification`).";

// The refresh route's full path per backend, for the refresh cookie's `Path` (a logout, or
// `ctx.state.session.revoke()`, clears the cookie there).
const refreshPaths = new WeakMap<object, string>();

/** Where `backend`'s refresh cookie lives, when it has a refresh route. */
export function refreshPathOf(backend: object): string | undefined {
  return refreshPaths.get(backend);
}

/** Whether `backend` issues refresh tokens: the option, else its strategy as returned now. */
export function issuesRefreshTokens(
  backend: AuthenticationBackend<never, never, Context>,
  given?: boolean,
) {
  if (given !== undefined) return given;
  try {
    const strategy = backend.getStrategy(undefined as unknown as Context) as {
      refresh?: unknown;
      then?: unknown;
    };
    return typeof strategy?.then !== "function" && typeof strategy?.refresh === "function";
  } catch {
    return false;
  }
}

/**
 * `POST /login`, `POST /logout` and `POST /logout-all` for one backend. Only this
 * backend's transport is read on logout, so a token is destroyed by the strategy that
 * issued it, never by another backend's (a FastAPI Users pitfall).
 */
export function authRoutes<U extends UserProtocol<ID>, ID>(
  backend: AuthenticationBackend<U, ID, Context>,
  options: AuthRouterOptions,
  csrf: CsrfProtection | null,
  deviceOf: (ctx: Context) => SessionDevice,
  extras: AuthRouterExtras<U, ID> = {},
): RouteSpec<U, ID>[] {
  const { name } = backend;
  const mfa = (options.mfa === false ? undefined : (options.mfa ?? extras.mfa)) as
    | MfaSetup<U, ID>
    | undefined;
  const passkeys = (
    options.passkeys === false ? undefined : (options.passkeys ?? extras.passkeys)
  ) as PasskeySetup<U, ID> | undefined;
  const mfaGate = mfa ? mfaLoginGate(name, mfa) : null;
  const verified = options.requiresVerification ?? false;
  const form = formOptions(backend, options.formRedirect);
  const badCredentials: RouteError[] = [
    {
      status: 400,
      code: HttpErrorCode.LOGIN_BAD_CREDENTIALS,
      summary: "Bad credentials or the user is inactive.",
    },
  ];
  if (verified) {
    badCredentials.push({
      status: 400,
      code: HttpErrorCode.LOGIN_USER_NOT_VERIFIED,
      summary: NOT_VERIFIED,
    });
  }
  const session = { who: "user", verified, backends: [name], tags: ["auth"] } as const;
  const pairs = issuesRefreshTokens(backend as never, options.refresh);
  const refreshPath = `${options.prefix ?? ""}/refresh`;
  if (pairs) refreshPaths.set(backend, refreshPath);
  const cookie = backend.transport instanceof CookieTransport ? backend.transport : null;
  const logoutResponse = () =>
    backend.transport.logoutResponse(pairs && cookie ? { refreshPath } : {});
  /**
   * Starts a session for `user` and writes this backend's login answer on `ctx` (a token
   * body, cookies, a pair); `extra` fields join the body (a cookie login's 204 becomes 200).
   */
  const startSession = async (
    ctx: Context,
    user: U,
    userManager: { onAfterLogin(user: U, context?: unknown): Promise<void> },
    extra?: Record<string, unknown>,
  ) => {
    const strategy = await backend.getStrategy(ctx);
    // A session records where it was created from (issue 14).
    const device = { device: deviceOf(ctx) };
    let response: AuthResponse;
    if (pairs && strategy.writeTokenPair) {
      const tokens = await strategy.writeTokenPair(user, device);
      response = backend.transport.loginResponse(tokens.accessToken, {
        ...tokens,
        refreshPath,
      });
    } else {
      const token = strategy.writeSession
        ? await strategy.writeSession(user, device)
        : await strategy.writeToken(user);
      response = backend.transport.loginResponse(token);
    }
    if (csrf?.applies(backend.transport) && backend.transport instanceof CookieTransport) {
      // The page's JS reads this cookie and echoes it in x-csrf-token.
      response.cookies = [...(response.cookies ?? []), csrf.cookieFor(backend.transport)];
    }
    if (extra) {
      const body = response.body;
      response = {
        ...response,
        status: response.body === undefined ? 200 : response.status,
        body: typeof body === "object" && body !== null ? { ...body, ...extra } : { ...extra },
      };
    }
    // Written before the hook, which may read it (FastAPI Users passes the response).
    writeAuthResponse(ctx, response);
    emitAudit(ctx, {
      type: "login_succeeded",
      reason: loginMethodOf(ctx.path),
      userId: String(user.id),
      email: user.email,
      backend: name,
    });
    await userManager.onAfterLogin(user, ctx);
  };
  const routes: RouteSpec<U, ID>[] = [
    publicRoute<U, ID, z.output<typeof loginForm>>({
      method: "post",
      path: "/login",
      operationId: `auth:${name}.login`,
      summary: `Log in (${name})`,
      description:
        "OAuth2 password grant (RFC 6749 §4.3): `username` is the email. " +
        "The token travels as this backend's transport says.",
      tags: ["auth"],
      csrf: "login",
      backend: name,
      body: { type: "form", schema: loginForm, name: "OAuth2PasswordRequestForm" },
      // A throttled login answers the body of a failed one: only its status (429) and
      // Retry-After differ (ASVS 5.0 6.3.1, 6.3.8).
      rateLimit: { bucket: "login", code: HttpErrorCode.LOGIN_BAD_CREDENTIALS },
      response: { transport: pairs ? "pair" : "login" },
      ...(form ? { redirect: form.loginDescription } : {}),
      errors: mfa ? [...badCredentials, ...mfaLoginErrors(mfa as never)] : badCredentials,
      async handler(ctx, { body, raw, userManager, attempt, fail }) {
        const navigation = form !== null && isFormNavigation(ctx);
        // A browser form's refusal goes back to a page, when one is configured. The audit
        // event tells an inactive account from bad credentials; the answer does not.
        const refuse = (code: string, reason: LoginFailureReason) => {
          if (navigation && form.failure !== undefined) {
            emitAudit(ctx, {
              type: "login_failed",
              reason,
              authMethod: "password",
              email: normalizeEmail(body.username),
              backend: name,
            });
            return seeOther(ctx, form.failure);
          }
          return fail(code, reason);
        };
        // Counted before any lookup, for known and unknown emails alike.
        const counted = await attempt(normalizeEmail(body.username));
        const user = await userManager.authenticate(body);
        if (!user?.isActive) {
          return refuse(
            HttpErrorCode.LOGIN_BAD_CREDENTIALS,
            user ? "user_inactive" : "bad_credentials",
          );
        }
        // The right password: this attempt counts against no one.
        await counted.refund();
        if (verified && !user.isVerified) {
          return refuse(HttpErrorCode.LOGIN_USER_NOT_VERIFIED, "user_not_verified");
        }
        // A second factor: no session yet, a challenge (or the policy's enrolment) instead.
        if (mfaGate && !(await mfaGate(ctx, user, userManager))) return undefined;
        await startSession(ctx, user, userManager);
        if (navigation) seeOther(ctx, redirectTarget(ctx, raw, form.success, form.allowed));
        return undefined;
      },
    }),
    userRoute<U, ID>({
      ...session,
      method: "post",
      path: "/logout",
      operationId: `auth:${name}.logout`,
      summary: `Log out (${name})`,
      description: "Destroys the token this backend's transport carried.",
      response: { transport: "logout" },
      ...(form ? { redirect: form.logoutDescription } : {}),
      // A browser form whose cookie expired meanwhile is logged out all the same: the
      // cookies are cleared and the browser goes where a logout goes, not to a JSON 401.
      ...(form
        ? {
            signedOut: (ctx: Context) => {
              if (!isFormNavigation(ctx)) return false;
              writeAuthResponse(ctx, logoutResponse());
              seeOther(ctx, redirectTarget(ctx, undefined, form.logout, form.allowed));
              return true;
            },
          }
        : {}),
      async handler(ctx, { auth }) {
        const { strategy, session } = auth;
        // Through the session API where the strategy has one (issue 14).
        let response: AuthResponse;
        if (strategy.sessions && session) {
          await strategy.sessions.invalidateSession(auth.user.id, session.handle);
          response = logoutResponse();
        } else {
          response = await backend.logout(strategy, auth.user, auth.token);
        }
        emitAudit(ctx, {
          type: "session_revoked",
          reason: "logout",
          scope: "current",
          sessionId: session?.handle ?? null,
        });
        if (form === null || !isFormNavigation(ctx)) return response;
        writeAuthResponse(ctx, response);
        seeOther(ctx, redirectTarget(ctx, undefined, form.logout, form.allowed));
        return undefined;
      },
    }),
    userRoute<U, ID>({
      ...session,
      method: "post",
      path: "/logout-all",
      operationId: `auth:${name}.logout_all`,
      summary: `Log out everywhere (${name})`,
      description: "Destroys every token of the user in this backend's strategy.",
      response: { transport: "logout" },
      errors: [
        {
          // Answering 204 would tell the user their other devices are logged out when
          // they are not: say plainly that this backend cannot do it.
          status: 501,
          code: HttpErrorCode.LOGOUT_ALL_NOT_SUPPORTED,
          summary: "This backend's strategy cannot revoke its tokens.",
          on: [ErrorCode.STRATEGY_DESTROY_NOT_SUPPORTED],
        },
      ],
      async handler(ctx, { auth }) {
        await auth.strategy.destroyAllTokens(auth.user);
        emitAudit(ctx, {
          type: "session_revoked",
          reason: "logout_all",
          scope: "all",
          sessionId: null,
        });
        return logoutResponse();
      },
    }),
  ];
  if (pairs) routes.push(refreshRoute(backend, cookie, refreshPath));
  const transport = pairs ? "pair" : "login";
  // The password step checked `requiresVerification` before issuing the challenge.
  if (mfa) routes.push(...mfaLoginRoutes<U, ID>(name, mfa, transport, startSession));
  if (passkeys) {
    routes.push(
      ...passkeyLoginRoutes<U, ID>(name, passkeys, transport, {
        requiresVerification: verified,
        startSession,
        mfaGate,
        extraErrors: mfa ? mfaLoginErrors(mfa as never) : [],
      }),
    );
  }
  return routes;
}

/**
 * `POST /refresh`: rotates the refresh token into a new pair (RFC 6749 §6). Bearer clients
 * send the form `grant_type=refresh_token&refresh_token=…`; cookie clients send the refresh
 * cookie (scoped to this path) and are CSRF-checked as any cookie-authenticated change.
 */
function refreshRoute<U extends UserProtocol<ID>, ID>(
  backend: AuthenticationBackend<U, ID, Context>,
  cookie: CookieTransport | null,
  refreshPath: string,
): RouteSpec<U, ID> {
  const { name } = backend;
  return publicRoute<U, ID, z.output<typeof refreshForm> | undefined>({
    method: "post",
    path: "/refresh",
    operationId: `auth:${name}.refresh`,
    summary: `Refresh the access token (${name})`,
    description: cookie
      ? `Reads the refresh cookie \`${cookie.refreshCookieName}\` (sent only to this path), ` +
        "rotates it and sets both cookies again. A refresh token is usable once: sending one " +
        "whose successor was already used ends the session (`REFRESH_TOKEN_REUSED`)."
      : "RFC 6749 §6 refresh grant: rotates the refresh token into a new pair. A refresh " +
        "token is usable once: sending one whose successor was already used ends the session " +
        "(`REFRESH_TOKEN_REUSED`).",
    tags: ["auth"],
    backend: name,
    ...(cookie ? { csrf: "cookie" as const } : {}),
    ...(cookie
      ? {}
      : { body: { type: "form" as const, schema: refreshForm, name: "RefreshTokenGrantForm" } }),
    response: { transport: "pair" },
    errors: [
      {
        status: 401,
        code: HttpErrorCode.REFRESH_TOKEN_INVALID,
        summary: "Unknown, expired or revoked refresh token, or an inactive user: log in again.",
        on: [ErrorCode.REFRESH_TOKEN_INVALID],
      },
      {
        status: 401,
        code: HttpErrorCode.REFRESH_TOKEN_REUSED,
        summary: "A refresh token already rotated: it was copied, and the session is ended.",
        on: [ErrorCode.REFRESH_TOKEN_REUSED],
      },
    ],
    async handler(ctx, { body, userManager, fail }) {
      const token = cookie
        ? cookie.readRefreshToken(authRequest(ctx))
        : (body?.refresh_token ?? null);
      if (token === null) return fail(HttpErrorCode.REFRESH_TOKEN_INVALID);
      const strategy = await backend.getStrategy(ctx);
      if (!strategy.refresh) {
        throw new ConfigurationError(
          `the "${name}" backend's strategy issues no refresh tokens (use RefreshTokenStrategy)`,
        );
      }
      const { tokens } = await strategy.refresh(token, userManager, ctx);
      return backend.transport.loginResponse(tokens.accessToken, { ...tokens, refreshPath });
    },
  });
}

/** The resolved `formRedirect` of a cookie backend, or null. */
function formOptions<U extends UserProtocol<ID>, ID>(
  backend: AuthenticationBackend<U, ID, Context>,
  given: FormRedirectOptions | undefined,
) {
  if (given === undefined) return null;
  if (!(backend.transport instanceof CookieTransport)) {
    throw new ConfigurationError(
      `formRedirect answers browser forms, which log in with cookies: "${backend.name}" is no cookie backend`,
    );
  }
  const success = checkedPath(given.success, "formRedirect.success");
  const logout = checkedPath(given.logout ?? success, "formRedirect.logout");
  const failure =
    given.failure === undefined ? undefined : checkedPath(given.failure, "formRedirect.failure");
  const allowed = [...(given.allowed ?? [])];
  for (const prefix of allowed) checkedPath(prefix, "formRedirect.allowed");
  const next = allowed.length > 0 ? ", or to an allowed `next`" : "";
  return {
    success,
    logout,
    failure,
    allowed,
    loginDescription:
      `A browser form (\`Accept: text/html\`): logged in, see \`${success}\`${next}` +
      (failure ? `; refused, see \`${failure}\`` : ""),
    logoutDescription: `A browser form (\`Accept: text/html\`): logged out, see \`${logout}\`${next}`,
  };
}
