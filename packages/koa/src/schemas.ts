import type { UserProtocol } from "@tessera/core";
import { z } from "zod";
import { type ValidationIssue, validationError } from "./http-error.js";

/**
 * Wire schemas, in FastAPI Users' snake_case. Apps extend them to add fields:
 *
 * @example
 * const schemas = {
 *   create: userCreateSchema.extend({ first_name: z.string().max(100) }),
 *   update: userUpdateSchema.extend({ first_name: z.string().max(100).optional() }),
 *   read: (user: AppUser) => ({ ...readUser(user), first_name: user.firstName }),
 * };
 */

// What String.prototype.trim removes, written out so the pattern means the same in every
// regex dialect that reads the document (ECMA-262, and Python's for Schemathesis).
const SPACE =
  "[\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff]*";
/** zod's email rule, unanchored: the address part of every email pattern Tessera states. */
export const EMAIL_PATTERN = z.regexes.email.source.replace(/^\^/, "").replace(/\$$/, "");

/**
 * An email address, at most 320 characters (RFC 3696 erratum 1690), of zod's email syntax,
 * trimmed. The pattern (spaces around the address allowed) is the document's too, so a
 * client validating with it accepts exactly what the server accepts.
 */
export const emailSchema = z
  .string()
  .max(320)
  .regex(new RegExp(`^${SPACE}(?:${EMAIL_PATTERN})${SPACE}$`), "Invalid email address")
  .transform((email) => email.trim());

/**
 * A new password as sent. Its policy is `UserManager.validatePassword`'s (a refusal is a
 * 400 with a reason code, as FastAPI Users answers); the document states the policy's length
 * bounds on every field of this schema.
 */
export const passwordSchema = z.string().max(65_536);

/** A current password as sent (`current_password`): checked against the hash, not the policy. */
export const currentPasswordSchema = z.string().max(65_536);

/** Body of `POST /register` (privileged flags are accepted, then dropped by safe mode). */
export const userCreateSchema = z.object({
  email: emailSchema,
  password: passwordSchema,
  is_active: z.boolean().optional(),
  is_superuser: z.boolean().optional(),
  is_verified: z.boolean().optional(),
});

/**
 * Body of `PATCH /users/me` and `PATCH /users/{id}`. `current_password` proves a change of
 * password or email on `/me`; it is never stored (and `/{id}` ignores it).
 */
export const userUpdateSchema = z.object({
  email: emailSchema.optional(),
  password: passwordSchema.optional(),
  current_password: currentPasswordSchema.optional(),
  is_active: z.boolean().optional(),
  is_superuser: z.boolean().optional(),
  is_verified: z.boolean().optional(),
});

/** The user as `GET /users/me` shows it. */
export interface UserRead {
  id: unknown;
  email: string;
  is_active: boolean;
  is_superuser: boolean;
  is_verified: boolean;
  [extra: string]: unknown;
}

/** Default read projection: the protocol fields in snake_case, nothing else (no hash). */
export function readUser(user: UserProtocol<unknown>): UserRead {
  return {
    id: user.id,
    email: user.email,
    is_active: user.isActive,
    is_superuser: user.isSuperuser,
    is_verified: user.isVerified,
  };
}

/** Schemas an app can swap to add its own user fields. */
export interface UserSchemas<U extends UserProtocol<unknown>> {
  /** @default userCreateSchema */
  create?: z.ZodType<Record<string, unknown>>;
  /** @default userUpdateSchema */
  update?: z.ZodType<Record<string, unknown>>;
  /** @default readUser */
  read?: (user: U) => Record<string, unknown>;
  /**
   * What `read` returns, for the OpenAPI document: a zod schema or a JSON schema.
   * @default the fields of `readUser`
   */
  readSchema?: z.ZodType | Record<string, unknown>;
}

/** `first_name` -> `firstName`: wire fields are snake_case, model properties camelCase. */
function camelCase(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Maps parsed wire fields to the user model: every snake_case key becomes camelCase
 * (`is_active` -> `isActive`, an app's `first_name` -> `firstName`), as the model's
 * properties are named. Undefined fields are dropped.
 */
export function wireToModel(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null);
  for (const [key, value] of Object.entries(data)) {
    if (value !== undefined) out[camelCase(key)] = value;
  }
  return out;
}

function issueType(code: string, missing: boolean): string {
  if (missing) return "missing";
  return code === "invalid_type" ? "type_error" : code;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** Parses `input` with `schema`, or throws a FastAPI-shaped 422. */
export function parseBody<T>(schema: z.ZodType<T>, input: unknown): T {
  const result = schema.safeParse(input ?? undefined);
  if (result.success) return result.data;
  const issues: ValidationIssue[] = result.error.issues.map((issue) => {
    const missing = issue.code === "invalid_type" && valueAt(input, issue.path) === undefined;
    return {
      type: issueType(issue.code, missing),
      loc: ["body", ...issue.path.map((p) => (typeof p === "number" ? p : String(p)))],
      msg: missing ? "Field required" : issue.message,
    };
  });
  throw validationError(issues);
}
