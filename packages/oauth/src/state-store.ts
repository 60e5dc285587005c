/**
 * Single use of an OAuth `state`: the callback consumes it once; a second callback with the
 * same state (a replayed or intercepted redirect) is refused (ASVS 5.0 10.1.2).
 */
export interface OAuthStateStore {
  /**
   * Marks `id` used for `ttlSeconds` (at least the state's remaining life). Resolves true the
   * first time, false when it was consumed already. Must be atomic across app instances.
   */
  consume(id: string, ttlSeconds: number): Promise<boolean>;
}

/**
 * An in-process {@link OAuthStateStore}: enough for one instance. Several instances need a
 * shared store (`RedisOAuthStateStore` from `@tessera/strategy-redis`).
 */
export class MemoryOAuthStateStore implements OAuthStateStore {
  readonly #used = new Map<string, number>();
  readonly #now: () => number;
  #nextSweep = 0;

  /** `now` (epoch milliseconds) is for tests. */
  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async consume(id: string, ttlSeconds: number): Promise<boolean> {
    const now = this.#now();
    if (now >= this.#nextSweep) {
      for (const [key, until] of this.#used) if (until <= now) this.#used.delete(key);
      this.#nextSweep = now + 60_000;
    }
    const until = this.#used.get(id);
    if (until !== undefined && until > now) return false;
    this.#used.set(id, now + Math.max(1, Math.ceil(ttlSeconds)) * 1000);
    return true;
  }

  /** How many consumed states are remembered (for tests). */
  get size(): number {
    return this.#used.size;
  }
}
