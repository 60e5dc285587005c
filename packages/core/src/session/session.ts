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
