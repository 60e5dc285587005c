import { z } from "zod";
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

// z.toJSONSchema documents a pipe's input side only, so `emailSchema` (trim, then check the
// address) would lose `format: email`; the trim only normalizes, the format still holds.
function keepPipeFormat(ctx: { zodSchema: unknown; jsonSchema: JsonSchema }): void {
  const def = (ctx.zodSchema as { _zod: { def: { type: string; out?: z.ZodType } } })._zod.def;
  if (def.type !== "pipe" || !def.out) return;
  const out = z.toJSONSchema(def.out, { io: "output", unrepresentable: "any" });
  if (typeof out.format === "string" && out.type === ctx.jsonSchema.type) {
    ctx.jsonSchema.format = out.format;
  }
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
export function convertSchema(source: SchemaSource, io: "input" | "output"): ConvertedSchema {
  if (!isZod(source)) return { schema: source, defs: {} };
  const converted = z.toJSONSchema(source, {
    io,
    unrepresentable: "any",
    ...(io === "input" ? { override: keepPipeFormat } : {}),
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
): Record<string, JsonSchema> {
  const { schema, defs } = convertSchema(source, io);
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
          properties: { code: { type: "string" }, reason: { type: "string" } },
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
  properties: {
    id: {
      description: "As the user database stores it: a UUID by default, an integer or ObjectId",
      anyOf: [{ type: "string" }, { type: "integer" }],
    },
    email: { type: "string", format: "email" },
    is_active: { type: "boolean" },
    is_superuser: { type: "boolean" },
    is_verified: { type: "boolean" },
  },
};

/** `SessionRead`, one entry of `GET /users/me/sessions`. */
export const sessionReadSchema: JsonSchema = {
  title: "SessionRead",
  type: "object",
  required: ["id", "backend", "created_at", "expires_at", "current"],
  properties: {
    id: { type: "string", pattern: "^[A-Za-z0-9_-]{1,64}$" },
    backend: { type: "string", description: "Name of the backend whose strategy holds it" },
    created_at: { type: "string", format: "date-time" },
    expires_at: { type: "string", format: "date-time" },
    current: { type: "boolean", description: "The session this request was authenticated by" },
  },
};
