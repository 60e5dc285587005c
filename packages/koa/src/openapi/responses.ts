import type { Transport } from "@tessera/core";
import { HttpErrorCode } from "../error-codes.js";
import { ref } from "./json-schema.js";
import type { JsonSchema, OpenAPIExample, OpenAPIParameter, OpenAPIResponse } from "./types.js";

/** One documented error: its code, what it means and, for `{code, reason}` bodies, a reason. */
export interface ErrorCase {
  code: string;
  summary: string;
  /** An example reason: the body is then `{"detail": {"code", "reason"}}`. */
  reason?: string;
}

/** Responses of one operation, by status. */
export type Responses = Record<string, OpenAPIResponse>;

/**
 * The login's answers that start the second step: besides `detail`, the body carries the
 * challenge's `mfa_token` and `expires_at` (`LoginMfaChallenge`).
 */
export const MFA_CHALLENGE_CODES: readonly string[] = [
  HttpErrorCode.LOGIN_MFA_REQUIRED,
  HttpErrorCode.LOGIN_MFA_ENROLMENT_REQUIRED,
];

/** The body of a {@link MFA_CHALLENGE_CODES} answer, a component of the documents that use it. */
export const loginMfaChallengeSchema: JsonSchema = {
  title: "LoginMfaChallenge",
  type: "object",
  required: ["detail", "mfa_token", "expires_at"],
  properties: {
    detail: { type: "string", enum: [...MFA_CHALLENGE_CODES] },
    mfa_token: {
      type: "string",
      description:
        "Opaque, sealed, used once: send it to `/login/mfa` (`LOGIN_MFA_REQUIRED`) or " +
        "`/login/mfa/enrol` (`LOGIN_MFA_ENROLMENT_REQUIRED`)",
    },
    expires_at: {
      type: "string",
      format: "date-time",
      description: "When the `mfa_token` expires (ISO 8601, UTC): then log in again",
    },
  },
};

/** The example body of `code`: `{"detail": …}`, plus the challenge of an MFA login answer. */
function exampleBody(code: string, reason: string | undefined): Record<string, unknown> {
  if (reason !== undefined) return { detail: { code, reason } };
  if (!MFA_CHALLENGE_CODES.includes(code)) return { detail: code };
  return {
    detail: code,
    mfa_token: "v1.k1.3q2-7wEXAMPLEnot-a-real-token_Xj0",
    expires_at: "2026-12-06T09:05:10.000Z",
  };
}

/**
 * An error response with one named example per code, as FastAPI Users documents them, so
 * a reader sees the exact body each case answers (`ErrorModel`, or `LoginMfaChallenge`
 * too when an MFA login answer is among them).
 */
export function errorResponse(description: string, cases: readonly ErrorCase[]): OpenAPIResponse {
  const examples: Record<string, OpenAPIExample> = {};
  for (const { code, summary, reason } of cases) {
    examples[code] = { summary, value: exampleBody(code, reason) };
  }
  const challenge = cases.some(
    (c) => c.reason === undefined && MFA_CHALLENGE_CODES.includes(c.code),
  );
  const schema = challenge
    ? { anyOf: [ref("ErrorModel"), ref("LoginMfaChallenge")] }
    : ref("ErrorModel");
  return { description, content: { "application/json": { schema, examples } } };
}

/** A 200/201 answering a JSON body of `schema`. */
export function jsonResponse(description: string, schema: JsonSchema): OpenAPIResponse {
  return { description, content: { "application/json": { schema } } };
}

/** A response whose body is JSON `null` (FastAPI's 202s and `POST /reset-password`). */
export function nullResponse(description: string): OpenAPIResponse {
  return { description, content: { "application/json": { schema: { type: "null" } } } };
}

/** 401 `Unauthorized`, with the `WWW-Authenticate: Bearer` header Tessera sends. */
export function unauthorized(): OpenAPIResponse {
  return {
    ...errorResponse("Missing token, invalid token or inactive user", [
      { code: "Unauthorized", summary: "No valid token, or the user is inactive." },
    ]),
    headers: { "WWW-Authenticate": { schema: { type: "string", const: "Bearer" } } },
  };
}

