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
      try {
        const user = await userManager.getByEmail(email);
        await userManager.requestVerify(user, ctx);
      } catch (error) {
        // The same 202 whether or not the account exists, is inactive or verified:
        // the answer must not reveal which emails are registered.
        if (
          !isTesseraError(error, ErrorCode.USER_NOT_EXISTS) &&
          !isTesseraError(error, ErrorCode.USER_INACTIVE) &&
          !isTesseraError(error, ErrorCode.USER_ALREADY_VERIFIED)
        ) {
          throw error;
        }
        // Nothing to mail: sign a token all the same, so the timing does not tell either.
        await userManager.signDecoyToken("verify");
      }
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
