import {
  ConfigurationError,
  type RateLimitDecision,
  type RateLimitRule,
  type RateLimitStore,
} from "@tessera/core";
import { checkRateLimitRule } from "@tessera/core/internal";
import { type RedisClient, runScript } from "../lib/scripts.js";
import { orUnavailable } from "../lib/unavailable.js";
import { RATE_LIMIT } from "./script.js";

/** Options of {@link RedisRateLimitStore}. */
export interface RedisRateLimitStoreOptions {
  /** An ioredis `Redis` or `Cluster` (configured to fail fast, see `recommendedRedisOptions`). */
  redis: RedisClient;
  /** Prepended to every key. @default "tessera:rate:" */
  prefix?: string;
  /**
   * Current time in epoch milliseconds. Without it Redis's own clock is used, so app
   * instances whose clocks differ still count alike.
   * @default the Redis server's TIME
   */
  clock?: () => number;
}

/**
 * A `RateLimitStore` in Redis (standalone or Cluster), shared by every app instance: each
 * attempt is one Lua script on one key (one slot), so it is atomic and Cluster-safe. A key
 * holds one timestamp and expires when its bucket is full again, so Redis holds only the
 * keys of recent attempts. An unreachable Redis throws `ServiceUnavailableError` (503).
 *
 * @example
 * import { RedisRateLimitStore } from "@tessera/strategy-redis/rate-limit";
 * new Tessera({ getUserManager, backends, rateLimit: { store: new RedisRateLimitStore({ redis }) } });
 */
export class RedisRateLimitStore implements RateLimitStore {
  /** The ioredis client counters live in. */
  readonly redis: RedisClient;
  /** Prefix of every key. @default "tessera:rate:" */
  readonly prefix: string;
  private readonly clock: (() => number) | undefined;

  constructor(options: RedisRateLimitStoreOptions) {
    this.redis = options.redis;
    this.prefix = options.prefix ?? "tessera:rate:";
    this.clock = options.clock;
    if (typeof this.redis?.evalsha !== "function") {
      throw new ConfigurationError(
        "RedisRateLimitStore: redis must be an ioredis Redis or Cluster",
      );
    }
    if (typeof this.prefix !== "string") {
      throw new ConfigurationError("RedisRateLimitStore: prefix must be a string");
    }
  }

  async consume(key: string, rule: RateLimitRule): Promise<RateLimitDecision> {
    checkRateLimitRule(rule, "RedisRateLimitStore.consume");
    const reply = await this.run("consume", key, rule);
    const [allowed, retryAfterMs, remaining] = Array.isArray(reply) ? reply.map(Number) : [];
    return {
      allowed: allowed === 1,
      retryAfterMs: allowed === 1 ? 0 : Math.max(1, retryAfterMs ?? 1),
      remaining: remaining ?? 0,
    };
  }

  async refund(key: string, rule: RateLimitRule): Promise<void> {
    await this.run("refund", key, rule);
  }

  private run(op: "consume" | "refund", key: string, rule: RateLimitRule): Promise<unknown> {
    const args = [
      op,
      rule.windowSeconds * 1000,
      rule.limit,
      (rule.maxBlockSeconds ?? 0) * 1000,
      this.clock ? Math.floor(this.clock()) : "",
    ];
    return orUnavailable(runScript(this.redis, RATE_LIMIT, [this.prefix + key], args));
  }
}
