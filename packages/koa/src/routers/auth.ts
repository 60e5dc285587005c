import {
  type AuthenticationBackend,
  type AuthResponse,
  ConfigurationError,
  CookieTransport,
  ErrorCode,
  normalizeEmail,
  type SessionDevice,
  type UserProtocol,
} from "@tessera/core";
import type { Context } from "koa";
import { z } from "zod";
import { writeAuthResponse } from "../context.js";
import type { CsrfProtection } from "../csrf.js";
import { HttpErrorCode } from "../error-codes.js";
import type { RouterOptions } from "../route/deps.js";
import { publicRoute, type RouteError, type RouteSpec, userRoute } from "../route/spec.js";
import { checkedPath, isFormNavigation, redirectTarget, seeOther } from "./form-redirect.js";

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
   * Cookie backends only: a login or logout posted by an HTML form (`Accept: text/html`)
   * answers `303` to this path (or to an allowed `next`) instead of `204`.
   * @default undefined (every client gets the API answers)
   */
  formRedirect?: FormRedirectOptions;
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

const NOT_VERIFIED = "The user is not verified (`requiresVerification`).";

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
): RouteSpec<U, ID>[] {
  const { name } = backend;
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
  return [
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
      response: { transport: "login" },
      ...(form ? { redirect: form.loginDescription } : {}),
      errors: badCredentials,
      async handler(ctx, { body, raw, userManager, attempt, fail }) {
        const navigation = form !== null && isFormNavigation(ctx);
        // A browser form's refusal goes back to a page, when one is configured.
        const refuse = (code: string) => {
          if (navigation && form.failure !== undefined) return seeOther(ctx, form.failure);
          return fail(code);
        };
        // Counted before any lookup, for known and unknown emails alike.
        const counted = await attempt(normalizeEmail(body.username));
        const user = await userManager.authenticate(body);
        if (!user?.isActive) return refuse(HttpErrorCode.LOGIN_BAD_CREDENTIALS);
        // The right password: this attempt counts against no one.
        await counted.refund();
        if (verified && !user.isVerified) return refuse(HttpErrorCode.LOGIN_USER_NOT_VERIFIED);
        const strategy = await backend.getStrategy(ctx);
        // A session records where it was created from (issue 14).
        const token = strategy.writeSession
          ? await strategy.writeSession(user, { device: deviceOf(ctx) })
          : await strategy.writeToken(user);
        const response = backend.transport.loginResponse(token);
        if (csrf?.applies(backend.transport) && backend.transport instanceof CookieTransport) {
          // The page's JS reads this cookie and echoes it in x-csrf-token.
          response.cookies = [...(response.cookies ?? []), csrf.cookieFor(backend.transport)];
        }
        // Written before the hook, which may read it (FastAPI Users passes the response).
        writeAuthResponse(ctx, response);
        await userManager.onAfterLogin(user, ctx);
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
      async handler(ctx, { auth }) {
        const { strategy, session } = auth;
        // Through the session API where the strategy has one (issue 14).
        let response: AuthResponse;
        if (strategy.sessions && session) {
          await strategy.sessions.invalidateSession(auth.user.id, session.handle);
          response = backend.transport.logoutResponse();
        } else {
          response = await backend.logout(strategy, auth.user, auth.token);
        }
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
      async handler(_ctx, { auth }) {
        return backend.logoutAll(auth.strategy, auth.user);
      },
    }),
  ];
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
