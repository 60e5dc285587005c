import { ErrorCode, normalizeEmail, type UserProtocol } from "@tessera/core";
import { z } from "zod";
import { HttpErrorCode } from "../error-codes.js";
import { passwordRejected } from "../route/errors.js";
import { publicRoute, type RouteSpec } from "../route/spec.js";
import { emailSchema, passwordSchema } from "../schemas.js";
import { mailOrDecoy } from "./account-mail.js";

/** Body of `POST /forgot-password`. */
export const forgotBody = z.object({ email: emailSchema });
/** Body of `POST /reset-password`. */
export const resetBody = z.object({ token: z.string().max(8192), password: passwordSchema });

/** `POST /forgot-password` (202 for every email) and `POST /reset-password`. */
export function resetPasswordRoutes<U extends UserProtocol<ID>, ID>(): RouteSpec<U, ID>[] {
  return [
    publicRoute<U, ID, z.output<typeof forgotBody>>({
      method: "post",
      path: "/forgot-password",
      operationId: "reset:forgot_password",
      summary: "Forgot password",
      description:
        "202 for every email, registered or not: the token goes to `onAfterForgotPassword`.",
      tags: ["auth"],
      body: { type: "json", schema: forgotBody, name: "ForgotPasswordRequest" },
      // Per account too: nobody can have a victim's inbox flooded with reset mails.
      rateLimit: { bucket: "forgotPassword", code: HttpErrorCode.TOO_MANY_REQUESTS },
      response: { status: 202, description: "Accepted", body: null },
      async handler(ctx, { body, userManager, attempt }) {
        await attempt(normalizeEmail(body.email));
        // 202 whether or not the email is registered, or its account active.
        await mailOrDecoy(userManager, await userManager.findByEmail(body.email), {
          eligible: (user) => user.isActive,
          send: (user) => userManager.forgotPassword(user, ctx),
          refusals: [ErrorCode.USER_INACTIVE],
          decoy: "reset",
        });
        return null;
      },
    }),
    publicRoute<U, ID, z.output<typeof resetBody>>({
      method: "post",
      path: "/reset-password",
      operationId: "reset:reset_password",
      summary: "Reset password",
      description: "A token is single-use: it dies as soon as the password changes.",
      tags: ["auth"],
      body: { type: "json", schema: resetBody, name: "ResetPasswordRequest" },
      rateLimit: { bucket: "resetPassword", code: HttpErrorCode.TOO_MANY_REQUESTS },
      response: { status: 200, description: "Password changed", body: null },
      errors: [
        {
          status: 400,
          code: HttpErrorCode.RESET_PASSWORD_BAD_TOKEN,
          summary: "Bad or expired token, or an inactive user.",
          on: [
            ErrorCode.INVALID_RESET_PASSWORD_TOKEN,
            ErrorCode.USER_NOT_EXISTS,
            ErrorCode.USER_INACTIVE,
          ],
        },
        passwordRejected(HttpErrorCode.RESET_PASSWORD_INVALID_PASSWORD),
      ],
      async handler(ctx, { body, userManager, attempt }) {
        // The account is the user of a validly signed token: a forged token names no one.
        await attempt(await userManager.resetPasswordTokenSubject(body.token));
        await userManager.resetPassword(body.token, body.password, ctx);
        return null;
      },
    }),
  ];
}
