import type { UserManager } from "../manager/user-manager.js";
import type { UserProtocol } from "../models.js";
import type {
  CreateSessionOptions,
  Session,
  SessionDevice,
  SessionStore,
} from "../session/session.js";

export { StrategyDestroyNotSupportedError } from "../errors.js";

/**
 * What changed about a user, as the user manager tells strategies. `revokeSessions`
 * is true for a password change or reset, a deactivation and a deletion: every session
 * of the user must end (ASVS 5.0 7.4.2, 7.4.3). Otherwise a strategy that keeps user
 * snapshots refreshes them.
 */
export interface UserChange {
  kind: "update" | "password" | "deactivate" | "delete" | "factor";
  /** Model fields that changed (camelCase, e.g. `email`, `isActive`). */
  fields: readonly string[];
  revokeSessions: boolean;
  /**
   * With `revokeSessions`: the token of the session that made the change (a user changing
   * their own password), to keep while every other session ends. It may be another
   * strategy's token: each strategy keeps it only if it is one of its own, for this user.
   */
  exceptToken?: string;
  /**
   * With `exceptToken`: the handle of that session, when the request had one. A strategy
   * whose store holds that session although the token is another strategy's (two
   * strategies sharing one table or Redis prefix) keeps it by its handle.
   */
  exceptHandle?: string;
}

/** Options of {@link Strategy.destroyAllTokens}. */
export interface DestroyAllTokensOptions {
  /**
   * A token to keep alive (the current session) while every other token of the user is
   * destroyed; ignored when it is not one of this strategy's tokens for that user.
   */
  exceptToken?: string;
  /**
   * The handle of the session to keep (the request's `Session.handle`), for a strategy whose
   * store holds it under another strategy's token (a shared table); ignored when not one of
   * this strategy's sessions of that user.
   */
  exceptHandle?: string;
}

/**
 * What a refresh-token strategy issues at login and at every refresh: a short-lived access
 * token and the refresh token that replaces the one presented (RFC 6749 §5.1).
 */
export interface TokenPair {
  accessToken: string;
  /** Opaque; rotated on every use. */
  refreshToken: string;
  /** Seconds until the access token expires (`expires_in`). */
  expiresIn: number;
  /** Seconds until the refresh token expires unused (its idle expiry, within the absolute cap). */
  refreshExpiresIn: number;
}

/** A session as its owner may see it: never the token, nor its digest. */
export interface SessionInfo {
  /** Opaque, stable id of the session, safe to show and to send back to revoke it. */
  id: string;
  createdAt: Date;
  expiresAt: Date;
  /** When it was last used (renewals only); absent where a strategy does not know. */
  lastUsedAt?: Date | null;
  /** Where it was created from; absent where a strategy does not know. */
  device?: SessionDevice;
  /** True for the session the request was made with. */
  current: boolean;
}

/**
 * How a token is made, checked and destroyed. An invalid, expired or unknown token
 * reads as `null`, never an exception; a backing service that is down throws
 * `ServiceUnavailableError`.
 */
export interface Strategy<U extends UserProtocol<ID>, ID = U["id"]> {
  /** The user `token` authenticates, or null. */
  readToken(token: string | null, userManager: UserManager<U, ID>): Promise<U | null>;
  /** Issues a new token for `user` (a login). */
  writeToken(user: U): Promise<string>;
  /** Destroys one token (a logout); throws `StrategyDestroyNotSupportedError` if it cannot. */
  destroyToken(token: string, user: U): Promise<void>;
  /**
   * Destroys every token of `user` (log out everywhere), but `options.exceptToken` when it
   * is one of the user's; may throw `StrategyDestroyNotSupportedError`.
   */
  destroyAllTokens(user: U, options?: DestroyAllTokensOptions): Promise<void>;
  /**
   * Reacts to a change of `user` made through the user manager. When absent, the manager
   * calls `destroyAllTokens` (with `change.exceptToken`) for changes with `revokeSessions`
   * and nothing otherwise.
   */
  onUserChanged?(user: U, change: UserChange): Promise<void>;
  /** The user's live sessions, for strategies that can enumerate them. */
  listSessions?(user: U, currentToken: string | null): Promise<SessionInfo[]>;
  /** Ends one of the user's sessions by its {@link SessionInfo.id}; false when not found. */
  destroySession?(user: U, sessionId: string): Promise<boolean>;
  /**
   * The user and the {@link Session} `token` stands for, in the round trips `readToken`
   * takes (no more): a strategy built on a {@link SessionStore} has it; `readToken` is then
   * `readSession` without the session.
   */
  readSession?(
    token: string | null,
    userManager: UserManager<U, ID>,
  ): Promise<{ user: U; session: Session<ID> } | null>;
  /** Issues a token for a new session of `user`, with a device, data and claims (a login). */
  writeSession?(user: U, options?: CreateSessionOptions): Promise<string>;
  /**
   * Refresh-token strategies: issues the token pair of a new session of `user` (a login).
   * The HTTP layer prefers it to `writeSession` when present.
   */
  writeTokenPair?(user: U, options?: CreateSessionOptions): Promise<TokenPair>;
  /**
   * Refresh-token strategies: rotates `refreshToken` into a new pair for its session. Throws
   * `RefreshTokenInvalidError` (unknown, expired, revoked; user gone or inactive) or
   * `RefreshTokenReusedError` (a rotated token presented again: the session is ended and
   * the manager's `onTokenTheftDetected` hook called with `context`).
   */
  refresh?(
    refreshToken: string,
    userManager: UserManager<U, ID>,
    context?: unknown,
  ): Promise<{ user: U; session: Session<ID>; tokens: TokenPair }>;
  /** The store of this strategy's sessions; absent for a JWT strategy without one. */
  readonly sessions?: SessionStore<ID>;
}
