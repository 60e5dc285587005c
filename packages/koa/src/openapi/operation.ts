import { CookieTransport, type Transport } from "@tessera/core";
import type { RateLimiter } from "../rate-limit/limiter.js";
import type { RouteError, RouteSpec } from "../route/spec.js";
import { namedSchema, ref, type SchemaFacts, type SchemaSource } from "./json-schema.js";
import {
  type CsrfDoc,
  csrfFailed,
  csrfHeader,
  type ErrorCase,
  errorResponse,
  forbidden,
  forbiddenResponse,
  jsonResponse,
  loginMfaChallengeSchema,
  MFA_CHALLENGE_CODES,
  nullResponse,
  type Responses,
  tooManyRequests,
  unauthorized,
  withCommon,
} from "./responses.js";
import type { JsonSchema, OpenAPIOperation, OpenAPISecurityRequirement } from "./types.js";

/** What describing a route needs from the `Tessera` instance and its backends. */
export interface DescribeContext {
  /** The named backends' schemes as alternatives; every backend's when `backends` is omitted. */
  security(backends?: readonly string[]): OpenAPISecurityRequirement[];
  /** The transport of a backend, by name. */
  transport(backend: string): Transport | undefined;
  /** The names of every backend. */
  backends: readonly string[];
  /** The CSRF protection, or null when off. */
  csrf: CsrfDoc | null;
  /** The rate limiter, or null when off. */
  rateLimiter: RateLimiter | null;
  /** The app's read schema (`UserRead`). */
  readSchema: SchemaSource;
  facts: SchemaFacts;
}

/** A route described: its operation and the component schemas it refers to. */
export interface DescribedRoute {
  operation: OpenAPIOperation;
  schemas: Record<string, JsonSchema>;
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad request",
  404: "Not found",
  501: "Not implemented",
};

/** The declared errors as responses, one per status, each code an example. */
function declaredResponses(errors: readonly RouteError[]): Responses {
  const byStatus = new Map<number, ErrorCase[]>();
  for (const { status, code, summary, reason } of errors) {
    const cases = byStatus.get(status) ?? [];
    cases.push(reason === undefined ? { code, summary } : { code, summary, reason });
    byStatus.set(status, cases);
  }
  const out: Responses = {};
  for (const [status, cases] of byStatus) {
    out[String(status)] = errorResponse(STATUS_TEXT[status] ?? `HTTP ${status}`, cases);
  }
  return out;
}

/**
 * The OpenAPI operation of one route-table entry: everything the document says of a route
 * is read from its spec, and from the protections (CSRF, rate limits) it is mounted with.
 */
export function describeRoute(
  spec: RouteSpec<never, never>,
  context: DescribeContext,
): DescribedRoute {
  const schemas: Record<string, JsonSchema> = { ...spec.components };
  const errors: RouteError[] = [...(spec.errors ?? [])];
  let forbiddenCases: ErrorCase[] = [];
  let csrf: CsrfDoc | null = null;
  let security: OpenAPISecurityRequirement[] | undefined;
  if (spec.who === "anyone") {
    // Login CSRF: no token exists yet, so only Origin / Sec-Fetch-Site is checked.
    const transport = spec.backend ? context.transport(spec.backend) : undefined;
    if (spec.csrf !== undefined && transport && context.csrf?.applies(transport)) {
      forbiddenCases = [csrfFailed(context.csrf)];
      // The full check takes the double-submit token too: documented as for user routes.
      if (spec.csrf === "cookie") csrf = context.csrf;
    }
  } else {
    security = context.security(spec.backends);
    const verified = spec.verified ?? false;
    if (spec.who === "superuser") {
      forbiddenCases.push(
        forbidden(verified ? "Not a superuser, or not verified." : "Not a superuser."),
      );
    } else if (verified) {
      forbiddenCases.push(forbidden("The user is not verified (`requiresVerification`)."));
    }
    // A cookie-authenticated change is CSRF-checked.
    const names = spec.backends ?? context.backends;
    const cookie = names.some((name) => {
      const transport = context.transport(name);
      return transport !== undefined && context.csrf?.applies(transport) === true;
    });
    if (spec.method !== "get" && cookie && context.csrf) {
      csrf = context.csrf;
      forbiddenCases.push(csrfFailed(csrf));
    }
  }

  let success: Responses;
  const { response } = spec;
  if ("transport" in response) {
    const backend = spec.who === "anyone" ? spec.backend : spec.backends?.[0];
    const transport = backend ? context.transport(backend) : undefined;
    if (response.transport === "pair") {
      success = pairResponses(transport);
    } else {
      const described =
        response.transport === "login"
          ? transport?.openapi.loginResponses
          : transport?.openapi.logoutResponses;
      // The transport's objects are OpenAPI response objects by the Transport contract.
      success = (described ?? {}) as unknown as Responses;
    }
    if (response.adds) success = withAddedFields(success, response.adds);
  } else if (response.body === null) {
    success = { [response.status]: nullResponse(response.description) };
  } else if (response.body === undefined) {
    success = { [response.status]: { description: response.description } };
  } else {
    const body = typeof response.body === "string" ? ref(response.body) : response.body;
    if (response.body === "UserRead") {
      Object.assign(schemas, namedSchema("UserRead", context.readSchema, "output"));
    }
    success = { [response.status]: jsonResponse(response.description, body) };
  }
  if (spec.redirect !== undefined) {
    success["303"] = {
      description: spec.redirect,
      headers: {
        Location: { description: "A path of this site", schema: { type: "string" } },
      },
    };
  }
  if (spec.links) {
    for (const value of Object.values(success)) value.links = { ...spec.links };
  }

  if (errors.some((e) => e.reason === undefined && MFA_CHALLENGE_CODES.includes(e.code))) {
    schemas.LoginMfaChallenge = loginMfaChallengeSchema;
  }

  const limited = spec.rateLimit && context.rateLimiter?.limits(spec.rateLimit.bucket);
  const responses = withCommon(
    {
      ...success,
      ...(spec.who === "anyone" ? {} : { "401": unauthorized() }),
      ...declaredResponses(errors),
      ...forbiddenResponse(forbiddenCases),
      ...(limited && spec.rateLimit ? { "429": tooManyRequests(spec.rateLimit.code) } : {}),
    },
    { body: spec.body !== undefined },
  );

  const parameters = [...(spec.parameters ?? []), ...(csrf ? [csrfHeader(csrf)] : [])];
  const operation: OpenAPIOperation = {
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    operationId: spec.operationId,
    tags: [...spec.tags],
    ...(parameters.length > 0 ? { parameters: parameters as OpenAPIOperation["parameters"] } : {}),
    ...(security ? { security } : {}),
    responses,
  };
  if (spec.body) {
    const mediaType =
      spec.body.type === "form" ? "application/x-www-form-urlencoded" : "application/json";
    Object.assign(schemas, namedSchema(spec.body.name, spec.body.schema, "input", context.facts));
    operation.requestBody = {
      required: true,
      content: { [mediaType]: { schema: ref(spec.body.name) } },
    };
  }
  return { operation, schemas };
}

