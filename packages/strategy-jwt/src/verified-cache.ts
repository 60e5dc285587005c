/** What a verified token is remembered by: the claims the strategy reads, and its `exp`. */
export interface CachedClaims {
  readonly sub: string;
  readonly jti: string;
  /** `exp` in epoch seconds. */
  readonly exp: number;
  /** `iat_ms`: the issue time in epoch milliseconds. */
  readonly issuedAt: number;
}

/**
 * Tokens whose signature and claims were verified, by their exact text, so a token seen
 * again skips the signature check (jose's HMAC verify costs ~45 µs; a lookup well under
 * one). Only the signature and the fixed claims (`aud`, `iss`, algorithm) are remembered:
 * `exp` is compared with the clock on every hit, as jose would, and revocation is asked
 * on every request by the strategy, cached or not. Bounded: past `maxEntries` the oldest
 * entry is dropped (insertion order), so memory stays within `maxEntries` tokens.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, CachedClaims>();

  constructor(readonly maxEntries: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The claims of `token` if verified before and unexpired at `nowMs`; drops it once expired. */
  get(token: string, nowMs: number): CachedClaims | undefined {
    const hit = this.entries.get(token);
    if (hit === undefined) return undefined;
    // jose's rule, to the second: a token is expired once exp <= floor(now).
    if (hit.exp <= Math.floor(nowMs / 1000)) {
      this.entries.delete(token);
      return undefined;
    }
    return hit;
  }

  set(token: string, claims: CachedClaims): void {
    if (this.maxEntries <= 0) return;
    if (this.entries.size >= this.maxEntries && !this.entries.has(token)) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(token, Object.freeze({ ...claims }));
  }

  clear(): void {
    this.entries.clear();
  }
}
