/**
 * The storage side of rate limiting: a counter per key, consumed atomically. Framework-
 * neutral, so `@tessera/koa` applies it to routes and `@tessera/strategy-redis` can keep it
 * in Redis for every app instance at once.
 */

/**
 * A limit on one key: `limit` attempts at once, then one more every
 * `windowSeconds / limit` seconds (a token bucket, computed as GCRA: one timestamp per key).
 *
 * @example
 * const fivePerMinute: RateLimitRule = { limit: 5, windowSeconds: 60 };
 */
export interface RateLimitRule {
  /** Attempts allowed in a burst, and per `windowSeconds` on average. */
  limit: number;
  /** The window the limit is counted over, in seconds. */
  windowSeconds: number;
  /**
   * Backoff: attempts refused while throttled still count, so a client that keeps trying
   * waits longer, up to this many seconds. 0: refused attempts cost nothing.
   * @default 0
   */
  maxBlockSeconds?: number;
}

/** The answer to one {@link RateLimitStore.consume}. */
export interface RateLimitDecision {
  /** True when the attempt is within the limit (and was counted). */
  allowed: boolean;
  /** When refused: milliseconds until an attempt would be allowed; 0 when allowed. */
  retryAfterMs: number;
  /** When allowed: how many more attempts would be allowed right now. */
  remaining: number;
}

/**
 * Where rate-limit counters live. `consume` must be atomic per key (concurrent attempts
 * cannot both take the last slot), and an unreachable backing service must throw (core's
 * `ServiceUnavailableError`), never answer "allowed".
 *
 * @example
 * const store: RateLimitStore = new MemoryRateLimitStore();
 * const { allowed } = await store.consume("login:client:203.0.113.7", { limit: 20, windowSeconds: 60 });
 */
export interface RateLimitStore {
  /** Counts one attempt against `key` under `rule`, if the rule allows it. */
  consume(key: string, rule: RateLimitRule): Promise<RateLimitDecision>;
  /** Gives one counted attempt back (a login that succeeded does not count against anyone). */
  refund(key: string, rule: RateLimitRule): Promise<void>;
}

/** Checks a rule at construction, so a typo fails at startup rather than as a 500. */
export function checkRateLimitRule(rule: RateLimitRule, what: string): void {
  const ok =
    typeof rule === "object" &&
    rule !== null &&
    Number.isSafeInteger(rule.limit) &&
    rule.limit > 0 &&
    typeof rule.windowSeconds === "number" &&
    Number.isFinite(rule.windowSeconds) &&
    rule.windowSeconds > 0 &&
    (rule.maxBlockSeconds === undefined ||
      (Number.isFinite(rule.maxBlockSeconds) && rule.maxBlockSeconds >= 0));
  if (!ok) {
    throw new TypeError(
      `${what}: a rate-limit rule needs a positive integer limit, a positive windowSeconds and maxBlockSeconds ≥ 0`,
    );
  }
}

/** The state change and answer of one attempt, in whole milliseconds (shared by every store). */
export interface GcraStep {
  /** The key's new theoretical arrival time, or null to delete the key. */
  next: number | null;
  decision: RateLimitDecision;
}

/**
 * GCRA (the generic cell rate algorithm): `tat` is when the key's bucket would be full
 * again. An attempt is allowed while `tat` is at most `window - interval` ahead of now.
 * The Redis store runs the same arithmetic in Lua.
 */
export function gcraConsume(stored: number | null, now: number, rule: RateLimitRule): GcraStep {
  const window = rule.windowSeconds * 1000;
  const interval = window / rule.limit;
  const tolerance = window - interval;
  const tat = Math.max(stored ?? now, now);
  if (tat - now <= tolerance) {
    const next = Math.ceil(tat + interval);
    const remaining = Math.max(0, Math.floor((now + tolerance - next) / interval) + 1);
    return { next, decision: { allowed: true, retryAfterMs: 0, remaining } };
  }
  let next = tat;
  const maxBlock = (rule.maxBlockSeconds ?? 0) * 1000;
  if (maxBlock > 0) {
    // Backoff: a refused attempt still counts, but the wait never exceeds maxBlock.
    next = Math.max(tat, Math.min(Math.ceil(tat + interval), now + tolerance + maxBlock));
  }
  return {
    next: stored === null && next === now ? null : next,
    decision: { allowed: false, retryAfterMs: Math.max(1, next - tolerance - now), remaining: 0 },
  };
}

/** Gives back one attempt: `tat` moves one interval back; at or before now the key is empty. */
export function gcraRefund(stored: number | null, now: number, rule: RateLimitRule): number | null {
  if (stored === null) return null;
  const back = Math.floor(stored - (rule.windowSeconds * 1000) / rule.limit);
  return back > now ? back : null;
}
