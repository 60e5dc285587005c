import { Router } from "@koa/router";
import {
  type CurrentUserOptions,
  ErrorCode,
  InvalidPasswordError,
  isTesseraError,
  normalizeEmail,
  type UpdateOptions,
  type UserManager,
  type UserProtocol,
  type UserUpdate,
} from "@tessera/core";
import type { Context } from "koa";
import type { z } from "zod";
import { readJsonBody } from "../body.js";
import { handle } from "../context.js";
import { HttpErrorCode } from "../error-codes.js";
import { HttpError } from "../http-error.js";
import { parseBody, wireToModel } from "../schemas.js";

// As passwordSchema's bound: a longer "current password" is not one.
const MAX_PASSWORD_LENGTH = 65_536;

import type { RouterDeps, RouterOptions } from "./deps.js";
import { addSessionRoutes } from "./sessions.js";

/** Options of the users router. */
export interface UsersRouterOptions extends RouterOptions {
  /** Unverified users get 403 on every route. @default false */
  requiresVerification?: boolean;
}

const NOT_FOUND = () => new HttpError(404, "Not Found");

/**
 * The update body as model fields, and the `current_password` sent with it (taken from the
 * raw body too, so an app's own update schema need not declare it). It never reaches the user.
 */
async function readUpdate(
  ctx: Context,
  schema: z.ZodType<Record<string, unknown>>,
  limit: number,
): Promise<{ input: Record<string, unknown>; currentPassword: string | undefined }> {
  const raw = await readJsonBody(ctx, limit);
  const { current_password: _, ...fields } = parseBody(schema, raw);
  const sent = (raw as { current_password?: unknown } | undefined)?.current_password;
  const currentPassword =
    typeof sent === "string" && sent.length <= MAX_PASSWORD_LENGTH ? sent : undefined;
  return { input: wireToModel(fields), currentPassword };
}

/** True when `input` sets a new password, or an email other than the user's. */
function changesCredentials(input: Record<string, unknown>, user: UserProtocol<unknown>): boolean {
  if (input.password !== undefined && input.password !== null) return true;
  return typeof input.email === "string" && normalizeEmail(input.email) !== user.email;
}

async function updateOr400<U extends UserProtocol<ID>, ID>(
  userManager: UserManager<U, ID>,
  input: Record<string, unknown>,
  user: U,
  options: UpdateOptions,
): Promise<U> {
  try {
    return await userManager.update(input as UserUpdate, user, options);
  } catch (error) {
    if (isTesseraError(error, ErrorCode.INVALID_CURRENT_PASSWORD)) {
      throw new HttpError(400, HttpErrorCode.UPDATE_USER_INVALID_CURRENT_PASSWORD);
    }
    if (error instanceof InvalidPasswordError) {
      throw new HttpError(400, {
        code: HttpErrorCode.UPDATE_USER_INVALID_PASSWORD,
        reason: error.reason,
      });
    }
    if (isTesseraError(error, ErrorCode.USER_ALREADY_EXISTS)) {
      throw new HttpError(400, HttpErrorCode.UPDATE_USER_EMAIL_ALREADY_EXISTS);
    }
    throw error;
  }
}

/** `GET/PATCH /me`, and `GET/PATCH/DELETE /{id}` for superusers. */
export function createUsersRouter<U extends UserProtocol<ID>, ID>(
  deps: RouterDeps<U, ID>,
  updateSchema: z.ZodType<Record<string, unknown>>,
  options: UsersRouterOptions = {},
): Router {
  const router = new Router(options.prefix ? { prefix: options.prefix } : {});
  const verified = options.requiresVerification ?? false;

  async function current(ctx: Context, requirements: CurrentUserOptions) {
    const { userManager, result } = await deps.authenticate(ctx, requirements);
    if (!result) throw new HttpError(401, "Unauthorized");
    return { userManager, user: result.user, token: result.token };
  }

  async function target(ctx: Context) {
    const caller = await current(ctx, { active: true, verified, superuser: true });
    const { userManager } = caller;
    let id: ID;
    try {
      id = userManager.parseId(ctx.params.id);
    } catch {
      throw NOT_FOUND();
    }
    const user = await userManager.userDb.get(id);
    if (!user) throw NOT_FOUND();
    // A superuser editing their own record keeps the session they do it from.
    const self = String(user.id) === String(caller.user.id);
    return { userManager, user, currentToken: self ? caller.token : undefined };
  }

  router.get(
    "/me",
    handle(async (ctx) => {
      ctx.body = deps.read((await current(ctx, { active: true, verified })).user);
    }),
  );
  router.patch(
    "/me",
    handle(async (ctx) => {
      const { userManager, user, token } = await current(ctx, { active: true, verified });
      const { input, currentPassword } = await readUpdate(ctx, updateSchema, deps.bodyLimit);
      // Writes start from the stored user, not from what authenticated the request: a
      // strategy may have served a cached snapshot (Redis) that is not a full record.
      const stored = await userManager.userDb.get(user.id);
      if (!stored) throw new HttpError(401, "Unauthorized");
      // Checking current_password is a password guess like a login's: it counts in the
      // same buckets, and a right one is given back.
      const guess = changesCredentials(input, stored)
        ? await deps.rateLimiter?.attempt(
            ctx,
            "login",
            stored.email,
            HttpErrorCode.UPDATE_USER_INVALID_CURRENT_PASSWORD,
          )
        : undefined;
      // A stolen session alone must not change the password or the email (ASVS 5.0 6.2.3,
      // 7.5.1); the session that changes the password stays, the others end (7.4.3).
      ctx.body = deps.read(
        await updateOr400(userManager, input, stored, {
          safe: true,
          context: ctx,
          requireCurrentPassword: true,
          currentPassword,
          currentToken: token,
        }),
      );
      await guess?.refund();
    }),
  );
  // Before "/:id", which would otherwise match "me".
  addSessionRoutes(router, deps, verified);
  router.get(
    "/:id",
    handle(async (ctx) => {
      ctx.body = deps.read((await target(ctx)).user);
    }),
  );
  router.patch(
    "/:id",
    handle(async (ctx) => {
      const { userManager, user, currentToken } = await target(ctx);
      const { input } = await readUpdate(ctx, updateSchema, deps.bodyLimit);
      ctx.body = deps.read(
        await updateOr400(userManager, input, user, {
          safe: false,
          context: ctx,
          ...(currentToken === undefined ? {} : { currentToken }),
        }),
      );
    }),
  );
  router.delete(
    "/:id",
    handle(async (ctx) => {
      const { userManager, user } = await target(ctx);
      await userManager.delete(user, ctx);
      ctx.status = 204;
    }),
  );
  return router;
}
