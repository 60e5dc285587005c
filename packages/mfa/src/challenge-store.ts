/**
 * Single use and attempt counting of MFA login challenges (`mfa_token`), shared by every app
 * instance: the shape of `@tessera/oauth`'s `OAuthStateStore` plus a failure counter.
 */
export interface MfaChallengeStore {
  /**
   * Marks `id` used for `ttlSeconds` (at least the challenge's remaining life). Resolves true
   * the first time, false when it was consumed already. Must be atomic across app instances.
   */
  consume(id: string, ttlSeconds: number): Promise<boolean>;
  /** True when `id` was consumed (used, or killed after too many wrong codes). */
  isConsumed(id: string): Promise<boolean>;
  /**
   * Adds one wrong code to `id`'s count, kept `ttlSeconds`, and resolves the count after it.
   * Must be atomic (Redis `INCR` + `EXPIRE`).
   */
  addFailure(id: string, ttlSeconds: number): Promise<number>;
}

/**
 * An in-process {@link MfaChallengeStore}: enough for one instance. Several instances need a
 * shared one (a Redis implementation: `SET NX EX` for `consume`, `INCR` + `EXPIRE` for failures).
 */
export class MemoryMfaChallengeStore implements MfaChallengeStore {
  readonly #used = new Map<string, number>();
  readonly #failures = new Map<string, { count: number; until: number }>();
  readonly #now: () => number;
  #nextSweep = 0;

  /** `now` (epoch milliseconds) is for tests. */
  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async consume(id: string, ttlSeconds: number): Promise<boolean> {
    const now = this.#sweep();
    const until = this.#used.get(id);
    if (until !== undefined && until > now) return false;
    this.#used.set(id, now + Math.max(1, Math.ceil(ttlSeconds)) * 1000);
    return true;
  }

  async isConsumed(id: string): Promise<boolean> {
    const until = this.#used.get(id);
    return until !== undefined && until > this.#now();
  }

  async addFailure(id: string, ttlSeconds: number): Promise<number> {
    const now = this.#sweep();
    const current = this.#failures.get(id);
    const count = current && current.until > now ? current.count + 1 : 1;
    this.#failures.set(id, { count, until: now + Math.max(1, Math.ceil(ttlSeconds)) * 1000 });
    return count;
  }

  /** How many challenges are remembered, used or with failures (for tests). */
  get size(): number {
    return this.#used.size + this.#failures.size;
  }

  #sweep(): number {
    const now = this.#now();
    if (now >= this.#nextSweep) {
      for (const [key, until] of this.#used) if (until <= now) this.#used.delete(key);
      for (const [key, f] of this.#failures) if (f.until <= now) this.#failures.delete(key);
      this.#nextSweep = now + 60_000;
    }
    return now;
  }
}
