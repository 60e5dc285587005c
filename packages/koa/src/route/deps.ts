import type {
  AuditLog,
  Authenticator,
  AuthResult,
  CurrentUserOptions,
  SessionDevice,
  UserManager,
  UserProtocol,
} from "@tessera/core";
import type { Context } from "koa";
import type { CsrfProtection } from "../csrf.js";
import type { RateLimiter } from "../rate-limit/limiter.js";

/** What every router needs from the {@link Tessera} instance. */
export interface RouterDeps<U extends UserProtocol<ID>, ID> {
  getUserManager: (ctx: Context) => UserManager<U, ID> | Promise<UserManager<U, ID>>;
  authenticator: Authenticator<U, ID, Context>;
  /**
   * The current user under `options` (401/403 as FastAPI Users), with CSRF checked when
   * a cookie backend authenticated a state-changing request.
   */
  authenticate: (
    ctx: Context,
    options: CurrentUserOptions,
  ) => Promise<{ userManager: UserManager<U, ID>; result: AuthResult<U, ID, Context> | null }>;
  /** Null when CSRF protection is turned off. */
  csrf: CsrfProtection | null;
  /** Null when rate limiting is turned off. */
  rateLimiter: RateLimiter | null;
  /** The audit stream; null when the app gave no `onAuditEvent`. */
  audit: AuditLog | null;
  bodyLimit: number;
  /**
   * Where a request comes from, as a new session records it: the client address as the
   * rate limiter resolves it (trusted proxies honoured), and the user agent.
   */
  device: (ctx: Context) => SessionDevice;
  read: (user: U) => Record<string, unknown>;
}

/** Options every router factory takes. */
export interface RouterOptions {
  /** Path prefix of the router's routes, e.g. `"/auth/jwt"`. @default "" */
  prefix?: string;
}
