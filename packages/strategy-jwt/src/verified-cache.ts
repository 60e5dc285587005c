import type { JsonObject } from "@tessera/core";

/** What a verified token is remembered by: the claims the strategy reads, and its `exp`. */
export interface CachedClaims {
  readonly sub: string;
  readonly jti: string;
  /** `exp` in epoch seconds. */
  readonly exp: number;
  /** `iat_ms`: the issue time in epoch milliseconds. */
  readonly issuedAt: number;
  /** The session handle, a one-way function of `jti`. */
  readonly handle: string;
  /** The session's custom claims (the `ext` claim), frozen; absent when the token has none. */
  readonly ext?: JsonObject;
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
  // Keyed by the signature's last ≤ 16 characters (96 bits of MAC output): hashing a whole
  // 400-character token on every lookup cost more than the rest of the lookup. The full
  // text is kept and compared, so only the exact token ever hits.
  private readonly entries = new Map<string, { token: string; claims: CachedClaims }>();

  constructor(readonly maxEntries: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The claims of `token` if verified before and unexpired at `nowMs`; drops it once expired. */
  get(token: string, nowMs: number): CachedClaims | undefined {
    const key = keyOf(token);
    const hit = this.entries.get(key);
    if (hit === undefined || hit.token !== token) return undefined;
    // jose's rule, to the second: a token is expired once exp <= floor(now).
    if (hit.claims.exp <= Math.floor(nowMs / 1000)) {
      this.entries.delete(key);
      return undefined;
    }
    return hit.claims;
  }

  set(token: string, claims: CachedClaims): void {
    if (this.maxEntries <= 0) return;
    const key = keyOf(token);
    if (this.entries.size >= this.maxEntries && !this.entries.has(key)) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { token, claims: Object.freeze({ ...claims }) });
  }

  clear(): void {
    this.entries.clear();
  }
}

// Every signature we accept ends in ≥ 16 characters of MAC or signature output (HS256 has
// 43, ES256 86, RS256 342): 96 bits tell tokens apart. Hashing fewer characters is the
// point (86 cost ~0.1 µs more per lookup). Two tokens sharing a key only collide in the
// map: the stored full text decides, so a crafted tail can only miss.
const KEY_LENGTH = 16;
const keyOf = (token: string) =>
  token.length > KEY_LENGTH ? token.slice(token.length - KEY_LENGTH) : token;
