import { HttpErrorCode } from "../error-codes.js";
import type { AuthRouterOptions } from "../routers/auth.js";
import type { DocumentedBackend } from "./document.js";
import { namedSchema, ref, type SchemaSource } from "./json-schema.js";
import type { RouterDescriber } from "./registry.js";
import {
  type CsrfDoc,
  csrfFailed,
  csrfHeader,
  type ErrorCase,
  errorResponse,
  forbidden,
  forbiddenResponse,
  unauthorized,
  withCommon,
} from "./responses.js";
import type { OpenAPIResponse } from "./types.js";

const NOT_VERIFIED = "The user is not verified (`requiresVerification`).";

// The transport's objects are OpenAPI response objects by the Transport contract.
function transportResponses(
  responses: Record<string, Record<string, unknown>>,
): Record<string, OpenAPIResponse> {
  return responses as unknown as Record<string, OpenAPIResponse>;
}

/**
 * Describes `authRouter(backend)`: `POST /login` (the OAuth2 password form, answered by
 * the backend's transport), `POST /logout` and `POST /logout-all`, both secured by this
 * backend's scheme only, since only its transport is read there. `csrf`: the CSRF
 * protection, or null when it is off.
 */
export function describeAuthRouter(
  backend: DocumentedBackend,
  options: AuthRouterOptions,
  loginForm: SchemaSource,
  csrf: CsrfDoc | null,
): RouterDescriber {
  const { name, transport } = backend;
  const verified = options.requiresVerification ?? false;
  const guarded = csrf?.applies(transport) ? csrf : null;
  const badCredentials: ErrorCase[] = [
    {
      code: HttpErrorCode.LOGIN_BAD_CREDENTIALS,
      summary: "Bad credentials or the user is inactive.",
    },
  ];
  if (verified) {
    badCredentials.push({ code: HttpErrorCode.LOGIN_USER_NOT_VERIFIED, summary: NOT_VERIFIED });
  }
  const sessionErrors = {
    "401": unauthorized(),
    ...forbiddenResponse([
      ...(verified ? [forbidden(NOT_VERIFIED)] : []),
      ...(guarded ? [csrfFailed(guarded)] : []),
    ]),
  };
  const sessionParameters = guarded ? { parameters: [csrfHeader(guarded)] } : {};
  const tags = ["auth"];
  return ({ security }) => ({
    schemas: namedSchema("OAuth2PasswordRequestForm", loginForm, "input"),
    routes: [
      {
        method: "post",
        path: "/login",
        operation: {
          summary: `Log in (${name})`,
          description:
            "OAuth2 password grant (RFC 6749 §4.3): `username` is the email. " +
            "The token travels as this backend's transport says.",
          operationId: `auth:${name}.login`,
          tags,
          requestBody: {
            required: true,
            content: {
              "application/x-www-form-urlencoded": { schema: ref("OAuth2PasswordRequestForm") },
            },
          },
          responses: withCommon(
            {
              ...transportResponses(transport.openapi.loginResponses),
              "400": errorResponse("Bad request", badCredentials),
              // Login CSRF: no token exists yet, so only Origin / Sec-Fetch-Site is checked.
              ...forbiddenResponse(guarded ? [csrfFailed(guarded)] : []),
            },
            { body: true },
          ),
        },
      },
      {
        method: "post",
        path: "/logout",
        operation: {
          summary: `Log out (${name})`,
          description: "Destroys the token this backend's transport carried.",
          operationId: `auth:${name}.logout`,
          tags,
          ...sessionParameters,
          security: security([name]),
          responses: withCommon(
            { ...transportResponses(transport.openapi.logoutResponses), ...sessionErrors },
            { body: false },
          ),
        },
      },
      {
        method: "post",
        path: "/logout-all",
        operation: {
          summary: `Log out everywhere (${name})`,
          description: "Destroys every token of the user in this backend's strategy.",
          operationId: `auth:${name}.logout_all`,
          tags,
          ...sessionParameters,
          security: security([name]),
          responses: withCommon(
            {
              ...transportResponses(transport.openapi.logoutResponses),
              ...sessionErrors,
              "501": errorResponse("Not implemented", [
                {
                  code: HttpErrorCode.LOGOUT_ALL_NOT_SUPPORTED,
                  summary: "This backend's strategy cannot revoke its tokens.",
                },
              ]),
            },
            { body: false },
          ),
        },
      },
    ],
  });
}
