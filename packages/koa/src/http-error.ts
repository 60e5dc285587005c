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
 * An HTTP answer carried as an exception through handlers. `detail` is the body's
 * `detail`: a code string, `{code, reason}`, or a list of validation issues.
 */
export class HttpError extends Error {
  readonly status: number;
  readonly detail: unknown;
  readonly headers: Record<string, string> | undefined;

  constructor(status: number, detail: unknown, headers?: Record<string, string>) {
    super(typeof detail === "string" ? detail : `HTTP ${status}`);
    this.status = status;
    this.detail = detail;
    this.headers = headers;
  }
}

/** A 422 with a FastAPI-shaped `detail` list. */
export function validationError(issues: ValidationIssue[]): HttpError {
  return new HttpError(422, issues);
}

/**
 * Writes `error` as a response. Client mistakes and known conditions become 4xx/503
 * with a stable code; anything else is a 500 whose details go to the app's error event
 * and never to the client (no stack traces on the wire).
 */
export function writeError(ctx: Context, error: unknown): void {
  if (error instanceof HttpError) {
    ctx.status = error.status;
    ctx.body = { detail: error.detail };
    if (error.headers) ctx.set(error.headers);
    return;
  }
  if (isTesseraError(error, ErrorCode.UNAUTHORIZED)) {
    ctx.status = 401;
    ctx.body = { detail: "Unauthorized" };
    ctx.set("WWW-Authenticate", "Bearer");
    return;
  }
  if (isTesseraError(error, ErrorCode.FORBIDDEN)) {
    ctx.status = 403;
    ctx.body = { detail: "Forbidden" };
    return;
  }
  if (isTesseraError(error, ErrorCode.USER_NOT_EXISTS)) {
    // The user vanished mid-request (deleted by someone else): not a server error.
    ctx.status = 404;
    ctx.body = { detail: "Not Found" };
    return;
  }
  if (isTesseraError(error, ErrorCode.SERVICE_UNAVAILABLE)) {
    ctx.status = 503;
    ctx.body = { detail: HttpErrorCode.SERVICE_UNAVAILABLE };
    ctx.set("Retry-After", "1");
    ctx.app.emit("error", error, ctx);
    return;
  }
  ctx.status = 500;
  ctx.body = { detail: HttpErrorCode.INTERNAL_SERVER_ERROR };
  ctx.app.emit("error", error, ctx);
}