/**
 * A transport's success answers with the fields `adds` (an object schema) joined to the
 * body: merged into an inline object schema, `allOf` with a referenced one, and a bodiless
 * 204 (a cookie login) becomes 200 with just those fields, as the login writes it.
 */
function withAddedFields(success: Responses, adds: JsonSchema): Responses {
  const out: Responses = {};
  for (const [status, described] of Object.entries(success)) {
    const media = described.content?.["application/json"];
    if (media?.schema) {
      out[status] = {
        ...described,
        content: {
          ...described.content,
          "application/json": { ...media, schema: mergeObjectSchemas(media.schema, adds) },
        },
      };
    } else if (status === "204") {
      out["200"] = {
        ...described,
        description: `${described.description}; the body holds ${Object.keys(
          (adds.properties ?? {}) as object,
        )
          .map((name) => `\`${name}\``)
          .join(", ")}`,
        content: { "application/json": { schema: adds } },
      };
    } else {
      out[status] = described;
    }
  }
  return out;
}

function mergeObjectSchemas(base: JsonSchema, adds: JsonSchema): JsonSchema {
  if (base.type !== "object" || !base.properties || "$ref" in base) return { allOf: [base, adds] };
  return {
    ...base,
    required: [...((base.required as string[]) ?? []), ...((adds.required as string[]) ?? [])],
    properties: { ...(base.properties as object), ...(adds.properties as object) },
  };
}

/**
 * A refresh-token backend's login and refresh answer: Bearer, the RFC 6749 §5.1 body with
 * `refresh_token` and `expires_in`; a cookie, `204` setting the access and refresh cookies.
 */
function pairResponses(transport: Transport | undefined): Responses {
  if (transport instanceof CookieTransport) {
    return {
      "204": {
        description:
          `Signed in: the access cookie \`${transport.cookieName}\` and the refresh cookie ` +
          `\`${transport.refreshCookieName}\` (HttpOnly, SameSite=Strict, scoped to the refresh route) are set`,
      },
    } as Responses;
  }
  return {
    "200": {
      description: "Signed in: an access token and the refresh token that replaces the one sent",
      headers: {
        "Cache-Control": { description: "`no-store` (RFC 6749 §5.1)", schema: { type: "string" } },
      },
      content: {
        "application/json": {
          schema: {
            type: "object",
            additionalProperties: false,
            required: ["access_token", "token_type", "refresh_token", "expires_in"],
            properties: {
              access_token: { type: "string", description: "A JWT; send it as `Bearer`" },
              token_type: { type: "string", const: "bearer" },
              refresh_token: {
                type: "string",
                description: "Opaque; send it once to `/refresh`: it is rotated on every use",
              },
              expires_in: {
                type: "integer",
                minimum: 1,
                description: "Seconds until the access token expires",
              },
            },
          },
        },
      },
    },
  } as unknown as Responses;
}
