import { ErrorCode, normalizeEmail, type UserCreate, type UserProtocol } from "@tessera/core";
import type { z } from "zod";
import { HttpErrorCode } from "../error-codes.js";
import { passwordRejected } from "../route/errors.js";
import { publicRoute, type RouteSpec } from "../route/spec.js";
import { wireToModel } from "../schemas.js";

/** `POST /register` -> 201 with the new user. */
export function registerRoutes<U extends UserProtocol<ID>, ID>(
  createSchema: z.ZodType<Record<string, unknown>>,
  read: (user: U) => Record<string, unknown>,
): RouteSpec<U, ID>[] {
  return [
    publicRoute<U, ID, Record<string, unknown>>({
      method: "post",
      path: "/register",
      operationId: "register:register",
      summary: "Register",
      description:
        "`is_active`, `is_superuser` and `is_verified` are accepted and ignored (safe mode).",
      tags: ["auth"],
      body: { type: "json", schema: createSchema, name: "UserCreate" },
      rateLimit: { bucket: "register", code: HttpErrorCode.TOO_MANY_REQUESTS },
      response: { status: 201, description: "The new user", body: "UserRead" },
      links: {
        GetUserById: {
          operationId: "users:user",
          parameters: { id: "$response.body#/id" },
          description: "The new user, as a superuser reads it",
        },
      },
      errors: [
        {
          status: 400,
          code: HttpErrorCode.REGISTER_USER_ALREADY_EXISTS,
          summary: "A user with this email already exists.",
          on: [ErrorCode.USER_ALREADY_EXISTS],
        },
        passwordRejected(HttpErrorCode.REGISTER_INVALID_PASSWORD),
      ],
      async handler(ctx, { body, userManager, attempt }) {
        const input = wireToModel(body);
        await attempt(typeof input.email === "string" ? normalizeEmail(input.email) : null);
        const user = await userManager.create(input as UserCreate, { safe: true, context: ctx });
        return read(user);
      },
    }),
  ];
}
