import {
  type AuthResult,
  CookieTransport,
  checkSessionJson,
  type JsonObject,
  type Session,
  SessionNotSupportedError,
  type SessionStore,
  StrategyDestroyNotSupportedError,
  UnauthorizedError,
  type UserProtocol,
} from "@tessera/core";
import { serializeCookie } from "@tessera/core/internal";
import type { Context } from "koa";
import { raise } from "./http-error.js";
import { refreshPathOf } from "./routers/auth.js";

/**
 * The response header a Bearer client receives its re-issued access token in, after
 * {@link RequestSession.mergeClaims} on a JWT backend (a cookie backend re-sets its cookie).
 */
export const ACCESS_TOKEN_HEADER = "X-Access-Token";

/** A strategy that can re-issue a token of the same session with other claims (JWT). */
interface Reissuing {
  reissue(token: string, claims: JsonObject): Promise<string | null>;
}

const canReissue = (strategy: unknown): strategy is Reissuing =>
  typeof (strategy as Partial<Reissuing>).reissue === "function";

/**
 * `ctx.state.session`: the session the request is authenticated with, bound to the request
 * (SuperTokens' session object). `handle`, `userId` and `claims` cost nothing; the data
 * methods are one round trip each to the strategy's session store; `mergeClaims` and
 * `revoke` also deliver what changed to the client (a new token, a cleared cookie).
 *
 * @example
 * router.post("/theme", tessera.currentUser({ active: true }), async (ctx) => {
 *   await ctx.state.session?.mergeData({ theme: "dark" });
 *   ctx.status = 204;
 * });
 */
export class RequestSession<U extends UserProtocol<ID>, ID = U["id"]> {
  private currentClaims: JsonObject;

  constructor(
    private readonly ctx: Context,
    private readonly auth: AuthResult<U, ID, Context>,
    /** The session as the strategy read it: lifetimes, device, last use. */
    readonly info: Session<ID>,
  ) {
    this.currentClaims = info.claims;
  }

  /** The session's public, stable id (what `/users/me/sessions` lists). */
  get handle(): string {
    return this.info.handle;
  }

  get userId(): ID {
    return this.info.userId;
  }

  /** The custom claims, as the token carried them or the store keeps them. */
  get claims(): JsonObject {
    return this.currentClaims;
  }

  /** The session's server-side data (one round trip). */
  getData(): Promise<JsonObject> {
    return this.answer(async () => gone(await this.store().getSessionData(this.handle)));
  }

  /** Overwrites the session's data (one round trip); size-limited by the store. */
  updateData(data: JsonObject): Promise<void> {
    return this.answer(async () => {
      if (!(await this.store().setSessionData(this.handle, data))) throw new UnauthorizedError();
    });
  }

  /** Merges `patch` into the data, top-level keys, `null` deleting one (one round trip). */
  mergeData(patch: JsonObject): Promise<JsonObject> {
    return this.answer(async () => gone(await this.store().mergeSessionData(this.handle, patch)));
  }

  /**
   * Merges `patch` into the claims (top-level keys, `null` deleting one). Opaque tokens:
   * stored with the session. JWT: the token is re-issued with them, and this response
   * delivers it (the cookie re-set, or the {@link ACCESS_TOKEN_HEADER} header for Bearer).
   */
  mergeClaims(patch: JsonObject): Promise<JsonObject> {
    return this.answer(() => this.setClaims(patch));
  }

  private async setClaims(patch: JsonObject): Promise<JsonObject> {
    const claims = merge(this.currentClaims, patch);
    const { strategy, backend } = this.auth;
    const store = strategy.sessions;
    if (store) {
      if (!(await store.setSessionClaims(this.handle, claims))) throw new UnauthorizedError();
    }
    // A refresh-token strategy does both: its store keeps the claims for the next refresh,
    // and the access token in hand is re-issued with them.
    if (canReissue(strategy)) {
      const token = await strategy.reissue(this.auth.token, claims);
      if (token === null) throw new UnauthorizedError();
      this.auth.token = token;
      const { transport } = backend;
      if (transport instanceof CookieTransport) {
        this.writeCookies(transport.loginResponse(token).cookies);
      } else {
        this.ctx.set(ACCESS_TOKEN_HEADER, token);
        this.ctx.set("Cache-Control", "no-store");
      }
    } else if (!store) {
      throw new SessionNotSupportedError(
        `The "${backend.name}" backend's strategy can neither store claims (a session store) ` +
          "nor re-issue its tokens (JWTStrategy)",
      );
    }
    this.currentClaims = claims;
    return claims;
  }

  /**
   * Ends the session: the next request with its token is refused (a JWT one at once with a
   * revocation store, else at its `exp`); a cookie backend's response clears the cookie.
   */
  revoke(): Promise<void> {
    return this.answer(() => this.end());
  }

  private async end(): Promise<void> {
    const { strategy, backend, user, token } = this.auth;
    if (strategy.sessions) {
      await strategy.sessions.invalidateSession(this.userId, this.handle);
    } else {
      try {
        await strategy.destroyToken(token, user);
      } catch (error) {
        // A JWT without a revocation store: valid until its exp, as documented.
        if (!(error instanceof StrategyDestroyNotSupportedError)) throw error;
      }
    }
    if (backend.transport instanceof CookieTransport) {
      const refreshPath = refreshPathOf(backend);
      this.writeCookies(
        backend.transport.logoutResponse(refreshPath === undefined ? {} : { refreshPath }).cookies,
      );
    }
  }

  /**
   * Runs `step`, its errors thrown as Tessera's other errors are: an `HttpError` the app's
   * error middleware sees (413, 422, 501, 401 for a session ended meanwhile, 503).
   */
  private async answer<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (error) {
      raise(this.ctx, error);
    }
  }

  private store(): SessionStore<ID> {
    const store = this.auth.strategy.sessions;
    if (store) return store;
    throw new SessionNotSupportedError(
      `The "${this.auth.backend.name}" backend's strategy keeps no server-side session data: ` +
        "use a strategy with a session store (DatabaseStrategy, RedisStrategy) for session data",
    );
  }

  private writeCookies(cookies: Parameters<typeof serializeCookie>[0][] | undefined): void {
    for (const cookie of cookies ?? []) this.ctx.append("Set-Cookie", serializeCookie(cookie));
  }
}

/** The request-bound session of `auth`, or null when its strategy has no sessions. */
export function requestSession<U extends UserProtocol<ID>, ID>(
  ctx: Context,
  auth: AuthResult<U, ID, Context> | null,
): RequestSession<U, ID> | null {
  return auth?.session ? new RequestSession(ctx, auth, auth.session) : null;
}

/** A store's answer for a session that ended meanwhile: the request is no longer signed in. */
function gone<T>(value: T | null): T {
  if (value === null) throw new UnauthorizedError();
  return value;
}

/** `base` with `patch`'s top-level keys set, `null` deleting one; the patch checked as JSON. */
function merge(base: JsonObject, patch: JsonObject): JsonObject {
  const checked = checkSessionJson(patch, "claims", Number.POSITIVE_INFINITY);
  const merged: JsonObject = { ...base };
  for (const [key, value] of Object.entries(checked)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return merged;
}
