import { HttpErrorCode } from "../error-codes.js";
import { namedSchema, ref, type SchemaSource } from "./json-schema.js";
import type { RouterDescriber } from "./registry.js";
import {
  errorResponse,
  invalidPassword,
  jsonResponse,
  nullResponse,
  withCommon,
} from "./responses.js";
import type { OpenAPIRequestBody } from "./types.js";

/** A required JSON body of the component schema `name`. */
export function jsonBody(name: string): OpenAPIRequestBody {
  return { required: true, content: { "application/json": { schema: ref(name) } } };
}

/** Describes `registerRouter()`: `POST /register` with the app's create schema. */
export function describeRegisterRouter(
  createSchema: SchemaSource,
  readSchema: SchemaSource,
): RouterDescriber {
  return () => ({
    schemas: {
      ...namedSchema("UserCreate", createSchema, "input"),
      ...namedSchema("UserRead", readSchema, "output"),
    },
    routes: [
      {
        method: "post",
        path: "/register",
        operation: {
          summary: "Register",
          description:
            "`is_active`, `is_superuser` and `is_verified` are accepted and ignored (safe mode).",
          operationId: "register:register",
          tags: ["auth"],
          requestBody: jsonBody("UserCreate"),
          responses: withCommon(
            {
              "201": jsonResponse("The new user", ref("UserRead")),
              "400": errorResponse("Bad request", [
                {
                  code: HttpErrorCode.REGISTER_USER_ALREADY_EXISTS,
                  summary: "A user with this email already exists.",
                },
                invalidPassword(HttpErrorCode.REGISTER_INVALID_PASSWORD),
              ]),
            },
            { body: true },
          ),
        },
      },
    ],
  });
}

/** Describes `verifyRouter()`: `POST /request-verify-token` and `POST /verify`. */
export function describeVerifyRouter(
  bodies: { requestToken: SchemaSource; verify: SchemaSource },
  readSchema: SchemaSource,
): RouterDescriber {
  return () => ({
    schemas: {
      ...namedSchema("RequestVerifyTokenRequest", bodies.requestToken, "input"),
      ...namedSchema("VerifyRequest", bodies.verify, "input"),
      ...namedSchema("UserRead", readSchema, "output"),
    },
    routes: [
      {
        method: "post",
        path: "/request-verify-token",
        operation: {
          summary: "Request a verification token",
          description:
            "202 for every email, registered or not: the token goes to `onAfterRequestVerify`.",
          operationId: "verify:request-token",
          tags: ["auth"],
          requestBody: jsonBody("RequestVerifyTokenRequest"),
          responses: withCommon({ "202": nullResponse("Accepted") }, { body: true }),
        },
      },
      {
        method: "post",
        path: "/verify",
        operation: {
          summary: "Verify",
          operationId: "verify:verify",
          tags: ["auth"],
          requestBody: jsonBody("VerifyRequest"),
          responses: withCommon(
            {
              "200": jsonResponse("The verified user", ref("UserRead")),
              "400": errorResponse("Bad request", [
                {
                  code: HttpErrorCode.VERIFY_USER_BAD_TOKEN,
                  summary: "Bad token, unknown user or not the user's current email.",
                },
                {
                  code: HttpErrorCode.VERIFY_USER_ALREADY_VERIFIED,
                  summary: "The user is already verified.",
                },
              ]),
            },
            { body: true },
          ),
        },
      },
    ],
  });
}

/** Describes `resetPasswordRouter()`: `POST /forgot-password` and `POST /reset-password`. */
export function describeResetPasswordRouter(bodies: {
  forgot: SchemaSource;
  reset: SchemaSource;
}): RouterDescriber {
  return () => ({
    schemas: {
      ...namedSchema("ForgotPasswordRequest", bodies.forgot, "input"),
      ...namedSchema("ResetPasswordRequest", bodies.reset, "input"),
    },
    routes: [
      {
        method: "post",
        path: "/forgot-password",
        operation: {
          summary: "Forgot password",
          description:
            "202 for every email, registered or not: the token goes to `onAfterForgotPassword`.",
          operationId: "reset:forgot_password",
          tags: ["auth"],
          requestBody: jsonBody("ForgotPasswordRequest"),
          responses: withCommon({ "202": nullResponse("Accepted") }, { body: true }),
        },
      },
      {
        method: "post",
        path: "/reset-password",
        operation: {
          summary: "Reset password",
          description: "A token is single-use: it dies as soon as the password changes.",
          operationId: "reset:reset_password",
          tags: ["auth"],
          requestBody: jsonBody("ResetPasswordRequest"),
          responses: withCommon(
            {
              "200": nullResponse("Password changed"),
              "400": errorResponse("Bad request", [
                {
                  code: HttpErrorCode.RESET_PASSWORD_BAD_TOKEN,
                  summary: "Bad or expired token, or an inactive user.",
                },
                invalidPassword(HttpErrorCode.RESET_PASSWORD_INVALID_PASSWORD),
              ]),
            },
            { body: true },
          ),
        },
      },
    ],
  });
}
