import {
  type AuthenticationBackend,
  CookieTransport,
  ErrorCode,
  normalizeEmail,
  type UserProtocol,
} from "@tessera/core";
import type { Context } from "koa";
import { z } from "zod";
import { writeAuthResponse } from "../context.js";
import type { CsrfProtection } from "../csrf.js";
import { HttpErrorCode } from "../error-codes.js";
import type { RouterOptions } from "../route/deps.js";
import { publicRoute, type RouteError, type RouteSpec, userRoute } from "../route/spec.js";

/** Options of the auth router. */
export interface AuthRouterOptions extends RouterOptions {
  /** Unverified users cannot log in (400 LOGIN_USER_NOT_VERIFIED) nor log out. @default false */
  requiresVerification?: boolean;
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
): RouteSpec<U, ID>[] {
  const { name } = backend;
  const verified = options.requiresVerification ?? false;
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
      errors: badCredentials,
      async handler(ctx, { body, userManager, attempt, fail }) {
        // Counted before any lookup, for known and unknown emails alike.
        const counted = await attempt(normalizeEmail(body.username));
        const user = await userManager.authenticate(body);
        if (!user?.isActive) return fail(HttpErrorCode.LOGIN_BAD_CREDENTIALS);
        // The right password: this attempt counts against no one.
        await counted.refund();
        if (verified && !user.isVerified) return fail(HttpErrorCode.LOGIN_USER_NOT_VERIFIED);
        const strategy = await backend.getStrategy(ctx);
        const response = await backend.login(strategy, user);
        if (csrf?.applies(backend.transport) && backend.transport instanceof CookieTransport) {
          // The page's JS reads this cookie and echoes it in x-csrf-token.
          response.cookies = [...(response.cookies ?? []), csrf.cookieFor(backend.transport)];
        }
        // Written before the hook, which may read it (FastAPI Users passes the response).
        writeAuthResponse(ctx, response);
        await userManager.onAfterLogin(user, ctx);
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
      async handler(_ctx, { auth }) {
        return backend.logout(auth.strategy, auth.user, auth.token);
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
