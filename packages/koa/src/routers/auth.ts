import { Router } from "@koa/router";
import {
  type AuthenticationBackend,
  CookieTransport,
  normalizeEmail,
  StrategyDestroyNotSupportedError,
  type UserProtocol,
} from "@tessera/core";
import type { Context } from "koa";
import { z } from "zod";
import { readFormBody } from "../body.js";
import { handle, writeAuthResponse } from "../context.js";
import { HttpErrorCode } from "../error-codes.js";
import { HttpError } from "../http-error.js";
import { parseBody } from "../schemas.js";
import type { RouterDeps, RouterOptions } from "./deps.js";

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

/** `POST /login`, `POST /logout` and `POST /logout-all` for one backend. */
export function createAuthRouter<U extends UserProtocol<ID>, ID>(
  deps: RouterDeps<U, ID>,
  backend: AuthenticationBackend<U, ID, Context>,
  options: AuthRouterOptions = {},
): Router {
  const router = new Router(options.prefix ? { prefix: options.prefix } : {});
  const requiresVerification = options.requiresVerification ?? false;

  router.post(
    "/login",
    handle(async (ctx) => {
      // Login CSRF: a cross-site form must not log the victim into the attacker's account.
      const csrf = deps.csrf?.applies(backend.transport) ? deps.csrf : null;
      csrf?.check(ctx, { login: true });
      const form = parseBody(loginForm, await readFormBody(ctx, deps.bodyLimit));
      // Decided before any lookup, for known and unknown emails alike: a throttled login
      // answers the body of a failed one, and only its status (429) and Retry-After differ
      // (ASVS 5.0 6.3.1, 6.3.8).
      const attempt = await deps.rateLimiter?.attempt(
        ctx,
        "login",
        normalizeEmail(form.username),
        HttpErrorCode.LOGIN_BAD_CREDENTIALS,
      );
      const userManager = await deps.getUserManager(ctx);
      const user = await userManager.authenticate({
        username: form.username,
        password: form.password,
      });
      if (!user?.isActive) throw new HttpError(400, HttpErrorCode.LOGIN_BAD_CREDENTIALS);
      // The right password: this attempt counts against no one.
      await attempt?.refund();
      if (requiresVerification && !user.isVerified) {
        throw new HttpError(400, HttpErrorCode.LOGIN_USER_NOT_VERIFIED);
      }
      const strategy = await backend.getStrategy(ctx);
      const response = await backend.login(strategy, user);
      if (csrf && backend.transport instanceof CookieTransport) {
        // The page's JS reads this cookie and echoes it in x-csrf-token.
        response.cookies = [...(response.cookies ?? []), csrf.cookieFor(backend.transport)];
      }
      writeAuthResponse(ctx, response);
      await userManager.onAfterLogin(user, ctx);
    }),
  );

  // Only this backend's transport is read, so a token is destroyed by the strategy that
  // issued it — never by another backend's (a FastAPI Users pitfall).
  async function ownSession(ctx: Context) {
    const { result } = await deps.authenticate(ctx, {
      active: true,
      verified: requiresVerification,
      backends: [backend.name],
    });
    if (!result) throw new HttpError(401, "Unauthorized");
    return result;
  }

  router.post(
    "/logout",
    handle(async (ctx) => {
      const { strategy, user, token } = await ownSession(ctx);
      writeAuthResponse(ctx, await backend.logout(strategy, user, token));
    }),
  );

  router.post(
    "/logout-all",
    handle(async (ctx) => {
      const { strategy, user } = await ownSession(ctx);
      try {
        writeAuthResponse(ctx, await backend.logoutAll(strategy, user));
      } catch (error) {
        // Answering 204 would tell the user their other devices are logged out when they
        // are not: say plainly that this backend cannot do it.
        if (error instanceof StrategyDestroyNotSupportedError) {
          throw new HttpError(501, HttpErrorCode.LOGOUT_ALL_NOT_SUPPORTED);
        }
        throw error;
      }
    }),
  );

  return router;
}
