import { Router } from "@koa/router";
import {
  ErrorCode,
  InvalidPasswordError,
  isTesseraError,
  normalizeEmail,
  type UserCreate,
  type UserProtocol,
} from "@tessera/core";
import type { z } from "zod";
import { readJsonBody } from "../body.js";
import { handle } from "../context.js";
import { HttpErrorCode } from "../error-codes.js";
import { HttpError } from "../http-error.js";
import { parseBody, wireToModel } from "../schemas.js";
import type { RouterDeps, RouterOptions } from "./deps.js";

/** `POST /register` -> 201 with the new user. */
export function createRegisterRouter<U extends UserProtocol<ID>, ID>(
  deps: RouterDeps<U, ID>,
  createSchema: z.ZodType<Record<string, unknown>>,
  options: RouterOptions = {},
): Router {
  const router = new Router(options.prefix ? { prefix: options.prefix } : {});
  router.post(
    "/register",
    handle(async (ctx) => {
      const input = wireToModel(parseBody(createSchema, await readJsonBody(ctx, deps.bodyLimit)));
      await deps.rateLimiter?.attempt(
        ctx,
        "register",
        typeof input.email === "string" ? normalizeEmail(input.email) : null,
        HttpErrorCode.TOO_MANY_REQUESTS,
      );
      const userManager = await deps.getUserManager(ctx);
      try {
        const user = await userManager.create(input as UserCreate, { safe: true, context: ctx });
        ctx.status = 201;
        ctx.body = deps.read(user);
      } catch (error) {
        if (isTesseraError(error, ErrorCode.USER_ALREADY_EXISTS)) {
          throw new HttpError(400, HttpErrorCode.REGISTER_USER_ALREADY_EXISTS);
        }
        if (error instanceof InvalidPasswordError) {
          throw new HttpError(400, {
            code: HttpErrorCode.REGISTER_INVALID_PASSWORD,
            reason: error.reason,
          });
        }
        throw error;
      }
    }),
  );
  return router;
}
