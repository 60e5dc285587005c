/** One token to revoke: its `jti`, remembered until the token would have expired anyway. */
export interface RevokedToken {
  /** The token's `jti` claim. */
  jti: string;
  /** The token's `exp`; after it the entry may be forgotten (the token is dead anyway). */
  expiresAt: Date;
}

/** Log out everywhere: every token of `sub` issued at or before `cutoff` is revoked. */
export interface RevokedUserTokens {
  /** The user id as it appears in the `sub` claim. */
  sub: string;
  /** Tokens issued at or before this instant (millisecond precision) are revoked. */
  cutoff: Date;
  /**
   * When the rule may be forgotten: the latest `exp` of any token it revokes
   * (`cutoff + lifetimeSeconds`). Later than that, every token it covers has expired.
   */
  expiresAt: Date;
  /**
   * The `jti` of one token of `sub` the rule spares (the session that changed its own
   * password). It belongs to this cutoff: a later cutoff replaces it, with its own or none.
   */
  exceptJti?: string;
}

/** What {@link JwtRevocationStore.isRevoked} is asked about a verified token. */
export interface RevocationQuery {
  /** The token's `jti` claim. */
  jti: string;
  /** The token's `sub` claim. */
  sub: string;
  /**
   * When the token was issued, with millisecond precision (not the whole-second `iat`),
   * so a log-out-everywhere kills tokens issued earlier in the same second.
   */
  issuedAt: Date;
}

/**
 * Where {@link JWTStrategy} records logouts: a denylist of token ids plus a per-user
 * "not issued at or before" cutoff. Entries only need to live until the tokens they
 * cover expire, so a store with TTLs (Redis) stays bounded.
 *
 * A store that cannot reach its backing service must throw (core's
 * `ServiceUnavailableError`), never answer "not revoked": failing open would let a
 * logged-out token back in.
 *
 * @example
 * const strategy = new JWTStrategy({ secret, revocationStore: new MemoryJwtRevocationStore() });
 */
export interface JwtRevocationStore {
  /** Revokes one token (a logout). */
  revokeToken(token: RevokedToken): Promise<void>;
  /**
   * Revokes every token of a user issued at or before `cutoff` (log out everywhere), but
   * `exceptJti`. A later (or equal) cutoff replaces an earlier one together with its
   * exception; an earlier one never lowers a later one nor changes its exception.
   */
  revokeUserTokens(rule: RevokedUserTokens): Promise<void>;
  /**
   * True when the token's `jti` is revoked, or it was issued at or before its user's
   * cutoff and is not that cutoff's `exceptJti`. Both facts are asked together so a store
   * can answer in one round trip.
   */
  isRevoked(query: RevocationQuery): Promise<boolean>;
}
