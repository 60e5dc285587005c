import {
  type AuthenticationBackend,
  ErrorCode,
  type UserManager,
  type UserProtocol,
  type UserUpdate,
} from "@tessera/core";
import { changesCredentials } from "@tessera/core/internal";
import type { Context } from "koa";
import type { z } from "zod";
import { HttpErrorCode } from "../error-codes.js";
import { HttpError } from "../http-error.js";
import type { RouterOptions } from "../route/deps.js";
import { notFound, passwordRejected } from "../route/errors.js";
import { type RouteError, type RouteSpec, userRoute } from "../route/spec.js";
import { wireToModel } from "../schemas.js";
import { sessionRoutes } from "./sessions.js";

/** Options of the users router. */
export interface UsersRouterOptions extends RouterOptions {
  /** Unverified users get 403 on every route. @default false */
  requiresVerification?: boolean;
  /**
   * `PATCH /users/me` needs the right `current_password` to change the password or the
   * email (ASVS 5.0 6.2.3, 7.5.1), so a stolen session alone cannot take the account over.
   * `false` is FastAPI Users' behaviour: turn it off only while migrating a FastAPI Users
   * front-end that does not send `current_password`, and plan to turn it back on.
   * @default true
   */
  requireCurrentPassword?: boolean;
}

const updateErrors = (self: boolean): RouteError[] => [
  {
    status: 400,
    code: HttpErrorCode.UPDATE_USER_EMAIL_ALREADY_EXISTS,
    summary: "A user with this email already exists.",
    on: [ErrorCode.USER_ALREADY_EXISTS],
  },
  passwordRejected(HttpErrorCode.UPDATE_USER_INVALID_PASSWORD),
  ...(self
    ? [
        {
          status: 400,
          code: HttpErrorCode.UPDATE_USER_INVALID_CURRENT_PASSWORD,
          summary: "A new password or email without the right `current_password`.",
          on: [ErrorCode.INVALID_CURRENT_PASSWORD],
        },
      ]
    : []),
];

const idParameter = {
  name: "id",
  in: "path",
  required: true,
  description: "The user's id; a malformed one answers 404",
  schema: { type: "string" },
} as const;

const NO_USER = notFound("No user with this id, or a malformed id.");

/** The user the path names, for a superuser's route; 404 when there is none. */
async function target<U extends UserProtocol<ID>, ID>(
  ctx: Context,
  userManager: UserManager<U, ID>,
  fail: (code: string) => never,
): Promise<U> {
  let id: ID;
  try {
    id = userManager.parseId(ctx.params.id);
  } catch {
    return fail(NO_USER.code);
  }
  return (await userManager.userDb.get(id)) ?? fail(NO_USER.code);
}

