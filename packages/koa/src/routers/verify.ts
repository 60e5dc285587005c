import { Router } from "@koa/router";
import { ErrorCode, isTesseraError, normalizeEmail, type UserProtocol } from "@tessera/core";
import { z } from "zod";
import { readJsonBody } from "../body.js";
import { handle, writeJsonNull } from "../context.js";
import { HttpErrorCode } from "../error-codes.js";
import { HttpError } from "../http-error.js";
import { emailSchema, parseBody } from "../schemas.js";
import type { RouterDeps, RouterOptions } from "./deps.js";

/** Body of `POST /request-verify-token`. */
export const emailBody = z.object({ email: emailSchema });
/** Body of `POST /verify`. */
export const tokenBody = z.object({ token: z.string().max(8192) });

/** `POST /request-verify-token` (202 for every email) and `POST /verify`. */
export function createVerifyRouter<U extends UserProtocol<ID>, ID>(
  deps: RouterDeps<U, ID>,
  options: RouterOptions = {},
): Router {
  const router = new Router(options.prefix ? { prefix: options.prefix } : {});

  router.post(
    "/request-verify-token",
    handle(async (ctx) => {
      const { email } = parseBody(emailBody, await readJsonBody(ctx, deps.bodyLimit));
      await deps.rateLimiter?.attempt(
        ctx,
        "requestVerifyToken",
        normalizeEmail(email),
        HttpErrorCode.TOO_MANY_REQUESTS,
      );
      const userManager = await deps.getUserManager(ctx);
      // The same 202 whether or not the account exists, is inactive or verified: the
      // answer must not reveal which emails are registered. Nor must its timing (ASVS 5.0
      // 6.3.8): the cases are told apart without an exception (building one costs enough
      // to show), and when there is nothing to mail a token is signed all the same.
      const user = await userManager.findByEmail(email);
      let mailed = false;
      if (user?.isActive && !user.isVerified) {
        try {
          await userManager.requestVerify(user, ctx);
          mailed = true;
        } catch (error) {
          // An override of requestVerify may refuse for these reasons too.
          if (
            !isTesseraError(error, ErrorCode.USER_INACTIVE) &&
            !isTesseraError(error, ErrorCode.USER_ALREADY_VERIFIED)
          ) {
            throw error;
          }
        }
      }
      if (!mailed) await userManager.signDecoyToken("verify");
      writeJsonNull(ctx, 202);
    }),
  );

  router.post(
    "/verify",
    handle(async (ctx) => {
      const { token } = parseBody(tokenBody, await readJsonBody(ctx, deps.bodyLimit));
      const userManager = await deps.getUserManager(ctx);
      try {
        ctx.body = deps.read(await userManager.verify(token, ctx));
      } catch (error) {
        if (
          isTesseraError(error, ErrorCode.INVALID_VERIFY_TOKEN) ||
          isTesseraError(error, ErrorCode.USER_NOT_EXISTS)
        ) {
          throw new HttpError(400, HttpErrorCode.VERIFY_USER_BAD_TOKEN);
        }
        if (isTesseraError(error, ErrorCode.USER_ALREADY_VERIFIED)) {
          throw new HttpError(400, HttpErrorCode.VERIFY_USER_ALREADY_VERIFIED);
        }
        throw error;
      }
    }),
  );

  return router;
}
