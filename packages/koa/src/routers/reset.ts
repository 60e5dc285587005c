import { Router } from "@koa/router";
import {
  ErrorCode,
  InvalidPasswordError,
  isTesseraError,
  normalizeEmail,
  type UserProtocol,
} from "@tessera/core";
import { z } from "zod";
import { readJsonBody } from "../body.js";
import { handle, writeJsonNull } from "../context.js";
import { HttpErrorCode } from "../error-codes.js";
import { HttpError } from "../http-error.js";
import { emailSchema, parseBody, passwordSchema } from "../schemas.js";
import type { RouterDeps, RouterOptions } from "./deps.js";

/** Body of `POST /forgot-password`. */
export const forgotBody = z.object({ email: emailSchema });
/** Body of `POST /reset-password`. */
export const resetBody = z.object({ token: z.string().max(8192), password: passwordSchema });

/** `POST /forgot-password` (202 for every email) and `POST /reset-password`. */
export function createResetPasswordRouter<U extends UserProtocol<ID>, ID>(
  deps: RouterDeps<U, ID>,
  options: RouterOptions = {},
): Router {
  const router = new Router(options.prefix ? { prefix: options.prefix } : {});

  router.post(
    "/forgot-password",
    handle(async (ctx) => {
      const { email } = parseBody(forgotBody, await readJsonBody(ctx, deps.bodyLimit));
      // Per account too: nobody can have a victim's inbox flooded with reset mails.
      await deps.rateLimiter?.attempt(
        ctx,
        "forgotPassword",
        normalizeEmail(email),
        HttpErrorCode.TOO_MANY_REQUESTS,
      );
      const userManager = await deps.getUserManager(ctx);
      // 202 either way: the answer must not reveal whether the email is registered, nor
      // its timing (ASVS 5.0 6.3.8): no exception tells the cases apart, and when there is
      // nothing to mail a token is signed all the same.
      const user = await userManager.findByEmail(email);
      let mailed = false;
      if (user?.isActive) {
        try {
          await userManager.forgotPassword(user, ctx);
          mailed = true;
        } catch (error) {
          // An override of forgotPassword may refuse an inactive account too.
          if (!isTesseraError(error, ErrorCode.USER_INACTIVE)) throw error;
        }
      }
      if (!mailed) await userManager.signDecoyToken("reset");
      writeJsonNull(ctx, 202);
    }),
  );

  router.post(
    "/reset-password",
    handle(async (ctx) => {
      const { token, password } = parseBody(resetBody, await readJsonBody(ctx, deps.bodyLimit));
      const userManager = await deps.getUserManager(ctx);
      // The account is the user of a validly signed token: a forged token names no one.
      await deps.rateLimiter?.attempt(
        ctx,
        "resetPassword",
        await userManager.resetPasswordTokenSubject(token),
        HttpErrorCode.TOO_MANY_REQUESTS,
      );
      try {
        await userManager.resetPassword(token, password, ctx);
      } catch (error) {
        if (
          isTesseraError(error, ErrorCode.INVALID_RESET_PASSWORD_TOKEN) ||
          isTesseraError(error, ErrorCode.USER_NOT_EXISTS) ||
          isTesseraError(error, ErrorCode.USER_INACTIVE)
        ) {
          throw new HttpError(400, HttpErrorCode.RESET_PASSWORD_BAD_TOKEN);
        }
        if (error instanceof InvalidPasswordError) {
          throw new HttpError(400, {
            code: HttpErrorCode.RESET_PASSWORD_INVALID_PASSWORD,
            reason: error.reason,
          });
        }
        throw error;
      }
      writeJsonNull(ctx, 200);
    }),
  );

  return router;
}
