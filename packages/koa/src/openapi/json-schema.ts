import { z } from "zod";
import { EMAIL_PATTERN, passwordSchema } from "../schemas.js";
import type { JsonSchema } from "./types.js";

/** A zod schema, or a JSON schema already written out, as an app passes a wire shape. */
export type SchemaSource = z.ZodType | JsonSchema;

/** Where component schemas live; `$ref`s point here. */
export const COMPONENTS = "#/components/schemas/";

/** A `$ref` to the component schema `name`. */
export function ref(name: string): JsonSchema {
  return { $ref: `${COMPONENTS}${name}` };
}

function isZod(source: SchemaSource): source is z.ZodType {
  return typeof (source as { _zod?: unknown })._zod === "object";
}

/** What the document states beyond the zod schemas: the password policy's length bounds. */
export interface SchemaFacts {
  /** The bounds every `passwordSchema` field gets (code points, as JSON Schema counts). */
  passwordBounds?: { minLength: number; maxLength: number };
}

/**
 * Adds to each converted node what the server enforces outside zod: the password
 * policy's bounds on `passwordSchema` fields, and `additionalProperties` stated on every
 * object (zod's default objects accept and drop unknown keys).
 */
function overrideWith(io: "input" | "output", facts: SchemaFacts) {
  return (ctx: { zodSchema: unknown; jsonSchema: JsonSchema }): void => {
    const { jsonSchema } = ctx;
    if (ctx.zodSchema === passwordSchema && facts.passwordBounds) {
      jsonSchema.minLength = facts.passwordBounds.minLength;
      jsonSchema.maxLength = facts.passwordBounds.maxLength;
    }
    if (jsonSchema.type === "object" && !("additionalProperties" in jsonSchema)) {
      jsonSchema.additionalProperties = io === "input";
    }
  };
}

/** Points zod's local `#/$defs/X` references at `#/components/schemas/X`. */
function relink(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(relink);
  if (value === null || typeof value !== "object") return value;
  const out: JsonSchema = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] =
      key === "$ref" && typeof inner === "string" && inner.startsWith("#/$defs/")
        ? `${COMPONENTS}${inner.slice("#/$defs/".length)}`
        : relink(inner);
  }
  return out;
}

/** A schema converted for the document, and the named schemas it refers to. */
export interface ConvertedSchema {
  schema: JsonSchema;
  /** Schemas zod hoisted (those with `.meta({ id })`, or recursive ones), by name. */
  defs: Record<string, JsonSchema>;
}

/**
 * Converts a zod schema to JSON Schema 2020-12 (OpenAPI 3.1's dialect): `input` for
 * request bodies (what a client may send), `output` for responses. A JSON schema passes
 * through. Types JSON Schema cannot express (dates, transforms) become `{}`, never an error.
 */
export function convertSchema(
  source: SchemaSource,
  io: "input" | "output",
  facts: SchemaFacts = {},
): ConvertedSchema {
  if (!isZod(source)) return { schema: source, defs: {} };
  const converted = z.toJSONSchema(source, {
    io,
    unrepresentable: "any",
    override: overrideWith(io, facts),
  }) as JsonSchema;
  const { $schema: _dialect, $defs, ...schema } = relink(converted) as JsonSchema;
  return { schema, defs: ($defs ?? {}) as Record<string, JsonSchema> };
}

/**
 * `source` as the component schema `name`, with the schemas it refers to, ready to merge
 * into `components.schemas`.
 */
export function namedSchema(
  name: string,
  source: SchemaSource,
  io: "input" | "output",
  facts: SchemaFacts = {},
): Record<string, JsonSchema> {
  const { schema, defs } = convertSchema(source, io, facts);
  return { ...defs, [name]: { title: name, ...schema } };
}

/** FastAPI Users' `ErrorModel`: `detail` is a code, or `{code, reason}`. */
export const errorModelSchema: JsonSchema = {
  title: "ErrorModel",
  type: "object",
  required: ["detail"],
  properties: {
    detail: {
      title: "Detail",
      anyOf: [
        { type: "string" },
        {
          type: "object",
          required: ["code", "reason"],
          properties: {
            code: { type: "string" },
            reason: { type: "string" },
            reason_code: {
              type: "string",
              description: "Stable code of the reason (`PASSWORD_TOO_SHORT`…), to translate it",
            },
          },
        },
      ],
    },
  },
};

/** FastAPI's `ValidationError`: one entry of a 422 `detail` list. */
export const validationErrorSchema: JsonSchema = {
  title: "ValidationError",
  type: "object",
  required: ["loc", "msg", "type"],
  properties: {
    loc: {
      title: "Location",
      type: "array",
      items: { anyOf: [{ type: "string" }, { type: "integer" }] },
    },
    msg: { title: "Message", type: "string" },
    type: { title: "Error Type", type: "string" },
  },
};

/** FastAPI's `HTTPValidationError`: the body of every 422. */
export const httpValidationErrorSchema: JsonSchema = {
  title: "HTTPValidationError",
  type: "object",
  properties: {
    detail: { title: "Detail", type: "array", items: ref("ValidationError") },
  },
};

/** The default read shape, `readUser`'s: the protocol fields in snake_case. */
export const userReadSchema: JsonSchema = {
  title: "UserRead",
  type: "object",
  required: ["id", "email", "is_active", "is_superuser", "is_verified"],
  additionalProperties: false,
  properties: {
    id: {
      description: "As the user database stores it: a UUID by default, an integer or ObjectId",
      anyOf: [{ type: "string" }, { type: "integer" }],
    },
    // The rule the server validates addresses with (stored trimmed and lower-cased), not
    // `format: email`, whose validators differ on what they accept.
    email: { type: "string", maxLength: 320, pattern: `^${EMAIL_PATTERN}$` },
    is_active: { type: "boolean" },
    is_superuser: { type: "boolean" },
    is_verified: { type: "boolean" },
  },
};

/** `SessionRead`, one entry of `GET /users/me/sessions`. */
export const sessionReadSchema: JsonSchema = {
  title: "SessionRead",
  type: "object",
  required: [
    "id",
    "backend",
    "created_at",
    "last_used_at",
    "expires_at",
    "ip_address",
    "user_agent",
    "current",
  ],
  additionalProperties: false,
  properties: {
    id: { type: "string", pattern: "^[A-Za-z0-9_-]{1,64}$" },
    backend: { type: "string", description: "Name of the backend whose strategy holds it" },
    created_at: { type: "string", format: "date-time" },
    last_used_at: {
      type: ["string", "null"],
      format: "date-time",
      description: "Last renewal; null before the first, or where the strategy does not know",
    },
    expires_at: { type: "string", format: "date-time" },
    ip_address: {
      type: ["string", "null"],
      maxLength: 64,
      description: "The client address of the login (trusted proxies honoured), or null",
    },
    user_agent: {
      type: ["string", "null"],
      maxLength: 512,
      description: "The User-Agent of the login, or null",
    },
    current: { type: "boolean", description: "The session this request was authenticated by" },
  },
};
