import type { Context } from "koa";
import { HttpErrorCode } from "./error-codes.js";
import { HttpError, validationError } from "./http-error.js";

/** Default body limit: auth payloads are tiny; 100 KiB leaves room for custom fields. */
export const DEFAULT_BODY_LIMIT = 100 * 1024;

// Keys that would reach an object's prototype chain if a later step used assignment.
const POLLUTION_KEYS = new Set(["__proto__", "constructor", "prototype"]);

async function readRaw(ctx: Context, limit: number): Promise<string> {
  const declared = Number(ctx.get("content-length") || Number.NaN);
  if (declared > limit) throw new HttpError(413, HttpErrorCode.REQUEST_BODY_TOO_LARGE);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    // Stop reading at the limit whatever Content-Length claimed (chunked bodies too).
    if (size > limit) throw new HttpError(413, HttpErrorCode.REQUEST_BODY_TOO_LARGE);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function contentType(ctx: Context): string {
  return (ctx.get("content-type").split(";")[0] ?? "").trim().toLowerCase();
}

/** What an app-wide body parser (`@koa/bodyparser`, `koa-body`) left on the request. */
interface ParsedRequest {
  body?: unknown;
  /** `@koa/bodyparser` keeps the text it parsed. */
  rawBody?: unknown;
}

/**
 * The body an app-wide parser already read, or `undefined` when the stream is still ours
 * to read. Checked against the same limit as a body Tessera reads: by `Content-Length`, else
 * by the parser's raw text, else by the parsed value's JSON size.
 */
function parsedBody(ctx: Context, limit: number): { value: unknown } | undefined {
  const request = ctx.request as ParsedRequest;
  if (request.body === undefined || !(ctx.req.readableEnded || ctx.req.readableDidRead)) {
    return undefined;
  }
  const declared = Number(ctx.get("content-length") || Number.NaN);
  const size = Number.isFinite(declared)
    ? declared
    : typeof request.rawBody === "string"
      ? Buffer.byteLength(request.rawBody)
      : Buffer.byteLength(JSON.stringify(request.body) ?? "");
  if (size > limit) throw new HttpError(413, HttpErrorCode.REQUEST_BODY_TOO_LARGE);
  // A parser answers `{}` for no body at all; the raw text tells, when it kept it.
  const blank = typeof request.rawBody === "string" && request.rawBody.trim() === "";
  return { value: blank ? undefined : request.body };
}

/** A deep copy of parsed JSON without the keys that could reach a prototype. */
function stripPollution(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripPollution);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (!POLLUTION_KEYS.has(key)) out[key] = stripPollution(inner);
  }
  return out;
}

function notAnObject() {
  return validationError([
    { type: "model_attributes_type", loc: ["body"], msg: "Input should be a JSON object" },
  ]);
}

/**
 * Reads a JSON body. Malformed JSON, or a body in another content type, is a 422
 * like FastAPI's; `__proto__`/`constructor`/`prototype` keys are dropped at parse time
 * so they can never reach a user object. A body an app-wide parser already read is used
 * as it is, under the same rules.
 */
export async function readJsonBody(ctx: Context, limit: number): Promise<unknown> {
  const type = contentType(ctx);
  // As FastAPI: a body in another content type is not an object (422), not a 415.
  const isJson = type === "application/json" || type.endsWith("+json");
  const parsed = parsedBody(ctx, limit);
  if (parsed) {
    const empty =
      parsed.value === undefined ||
      parsed.value === "" ||
      (!isJson && typeof parsed.value === "object" && Object.keys(parsed.value ?? {}).length === 0);
    if (empty) return undefined;
    if (!isJson) throw notAnObject();
    return stripPollution(parsed.value);
  }
  const raw = await readRaw(ctx, limit);
  if (raw.trim().length === 0) return undefined;
  if (!isJson) throw notAnObject();
  try {
    return JSON.parse(raw, (key, value) => (POLLUTION_KEYS.has(key) ? undefined : value));
  } catch (error) {
    throw validationError([
      {
        type: "json_invalid",
        loc: ["body"],
        msg: `JSON decode error: ${(error as Error).message}`,
      },
    ]);
  }
}

/**
 * Reads an `application/x-www-form-urlencoded` body into a null-prototype record of
 * strings. A body an app-wide parser already read is used as it is, under the same rules.
 */
export async function readFormBody(ctx: Context, limit: number): Promise<Record<string, string>> {
  const type = contentType(ctx);
  const out: Record<string, string> = Object.create(null);
  const isForm = type === "application/x-www-form-urlencoded";
  const parsed = parsedBody(ctx, limit);
  let entries: Iterable<[string, unknown]>;
  if (parsed) {
    entries = isForm && typeof parsed.value === "object" ? Object.entries(parsed.value ?? {}) : [];
  } else {
    // Read whatever the type: the limit holds, and the stream is drained.
    const raw = await readRaw(ctx, limit);
    entries = isForm ? new URLSearchParams(raw) : [];
  }
  // As FastAPI's Form(): another content type yields no fields, hence 422 "missing".
  for (const [key, given] of entries) {
    // A parser may give repeated fields as a list: the first value wins, like FastAPI's
    // Form(); a nested object (qs syntax) is not a form field.
    const value = Array.isArray(given) ? given[0] : given;
    if (typeof value !== "string") continue;
    if (!POLLUTION_KEYS.has(key) && !(key in out)) out[key] = value;
  }
  return out;
}