/** A 403 `Forbidden` case, for the reason `summary` gives. */
export function forbidden(summary: string): ErrorCase {
  return { code: "Forbidden", summary };
}

/** 403 with every case that can answer it, or nothing when none can. */
export function forbiddenResponse(cases: readonly ErrorCase[]): Responses {
  return cases.length > 0 ? { "403": errorResponse("Forbidden", cases) } : {};
}

/** What the document needs of the CSRF protection of cookie backends. */
export interface CsrfDoc {
  /** Cookie carrying the double-submit token. */
  readonly cookieName: string;
  /** Header a client without `Origin` echoes the token in. */
  readonly headerName: string;
  /** True for the transports it protects. */
  applies(transport: Transport): boolean;
}

/** The 403 case of a cookie-authenticated request not shown to be same-origin. */
export function csrfFailed(csrf: CsrfDoc): ErrorCase {
  return {
    code: HttpErrorCode.CSRF_FAILED,
    summary:
      "A cookie-authenticated change from another origin, or without Origin and without " +
      `the \`${csrf.cookieName}\` cookie's token in \`${csrf.headerName}\`.`,
  };
}

/** The double-submit header, for clients that send no `Origin` (not browsers). */
export function csrfHeader(csrf: CsrfDoc): OpenAPIParameter {
  return {
    name: csrf.headerName,
    in: "header",
    required: false,
    description: `The \`${csrf.cookieName}\` cookie's value, when the client sends no Origin`,
    schema: { type: "string" },
  };
}

/** 404 `Not Found`, for the reason `summary` gives. */
export function notFound(summary: string): OpenAPIResponse {
  return errorResponse("Not found", [{ code: "Not Found", summary }]);
}

const PASSWORD_REASON = "Password should be at least 8 characters";

/** A `{code, reason}` case for a password the user manager's policy rejects. */
export function invalidPassword(code: string): ErrorCase {
  return { code, summary: "Password validation failed.", reason: PASSWORD_REASON };
}

function bodyTooLarge(): OpenAPIResponse {
  return errorResponse("Request body too large", [
    { code: HttpErrorCode.REQUEST_BODY_TOO_LARGE, summary: "The body exceeds `bodyLimit`." },
  ]);
}

function validationFailed(): OpenAPIResponse {
  return jsonResponse("Validation error", ref("HTTPValidationError"));
}

function serviceUnavailable(): OpenAPIResponse {
  return {
    ...errorResponse("Service unavailable", [
      {
        code: HttpErrorCode.SERVICE_UNAVAILABLE,
        summary: "The database or Redis is unreachable; retry later.",
      },
    ]),
    headers: { "Retry-After": { schema: { type: "integer" } } },
  };
}

function internalError(): OpenAPIResponse {
  return errorResponse("Internal server error", [
    {
      code: HttpErrorCode.INTERNAL_SERVER_ERROR,
      summary: "A bug; details go to the app's error event, never to the client.",
    },
  ]);
}

/**
 * `responses` plus what any handler of the kind may answer: 413 and 422 when it reads a
 * body, 503 and 500 always (every handler maps errors itself).
 */
export function withCommon(responses: Responses, options: { body: boolean }): Responses {
  const out: Responses = { ...responses };
  if (options.body) {
    out["413"] = bodyTooLarge();
    out["422"] = validationFailed();
  }
  out["500"] = internalError();
  // A route's own 503 (an OAuth provider down) is listed beside the common one.
  const own = out["503"]?.content?.["application/json"]?.examples;
  const common = serviceUnavailable();
  const examples = common.content?.["application/json"]?.examples;
  if (own && examples) Object.assign(examples, own);
  out["503"] = common;
  return out;
}

/**
 * A 429 of a rate-limited route: `code` is what it answers (a throttled login answers the
 * body of a failed one), with `Retry-After`.
 */
export function tooManyRequests(code: string): OpenAPIResponse {
  return {
    ...errorResponse("Too many attempts: retry after `Retry-After` seconds", [
      { code, summary: "Too many attempts from this client or for this account." },
    ]),
    headers: { "Retry-After": { schema: { type: "integer" } } },
  };
}
