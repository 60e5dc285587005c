import { HttpErrorCode } from "../error-codes.js";
import type { UsersRouterOptions } from "../routers/users.js";
import { jsonBody } from "./account-operations.js";
import { namedSchema, ref, type SchemaSource, sessionReadSchema } from "./json-schema.js";
import type { RouteDoc, RouterDescriber } from "./registry.js";
import {
  type CsrfDoc,
  csrfFailed,
  csrfHeader,
  type ErrorCase,
  errorResponse,
  forbidden,
  forbiddenResponse,
  invalidPassword,
  jsonResponse,
  notFound,
  type Responses,
  unauthorized,
  withCommon,
} from "./responses.js";
import type { OpenAPIParameter } from "./types.js";

const updateErrors = (self: boolean) =>
  errorResponse("Bad request", [
    {
      code: HttpErrorCode.UPDATE_USER_EMAIL_ALREADY_EXISTS,
      summary: "A user with this email already exists.",
    },
    invalidPassword(HttpErrorCode.UPDATE_USER_INVALID_PASSWORD),
    ...(self
      ? [
          {
            code: HttpErrorCode.UPDATE_USER_INVALID_CURRENT_PASSWORD,
            summary: "A new password or email without the right `current_password`.",
          },
        ]
      : []),
  ]);

const idParameter: OpenAPIParameter = {
  name: "id",
  in: "path",
  required: true,
  description: "The user's id; a malformed one answers 404",
  schema: { type: "string" },
};

const sessionIdParameter: OpenAPIParameter = {
  name: "sessionId",
  in: "path",
  required: true,
  description: "A session id from `GET /me/sessions`; any other answers 404",
  schema: { type: "string" },
};

/** Who may call a route: the current user, or a superuser on another user. */
type Caller = "user" | "superuser";

/**
 * Describes `usersRouter()`: the current user's `/me` and sessions, and superusers'
 * `/{id}`. Every route is secured by every backend's scheme, as alternatives. `csrf`:
 * the CSRF protection when a backend it applies to exists, else null.
 */
export function describeUsersRouter(
  updateSchema: SchemaSource,
  readSchema: SchemaSource,
  options: UsersRouterOptions,
  csrf: CsrfDoc | null,
): RouterDescriber {
  const verified = options.requiresVerification ?? false;
  const user = (description: string) => jsonResponse(description, ref("UserRead"));

  /** 401, 403 and, for superusers' routes, 404: what authenticating `caller` may answer. */
  function callerErrors(caller: Caller, changes: boolean): Responses {
    const cases: ErrorCase[] = [];
    if (caller === "superuser") {
      cases.push(forbidden(verified ? "Not a superuser, or not verified." : "Not a superuser."));
    } else if (verified) {
      cases.push(forbidden("The user is not verified (`requiresVerification`)."));
    }
    if (changes && csrf) cases.push(csrfFailed(csrf));
    return {
      "401": unauthorized(),
      ...forbiddenResponse(cases),
      ...(caller === "superuser"
        ? { "404": notFound("No user with this id, or a malformed id.") }
        : {}),
    };
  }

  return ({ security }) => {
    const secured = security();
    const route = (
      caller: Caller,
      [method, path]: [RouteDoc["method"], string],
      operationId: string,
      summary: string,
      responses: Responses,
      extra: { body?: string; parameters?: OpenAPIParameter[]; description?: string } = {},
    ): RouteDoc => {
      const changes = method !== "get";
      const parameters = [
        ...(extra.parameters ?? []),
        ...(changes && csrf ? [csrfHeader(csrf)] : []),
      ];
      return {
        method,
        path,
        operation: {
          summary,
          ...(extra.description ? { description: extra.description } : {}),
          operationId,
          tags: ["users"],
          ...(parameters.length > 0 ? { parameters } : {}),
          ...(extra.body ? { requestBody: jsonBody(extra.body) } : {}),
          security: secured,
          responses: withCommon(
            { ...callerErrors(caller, changes), ...responses },
            { body: extra.body !== undefined },
          ),
        },
      };
    };
    return {
      schemas: {
        ...namedSchema("UserUpdate", updateSchema, "input"),
        ...namedSchema("UserRead", readSchema, "output"),
        SessionRead: sessionReadSchema,
      },
      routes: [
        route("user", ["get", "/me"], "users:current_user", "The current user", {
          "200": user("The current user"),
        }),
        route(
          "user",
          ["patch", "/me"],
          "users:patch_current_user",
          "Update the current user",
          {
            "200": user("The updated user"),
            "400": updateErrors(true),
            "404": notFound("The user was deleted meanwhile."),
          },
          {
            body: "UserUpdate",
            description:
              "`is_active`, `is_superuser` and `is_verified` are ignored here. " +
              "A new `password` or `email` needs `current_password`. A new email clears " +
              "`is_verified`; a new password ends the user's other sessions.",
          },
        ),
        route(
          "user",
          ["get", "/me/sessions"],
          "users:current_user_sessions",
          "The current user's sessions",
          {
            "200": jsonResponse("Live sessions in every backend that can list them", {
              type: "array",
              items: ref("SessionRead"),
            }),
          },
        ),
        route(
          "user",
          ["delete", "/me/sessions/:sessionId"],
          "users:delete_current_user_session",
          "End one of the current user's sessions",
          {
            "204": { description: "The session is ended" },
            "404": notFound("No session of the current user with this id."),
          },
          { parameters: [sessionIdParameter] },
        ),
        route(
          "superuser",
          ["get", "/:id"],
          "users:user",
          "A user (superuser)",
          { "200": user("The user") },
          { parameters: [idParameter] },
        ),
        route(
          "superuser",
          ["patch", "/:id"],
          "users:patch_user",
          "Update a user (superuser)",
          { "200": user("The updated user"), "400": updateErrors(false) },
          { body: "UserUpdate", parameters: [idParameter] },
        ),
        route(
          "superuser",
          ["delete", "/:id"],
          "users:delete_user",
          "Delete a user (superuser)",
          { "204": { description: "The user is deleted" } },
          { parameters: [idParameter] },
        ),
      ],
    };
  };
}
