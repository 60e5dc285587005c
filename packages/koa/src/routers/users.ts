import { Router } from "@koa/router";
import {
  type CurrentUserOptions,
  ErrorCode,
  InvalidPasswordError,
  isTesseraError,
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
import type { RouterDeps, RouterOptions } from "./deps.js";
import { addSessionRoutes } from "./sessions.js";

/** Options of the users router. */
export interface UsersRouterOptions extends RouterOptions {
  /** Unverified users get 403 on every route. @default false */
  requiresVerification?: boolean;
}

const NOT_FOUND = () => new HttpError(404, "Not Found");

async function updateOr400<U extends UserProtocol<ID>, ID>(
  userManager: UserManager<U, ID>,
  input: Record<string, unknown>,
  user: U,
  safe: boolean,
  ctx: Context,
): Promise<U> {
  try {
    return await userManager.update(input as UserUpdate, user, { safe, context: ctx });
  } catch (error) {
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
    return { userManager, user: result.user };
  }

  async function target(ctx: Context) {
    const { userManager } = await current(ctx, { active: true, verified, superuser: true });
    let id: ID;
    try {
      id = userManager.parseId(ctx.params.id);
    } catch {
      throw NOT_FOUND();
    }
    const user = await userManager.userDb.get(id);
    if (!user) throw NOT_FOUND();
    return { userManager, user };
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
      const { userManager, user } = await current(ctx, { active: true, verified });
      const input = wireToModel(parseBody(updateSchema, await readJsonBody(ctx, deps.bodyLimit)));
      // Writes start from the stored user, not from what authenticated the request: a
      // strategy may have served a cached snapshot (Redis) that is not a full record.
      const stored = await userManager.userDb.get(user.id);
      if (!stored) throw new HttpError(401, "Unauthorized");
      ctx.body = deps.read(await updateOr400(userManager, input, stored, true, ctx));
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
      const { userManager, user } = await target(ctx);
      const input = wireToModel(parseBody(updateSchema, await readJsonBody(ctx, deps.bodyLimit)));
      ctx.body = deps.read(await updateOr400(userManager, input, user, false, ctx));
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
