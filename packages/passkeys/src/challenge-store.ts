/**
 * Where WebAuthn challenges wait between the options and the response: server-side, so a
 * client cannot choose or reuse one. Single use is the store's `take`: read and delete in
 * one step, so two requests with one challenge cannot both get it.
 */
export interface ChallengeStore {
  /** Stores `value` under `id` for `ttlSeconds`. Ids are random (256 bits), never reused. */
  put(id: string, value: string, ttlSeconds: number): Promise<void>;
  /**
   * Returns the value under `id` and deletes it, atomically (across app instances for a
   * shared store); null when unknown, expired or taken already.
   */
  take(id: string): Promise<string | null>;
}

/**
 * An in-process {@link ChallengeStore}: enough for one instance. Several instances behind a
 * load balancer need a shared one (`RedisChallengeStore` from `@tessera/strategy-redis`,
 * `SET … EX` then `GETDEL`), or the response may reach an instance that never saw the options.
 */
export class MemoryChallengeStore implements ChallengeStore {
  readonly #entries = new Map<string, { value: string; until: number }>();
  readonly #now: () => number;
  readonly #maxEntries: number;
  #nextSweep = 0;

  /**
   * @param options.now - epoch milliseconds, for tests.
   * @param options.maxEntries - pending challenges kept at most; the oldest go first.
   * @default maxEntries 100_000
   */
  constructor(options: { now?: () => number; maxEntries?: number } = {}) {
    this.#now = options.now ?? Date.now;
    this.#maxEntries = options.maxEntries ?? 100_000;
  }

  async put(id: string, value: string, ttlSeconds: number): Promise<void> {
    const now = this.#now();
    if (now >= this.#nextSweep) {
      for (const [key, entry] of this.#entries) if (entry.until <= now) this.#entries.delete(key);
      this.#nextSweep = now + 60_000;
    }
    // Options cost nothing to request, so the map is bounded: a flood evicts old challenges
    // (those users retry) instead of growing the process without limit.
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
    this.#entries.set(id, { value, until: now + Math.max(1, ttlSeconds) * 1000 });
  }

  async take(id: string): Promise<string | null> {
    const entry = this.#entries.get(id);
    if (entry === undefined) return null;
    this.#entries.delete(id);
    return entry.until > this.#now() ? entry.value : null;
  }

  /** How many challenges are pending (for tests). */
  get size(): number {
    return this.#entries.size;
  }
}
