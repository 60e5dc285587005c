import type { AuthenticationBackend } from "./backend.js";
import { ConfigurationError, ForbiddenError, UnauthorizedError } from "./errors.js";
import type { UserManager } from "./manager/user-manager.js";
import type { UserProtocol } from "./models.js";
import type { Session } from "./session/session.js";
import type { Strategy } from "./strategy/base.js";
import type { AuthRequest } from "./transport/base.js";

/** Requirements on the current user, as FastAPI Users' `current_user(...)`. */
export interface CurrentUserOptions {
  /** Inactive users get 401. @default false */
  active?: boolean;
  /** Unverified users get 403. @default false */
  verified?: boolean;
  /** Non-superusers get 403. @default false */
  superuser?: boolean;
  /** No user yields null instead of 401 (a failed requirement still yields null). @default false */
  optional?: boolean;
  /** Only try these backends (by name). @default every backend */
  backends?: readonly string[];
}

/** Who is authenticated, with which token and through which backend. */
export interface AuthResult<U extends UserProtocol<ID>, ID = U["id"], Ctx = unknown> {
  user: U;
  token: string;
  backend: AuthenticationBackend<U, ID, Ctx>;
  strategy: Strategy<U, ID>;
  /**
   * The session the token stands for, read in the same call as the user (the strategy's
   * `readSession`); null when the strategy has no `readSession`.
   */
  session?: Session<ID> | null;
}

/**
 * Tries backends in order; the first that yields a user wins. Each backend reads its
 * own transport, so a token is always checked (and later destroyed) by the backend
 * whose transport carried it.
 *
 * @example
 * const auth = new Authenticator([jwtBackend, cookieBackend]);
 * const result = await auth.authenticate(ctx, request, userManager, { active: true });
 */
export class Authenticator<U extends UserProtocol<ID>, ID = U["id"], Ctx = unknown> {
  readonly backends: readonly AuthenticationBackend<U, ID, Ctx>[];

  constructor(backends: readonly AuthenticationBackend<U, ID, Ctx>[]) {
    const names = new Set<string>();
    for (const backend of backends) {
      if (names.has(backend.name))
        throw new ConfigurationError(`Duplicate backend name "${backend.name}"`);
      names.add(backend.name);
    }
    if (backends.length === 0)
      throw new ConfigurationError("Authenticator needs at least one backend");
    this.backends = backends;
  }

  /**
   * The current user under `options`, or null when `optional`; otherwise throws
   * {@link UnauthorizedError} (401) or {@link ForbiddenError} (403).
   */
  async authenticate(
    ctx: Ctx,
    request: AuthRequest,
    userManager: UserManager<U, ID>,
    options: CurrentUserOptions = {},
  ): Promise<AuthResult<U, ID, Ctx> | null> {
    let found: AuthResult<U, ID, Ctx> | null = null;
    let carrier: string | undefined;
    for (const backend of this.backends) {
      if (options.backends && !options.backends.includes(backend.name)) continue;
      const token = backend.transport.readToken(request);
      if (token === null) continue;
      carrier ??= backend.name;
      // Most factories return the strategy itself: awaiting only a promise saves a
      // microtask turn on every request.
      const made = backend.getStrategy(ctx);
      const strategy = isThenable(made) ? await made : made;
      // A strategy with sessions reads user and session in one call (no extra round
      // trip); the others keep today's path, with no frame added.
      if (strategy.readSession) {
        const read = await strategy.readSession(token, userManager);
        if (read) {
          found = { user: read.user, token, backend, strategy, session: read.session };
          break;
        }
        continue;
      }
      const user = await strategy.readToken(token, userManager);
      if (user) {
        found = { user, token, backend, strategy, session: null };
        break;
      }
    }
    if (!found) {
      if (options.optional) return null;
      throw new UnauthorizedError(
        carrier === undefined
          ? { reason: "no_token" }
          : { reason: "token_invalid", backend: carrier },
      );
    }
    const { user } = found;
    const backend = found.backend.name;
    if (options.active && !user.isActive) {
      if (options.optional) return null;
      throw new UnauthorizedError({ reason: "user_inactive", backend, userId: String(user.id) });
    }
    if ((options.verified && !user.isVerified) || (options.superuser && !user.isSuperuser)) {
      if (options.optional) return null;
      throw new ForbiddenError({
        reason: options.verified && !user.isVerified ? "not_verified" : "not_superuser",
        backend,
        userId: String(user.id),
      });
    }
    return found;
  }
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown }).then === "function";
}
