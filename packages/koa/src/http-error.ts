import { ErrorCode, isTesseraError } from "@tessera/core";
import type { Context } from "koa";
import { HttpErrorCode } from "./error-codes.js";

/** One entry of a 422 `detail` list, in FastAPI's shape. */
export interface ValidationIssue {
  type: string;
  loc: (string | number)[];
  msg: string;
}

/**
 * An HTTP answer thrown through Koa's middleware, as Koa's own errors are: it carries
 * `status`, `expose` and `headers`, so an app's error middleware can log or reformat it,
 * and `body` (`{"detail": …}`, FastAPI Users' shape), which is what is sent when nothing
 * catches it. `detail` is a code string, `{code, reason, reason_code}`, or a list of
 * validation issues; `cause` is the domain error it stands for.
 */
export class HttpError extends Error {
  readonly status: number;
  /**
   * True for 4xx, and for 501 (a method HTTP does not define: the client's doing, not a
   * fault): the message and body are meant for the client, and the app's `error` event
   * does not hear of it (Koa's convention).
   */
  readonly expose: boolean;
  readonly detail: unknown;
  readonly headers: Record<string, string> | undefined;

  constructor(
    status: number,
    detail: unknown,
    headers?: Record<string, string>,
    options?: { cause?: unknown },
  ) {
    super(typeof detail === "string" ? detail : `HTTP ${status}`, options);
    this.name = "HttpError";
    this.status = status;
    this.expose = status < 500 || status === 501;
    this.detail = detail;
    this.headers = headers;
  }

  /** The stable code of the answer: `detail`, or `detail.code`. */
  get code(): string | undefined {
    if (typeof this.detail === "string") return this.detail;
    const code = (this.detail as { code?: unknown } | null)?.code;
    return typeof code === "string" ? code : undefined;
  }

  /** The JSON body Tessera sends for it. */
  get body(): { detail: unknown } {
    return { detail: this.detail };
  }
}

/** A 422 with a FastAPI-shaped `detail` list. */
export function validationError(issues: ValidationIssue[]): HttpError {
  return new HttpError(422, issues);
}

/**
 * `error` as an {@link HttpError}: an HttpError as it is; the domain errors any route may
 * meet (401, 403, a user gone meanwhile, an outage) by their code; anything else a 500
 * whose cause never reaches the client.
 */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  const cause = { cause: error };
  if (isTesseraError(error, ErrorCode.UNAUTHORIZED)) {
    return new HttpError(401, "Unauthorized", { "WWW-Authenticate": "Bearer" }, cause);
  }
  if (isTesseraError(error, ErrorCode.FORBIDDEN)) {
    return new HttpError(403, "Forbidden", undefined, cause);
  }
  if (isTesseraError(error, ErrorCode.USER_NOT_EXISTS)) {
    // The user vanished mid-request (deleted by someone else): not a server error.
    return new HttpError(404, "Not Found", undefined, cause);
  }
  // Session data and claims (issue 14): the client's too-large or malformed input, and a
  // backend configured without what was asked (501, as LOGOUT_ALL_NOT_SUPPORTED).
  if (isTesseraError(error, ErrorCode.SESSION_DATA_TOO_LARGE)) {
    return new HttpError(413, HttpErrorCode.SESSION_DATA_TOO_LARGE, undefined, cause);
  }
  if (isTesseraError(error, ErrorCode.INVALID_SESSION_DATA)) {
    return new HttpError(422, HttpErrorCode.INVALID_SESSION_DATA, undefined, cause);
  }
  if (isTesseraError(error, ErrorCode.SESSION_NOT_SUPPORTED)) {
    return new HttpError(501, HttpErrorCode.SESSION_NOT_SUPPORTED, undefined, cause);
  }
  if (isTesseraError(error, ErrorCode.SERVICE_UNAVAILABLE)) {
    return new HttpError(503, HttpErrorCode.SERVICE_UNAVAILABLE, { "Retry-After": "1" }, cause);
  }
  return new HttpError(500, HttpErrorCode.INTERNAL_SERVER_ERROR, undefined, cause);
}

/**
 * Throws `error` as an {@link HttpError} so that the app's error middleware sees it, and
 * makes this context render it as FastAPI Users' JSON if nothing catches it: Koa's own
 * `ctx.onerror` would send `text/plain`.
 */
export function raise(ctx: Context, error: unknown): never {
  ctx.onerror = renderUncaught;
  throw toHttpError(error);
}

/**
 * The `ctx.onerror` of a context that {@link raise}d: an HttpError becomes its JSON body,
 * anything else (an app's own error) goes to Koa's default. As Koa's: headers set before
 * the error are dropped, the error's own are kept; only 5xx reach the app's `error` event
 * (with the domain error that caused them), since a client's mistake is not the app's.
 */
function renderUncaught(this: Context, error: unknown): void {
  if (!(error instanceof HttpError)) {
    (Object.getPrototypeOf(this) as Context).onerror.call(this, error as Error);
    return;
  }
  if (!error.expose) this.app.emit("error", error.cause ?? error, this);
  if (this.headerSent || !this.writable) return;
  const { res } = this;
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  if (error.headers) this.set(error.headers);
  const body = JSON.stringify(error.body);
  this.status = error.status;
  this.type = "application/json";
  this.length = Buffer.byteLength(body);
  res.end(body);
}

/**
 * Writes `error` as a response in place (status, headers, JSON body), for a middleware
 * that answers itself instead of throwing; 5xx go to the app's `error` event.
 */
export function writeError(ctx: Context, error: unknown): void {
  const http = toHttpError(error);
  ctx.status = http.status;
  ctx.body = http.body;
  if (http.headers) ctx.set(http.headers);
  if (!http.expose) ctx.app.emit("error", http.cause ?? http, ctx);
}
