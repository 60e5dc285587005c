import { ErrorCode, normalizeEmail, type UserProtocol } from "@tessera/core";
import { z } from "zod";
import { HttpErrorCode } from "../error-codes.js";
import { publicRoute, type RouteSpec } from "../route/spec.js";
import { emailSchema } from "../schemas.js";
import { mailOrDecoy } from "./account-mail.js";

/** Body of `POST /request-verify-token`. */
export const emailBody = z.object({ email: emailSchema });
/** Body of `POST /verify`. */
export const tokenBody = z.object({ token: z.string().max(8192) });

/** `POST /request-verify-token` (202 for every email) and `POST /verify`. */
export function verifyRoutes<U extends UserProtocol<ID>, ID>(
  read: (user: U) => Record<string, unknown>,
): RouteSpec<U, ID>[] {
  return [
    publicRoute<U, ID, z.output<typeof emailBody>>({
      method: "post",
      path: "/request-verify-token",
      operationId: "verify:request-token",
      summary: "Request a verification token",
      description:
        "202 for every email, registered or not: the token goes to `onAfterRequestVerify`.",
      tags: ["auth"],
      body: { type: "json", schema: emailBody, name: "RequestVerifyTokenRequest" },
      rateLimit: { bucket: "requestVerifyToken", code: HttpErrorCode.TOO_MANY_REQUESTS },
      response: { status: 202, description: "Accepted", body: null },
      async handler(ctx, { body, userManager, attempt }) {
        await attempt(normalizeEmail(body.email));
        // The same 202 whether or not the account exists, is inactive or verified.
        await mailOrDecoy(userManager, await userManager.findByEmail(body.email), {
          eligible: (user) => user.isActive && !user.isVerified,
          send: (user) => userManager.requestVerify(user, ctx),
          refusals: [ErrorCode.USER_INACTIVE, ErrorCode.USER_ALREADY_VERIFIED],
          decoy: "verify",
        });
        return null;
      },
    }),
    publicRoute<U, ID, z.output<typeof tokenBody>>({
      method: "post",
      path: "/verify",
      operationId: "verify:verify",
      summary: "Verify",
      tags: ["auth"],
      body: { type: "json", schema: tokenBody, name: "VerifyRequest" },
      response: { status: 200, description: "The verified user", body: "UserRead" },
      errors: [
        {
          status: 400,
          code: HttpErrorCode.VERIFY_USER_BAD_TOKEN,
          summary: "Bad token, unknown user or not the user's current email.",
          on: [ErrorCode.INVALID_VERIFY_TOKEN, ErrorCode.USER_NOT_EXISTS],
        },
        {
          status: 400,
          code: HttpErrorCode.VERIFY_USER_ALREADY_VERIFIED,
          summary: "The user is already verified.",
          on: [ErrorCode.USER_ALREADY_VERIFIED],
        },
      ],
      async handler(ctx, { body, userManager }) {
        return read(await userManager.verify(body.token, ctx));
      },
    }),
  ];
}