/** `GET/PATCH /me`, the current user's sessions, and `GET/PATCH/DELETE /{id}` for superusers. */
export function usersRoutes<U extends UserProtocol<ID>, ID>(
  updateSchema: z.ZodType<Record<string, unknown>>,
  read: (user: U) => Record<string, unknown>,
  options: UsersRouterOptions,
  backends: readonly AuthenticationBackend<U, ID, Context>[],
): RouteSpec<U, ID>[] {
  const verified = options.requiresVerification ?? false;
  const requireCurrentPassword = options.requireCurrentPassword ?? true;
  const userBody = { type: "json", schema: updateSchema, name: "UserUpdate" } as const;
  const me = { who: "user", verified, tags: ["users"] } as const;
  const superuser = {
    who: "superuser",
    verified,
    tags: ["users"],
    parameters: [idParameter],
  } as const;
  return [
    userRoute<U, ID>({
      ...me,
      method: "get",
      path: "/me",
      operationId: "users:current_user",
      summary: "The current user",
      response: { status: 200, description: "The current user", body: "UserRead" },
      async handler(_ctx, { auth }) {
        return read(auth.user);
      },
    }),
    userRoute<U, ID, Record<string, unknown>>({
      ...me,
      method: "patch",
      path: "/me",
      operationId: "users:patch_current_user",
      summary: "Update the current user",
      description:
        "`is_active`, `is_superuser` and `is_verified` are ignored here. " +
        (requireCurrentPassword ? "A new `password` or `email` needs `current_password`. " : "") +
        "A new email clears `is_verified`; a new password ends the user's other sessions.",
      body: userBody,
      // Checking current_password is a password guess like a login's: it counts in the
      // same buckets, and a right one is given back.
      ...(requireCurrentPassword
        ? {
            rateLimit: {
              bucket: "login",
              code: HttpErrorCode.UPDATE_USER_INVALID_CURRENT_PASSWORD,
            },
          }
        : {}),
      response: { status: 200, description: "The updated user", body: "UserRead" },
      errors: [
        ...updateErrors(requireCurrentPassword),
        notFound("The user was deleted meanwhile."),
      ],
      async handler(ctx, { body, raw, userManager, auth, attempt }) {
        const input = updateInput(body);
        // Writes start from the stored user, not from what authenticated the request: a
        // strategy may have served a cached snapshot (Redis) that is not a full record.
        const stored = await userManager.userDb.get(auth.user.id);
        if (!stored) throw new HttpError(401, "Unauthorized");
        const guess =
          requireCurrentPassword && changesCredentials(input, stored)
            ? await attempt(stored.email)
            : undefined;
        // A stolen session alone must not change the password or the email (ASVS 5.0
        // 6.2.3, 7.5.1); the session that changes the password stays, the others end (7.4.3).
        const updated = await userManager.update(input as UserUpdate, stored, {
          safe: true,
          context: ctx,
          requireCurrentPassword,
          currentPassword: currentPassword(raw),
          currentToken: auth.token,
          ...(auth.session ? { currentSessionHandle: auth.session.handle } : {}),
        });
        await guess?.refund();
        return read(updated);
      },
    }),
    // Before "/:id", which would otherwise match "me".
    ...sessionRoutes<U, ID>(verified, backends, target, idParameter, NO_USER),
    userRoute<U, ID>({
      ...superuser,
      method: "get",
      path: "/:id",
      operationId: "users:user",
      summary: "A user (superuser)",
      response: { status: 200, description: "The user", body: "UserRead" },
      errors: [NO_USER],
      async handler(ctx, { userManager, fail }) {
        return read(await target(ctx, userManager, fail));
      },
    }),
    userRoute<U, ID, Record<string, unknown>>({
      ...superuser,
      method: "patch",
      path: "/:id",
      operationId: "users:patch_user",
      summary: "Update a user (superuser)",
      body: userBody,
      response: { status: 200, description: "The updated user", body: "UserRead" },
      errors: [...updateErrors(false), NO_USER],
      async handler(ctx, { body, userManager, auth, fail }) {
        const user = await target(ctx, userManager, fail);
        // A superuser editing their own record keeps the session they do it from.
        const self = String(user.id) === String(auth.user.id);
        const updated = await userManager.update(updateInput(body), user, {
          safe: false,
          context: ctx,
          ...(self
            ? {
                currentToken: auth.token,
                ...(auth.session ? { currentSessionHandle: auth.session.handle } : {}),
              }
            : {}),
        });
        return read(updated);
      },
    }),
    userRoute<U, ID>({
      ...superuser,
      method: "delete",
      path: "/:id",
      operationId: "users:delete_user",
      summary: "Delete a user (superuser)",
      response: { status: 204, description: "The user is deleted" },
      errors: [NO_USER],
      async handler(ctx, { userManager, fail }) {
        await userManager.delete(await target(ctx, userManager, fail), ctx);
        return undefined;
      },
    }),
  ];
}

/**
 * The update as model fields. `current_password` is never one: it proves a change on
 * `/me` and is never stored (and `/{id}` ignores it).
 */
function updateInput(body: Record<string, unknown>): UserUpdate {
  const { current_password: _, ...fields } = body;
  return wireToModel(fields) as UserUpdate;
}

/**
 * The `current_password` sent, read from the body as it came, so that an app's own update
 * schema need not declare it; longer than any password (as passwordSchema's bound) is none.
 */
function currentPassword(raw: unknown): string | undefined {
  const sent = (raw as { current_password?: unknown } | undefined)?.current_password;
  return typeof sent === "string" && sent.length <= 65_536 ? sent : undefined;
}
