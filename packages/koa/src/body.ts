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

/**
 * Reads a JSON body. Malformed JSON, or a body in another content type, is a 422
 * like FastAPI's; `__proto__`/`constructor`/`prototype` keys are dropped at parse time
 * so they can never reach a user object.
 */
export async function readJsonBody(ctx: Context, limit: number): Promise<unknown> {
  const type = contentType(ctx);
  const raw = await readRaw(ctx, limit);
  if (raw.trim().length === 0) return undefined;
  // As FastAPI: a body in another content type is not an object (422), not a 415.
  if (type !== "application/json" && !type.endsWith("+json")) {
    throw validationError([
      { type: "model_attributes_type", loc: ["body"], msg: "Input should be a JSON object" },
    ]);
  }
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

/** Reads an `application/x-www-form-urlencoded` body into a null-prototype record. */
export async function readFormBody(ctx: Context, limit: number): Promise<Record<string, string>> {
  const type = contentType(ctx);
  const raw = await readRaw(ctx, limit);
  const out: Record<string, string> = Object.create(null);
  // As FastAPI's Form(): another content type yields no fields, hence 422 "missing".
  if (type !== "application/x-www-form-urlencoded") return out;
  for (const [key, value] of new URLSearchParams(raw)) {
    // First value wins, like FastAPI's Form(); later duplicates are ignored.
    if (!POLLUTION_KEYS.has(key) && !(key in out)) out[key] = value;
  }
  return out;
}
