/**
 * Sessions as objects (SuperTokens' session model, Lucia's verb-first API): what a request
 * is authenticated with, the server-side data kept for it, and the store contract every
 * stateful strategy is built on.
 */

/** A JSON value, as session data and claims hold it. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;

/** A JSON object: session data, or the custom claims of an access token. */
export interface JsonObject {
  [key: string]: JsonValue;
}

/**
 * Where a session was created from. Both bounded ({@link SESSION_DEVICE_LIMITS}), so a
 * client cannot make a session row or key large.
 */
export interface SessionDevice {
  /** The client address, as the rate limiter resolves it (trusted proxies honoured). */
  ipAddress: string | null;
  /** The `User-Agent` header, cut to its bound. */
  userAgent: string | null;
}

/** What a request is authenticated with: a session, not only a user. */
export interface Session<ID = unknown> {
  /**
   * The session's public, stable id: what `/users/me/sessions` shows and `DELETE` takes.
   * Never the token, nor its digest (a one-way function of the digest).
   */
  readonly handle: string;
  readonly userId: ID;
  readonly createdAt: Date;
  /** When it ends if unused: the idle lifetime, never past {@link absoluteExpiresAt}. */
  readonly expiresAt: Date;
  /** The absolute cap (piccolo's `max_expiry_date`): renewal never extends past it. */
  readonly absoluteExpiresAt: Date;
  /**
   * When it was last used, written no more often than the sliding renewal writes (so reads
   * stay write-free); null until the first renewal.
   */
  readonly lastUsedAt: Date | null;
  readonly device: SessionDevice;
  /**
   * Custom access-token payload: read with the session, no extra round trip. With JWTs the
   * client carries it; with opaque tokens it is stored with the session.
   */
  readonly claims: JsonObject;
}

/** Options of creating a session. */
export interface CreateSessionOptions {
  /** Where the session is created from. @default unknown (both null) */
  device?: Partial<SessionDevice>;
  /** Server-side data to start with; never sent to the client by Tessera. @default {} */
  data?: JsonObject;
  /** Custom claims. @default {} */
  claims?: JsonObject;
}

/**
 * The contract of a session store, verb-first as Lucia's: implemented over an
 * `AccessTokenDatabase` (`@tessera/strategy-database`) and over Redis
 * (`@tessera/strategy-redis`); the opaque-token strategies are built on it, and it is the
 * session API for scripts, jobs and websockets. Tokens are ≥ 256-bit opaque strings of
 * which only the SHA-256 digest is stored.
 */
export interface SessionStore<ID = unknown> {
  /** Creates a session for `userId`; the token is returned once and never stored. */
  createSession(
    userId: ID,
    options?: CreateSessionOptions,
  ): Promise<{ token: string; session: Session<ID> }>;
  /**
   * The live session `token` stands for, renewed when due (sliding expiry, at most one
   * write per half-lifetime, which also records `lastUsedAt`); an expired one is deleted
   * and null.
   */
  validateSession(token: string): Promise<Session<ID> | null>;
  /** The session's server-side data (one round trip); null when the session is gone. */
  getSessionData(handle: string): Promise<JsonObject | null>;
  /** Overwrites the session's data; false when the session is gone. */
  setSessionData(handle: string, data: JsonObject): Promise<boolean>;
  /** Merges `patch` into the data (top-level keys; `null` deletes one); null when gone. */
  mergeSessionData(handle: string, patch: JsonObject): Promise<JsonObject | null>;
  /** Overwrites the session's claims; false when the session is gone. */
  setSessionClaims(handle: string, claims: JsonObject): Promise<boolean>;
  /** Ends one session of `userId`; false when it is not one (gone, or someone else's). */
  invalidateSession(userId: ID, handle: string): Promise<boolean>;
  /** Ends every session of `userId`, but `exceptHandle`'s (the session that asked). */
  invalidateUserSessions(userId: ID, options?: { exceptHandle?: string }): Promise<void>;
  /** The live sessions of `userId`. */
  listUserSessions(userId: ID): Promise<Session<ID>[]>;
  /** Deletes every expired session; returns how many. Run it from a job. */
  deleteExpiredSessions(now?: Date): Promise<number>;
}

/**
 * What {@link RefreshSessionStore.rotateRefreshToken} found, decided in one atomic step:
 * - `rotated`: the presented refresh token was the session's current one; its child is
 *   current now, the presented one its parent, and the idle expiry was renewed (never past
 *   the absolute cap; `lastUsedAt` written).
 * - `parent`: the presented token is the parent of a child that has not been used yet (a
 *   lost response, two tabs refreshing at once): nothing was written; the same child is
 *   handed out again (children are derived from their parent, so it is the same token).
 * - `reused`: the session is live but the presented token is neither: a token used after
 *   its child was used, i.e. copied. The session was deleted in the same step.
 * - `invalid`: no live session under that key (unknown, expired, revoked).
 */
export type RefreshRotation<ID = unknown> =
  | { outcome: "rotated" | "parent" | "reused"; session: Session<ID> }
  | { outcome: "invalid" };

/**
 * A {@link SessionStore} whose sessions are refreshed with rotating refresh tokens
 * (SuperTokens' model, `@tessera/strategy-jwt`'s `RefreshTokenStrategy`). The store keeps
 * two SHA-256 digests per session, the current refresh token's and its parent's, never a
 * token. A session is found by its `key` (the storage key the token embeds: a digest of a
 * random value no client ever holds, never the handle nor a token).
 */
export interface RefreshSessionStore<ID = unknown> extends SessionStore<ID> {
  /**
   * Creates a session for `userId` whose current refresh token has digest `refreshDigest`
   * (no parent). Resolves its storage key, to be embedded in the refresh token.
   */
  createRefreshSession(
    userId: ID,
    refreshDigest: string,
    options?: CreateSessionOptions,
  ): Promise<{ key: string; session: Session<ID> }>;
  /**
   * Rotates the refresh token of the live session `key` atomically (see
   * {@link RefreshRotation}): `presented` is the digest of the token the client sent,
   * `child` the digest of the token that replaces it. No interleaving of calls yields two
   * live children: the write is conditional on the current digest still being `presented`.
   */
  rotateRefreshToken(key: string, presented: string, child: string): Promise<RefreshRotation<ID>>;
  /**
   * The live session `handle` names, read without renewal or any write; null when gone.
   * Used to check an access token's session on every request (`checkDatabase`).
   */
  getSession(handle: string): Promise<Session<ID> | null>;
}
