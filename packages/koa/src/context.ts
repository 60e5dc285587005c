import type { AuthRequest, AuthResponse, AuthResult, UserProtocol } from "@tessera/core";
import { serializeCookie } from "@tessera/core/internal";
import type { Context } from "koa";
import type { RequestSession } from "./session.js";

/** What `currentUser()` puts on `ctx.state`. */
export interface TesseraState<U extends UserProtocol<ID>, ID = U["id"]> {
  /** The authenticated user, or null (only with `optional: true`). */
  user: U | null;
  /** The token, the backend that read it and its strategy, or null. */
  auth: AuthResult<U, ID, Context> | null;
  /**
   * The session the request is authenticated with (handle, claims, data, revoke), or null
   * without a user or when the backend's strategy has no sessions.
   */
  session: RequestSession<U, ID> | null;
}

/** A Koa context seen as an {@link AuthRequest}: one small object per request, no closures. */
class KoaAuthRequest implements AuthRequest {
  constructor(private readonly ctx: Context) {}

  header(name: string): string | undefined {
    const value = this.ctx.req.headers[name];
    return Array.isArray(value) ? value[0] : value;
  }

  cookie(name: string): string | undefined {
    // signed: false, or an app with `app.keys` would silently hide our cookie.
    return this.ctx.cookies.get(name, UNSIGNED);
  }
}

const UNSIGNED = Object.freeze({ signed: false });

/** Adapts a Koa context to the transports' {@link AuthRequest}. */
export function authRequest(ctx: Context): AuthRequest {
  return new KoaAuthRequest(ctx);
}

/** Writes a transport's {@link AuthResponse} onto the Koa response. */
export function writeAuthResponse(ctx: Context, response: AuthResponse): void {
  ctx.status = response.status;
  if (response.headers) ctx.set(response.headers);
  // Serialized by hand: Koa's cookies.set refuses Secure cookies behind a TLS-terminating
  // proxy unless app.proxy is set, which would turn a login into a 500.
  for (const cookie of response.cookies ?? []) ctx.append("Set-Cookie", serializeCookie(cookie));
  if (response.body !== undefined) {
    ctx.body = response.body;
    ctx.status = response.status;
  }
}

/** Answers with a JSON `null` body (FastAPI's 202 answers carry one). */
export function writeJsonNull(ctx: Context, status: number): void {
  ctx.type = "application/json";
  ctx.body = "null";
  ctx.status = status;
}
