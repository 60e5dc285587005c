import {
  checkRateLimitRule,
  gcraConsume,
  gcraRefund,
  type RateLimitDecision,
  type RateLimitRule,
  type RateLimitStore,
} from "./store.js";

/** Options of {@link MemoryRateLimitStore}. */
export interface MemoryRateLimitStoreOptions {
  /**
   * Most keys held at once. Past it the least recently used key is forgotten, so memory
   * stays bounded (about 100 bytes a key) however many addresses or emails an attacker
   * cycles through; a forgotten key starts over with a full bucket.
   * @default 100000
   */
  maxKeys?: number;
  /** Current time in epoch milliseconds. @default Date.now */
  clock?: () => number;
}

/**
 * A {@link RateLimitStore} in process memory: exact and fast for one process. Several
 * app instances each count on their own: share a Redis store between them
 * (`RedisRateLimitStore` from `@tessera/strategy-redis/rate-limit`).
 *
 * @example
 * new Tessera({ getUserManager, backends, rateLimit: { store: new MemoryRateLimitStore() } });
 */
export class MemoryRateLimitStore implements RateLimitStore {
  /** Key -> theoretical arrival time (ms); Map order is least recently used first. */
  private readonly keys = new Map<string, number>();
  private readonly maxKeys: number;
  private readonly clock: () => number;

  constructor(options: MemoryRateLimitStoreOptions = {}) {
    this.maxKeys = options.maxKeys ?? 100_000;
    this.clock = options.clock ?? Date.now;
    if (!(Number.isSafeInteger(this.maxKeys) && this.maxKeys > 0)) {
      throw new TypeError("MemoryRateLimitStore: maxKeys must be a positive integer");
    }
  }

  /** Number of keys held (expired ones included until touched or evicted). */
  get size(): number {
    return this.keys.size;
  }

  async consume(key: string, rule: RateLimitRule): Promise<RateLimitDecision> {
    checkRateLimitRule(rule, "MemoryRateLimitStore.consume");
    const now = this.clock();
    const { next, decision } = gcraConsume(this.live(key, now), now, rule);
    this.write(key, next);
    return decision;
  }

  async refund(key: string, rule: RateLimitRule): Promise<void> {
    const now = this.clock();
    this.write(key, gcraRefund(this.live(key, now), now, rule));
  }

  /** The key's state, or null when absent or run out (then it is forgotten). */
  private live(key: string, now: number): number | null {
    const tat = this.keys.get(key);
    if (tat === undefined) return null;
    if (tat > now) return tat;
    this.keys.delete(key);
    return null;
  }

  private write(key: string, tat: number | null): void {
    // Delete then set: the key moves to the end, the most recently used.
    this.keys.delete(key);
    if (tat === null) return;
    this.keys.set(key, tat);
    if (this.keys.size <= this.maxKeys) return;
    for (const oldest of this.keys.keys()) {
      this.keys.delete(oldest);
      if (this.keys.size <= this.maxKeys) break;
    }
  }
}
