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
      try {
        await userManager.forgotPassword(await userManager.getByEmail(email), ctx);
      } catch (error) {
        // 202 either way: the answer must not reveal whether the email is registered.
        if (
          !isTesseraError(error, ErrorCode.USER_NOT_EXISTS) &&
          !isTesseraError(error, ErrorCode.USER_INACTIVE)
        ) {
          throw error;
        }
        // Nothing to mail: sign a token all the same, so the timing does not tell either.
        await userManager.signDecoyToken("reset");
      }
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
