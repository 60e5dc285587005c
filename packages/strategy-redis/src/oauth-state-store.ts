import { ConfigurationError } from "@tessera/core";
import type { RedisClient } from "./lib/scripts.js";
import { orUnavailable } from "./lib/unavailable.js";

/** Options of {@link RedisOAuthStateStore}. */
export interface RedisOAuthStateStoreOptions {
  /** An ioredis `Redis` or `Cluster` (configured to fail fast, see `recommendedRedisOptions`). */
  redis: RedisClient;
  /** Prepended to every key. @default "tessera:oauth-state:" */
  prefix?: string;
}

/**
 * The single-use `state` store of `@tessera/oauth`'s `OAuthFlow` (its `OAuthStateStore`),
 * shared by every app instance: `SET key 1 NX EX ttl` on one key, atomic on a standalone
 * Redis and on a Cluster (one key, one slot), so among concurrent callbacks with one state
 * exactly one wins. An unreachable Redis throws `ServiceUnavailableError` (503).
 *
 * @example
 * new OAuthFlow({ ..., stateStore: new RedisOAuthStateStore({ redis }) });
 */
export class RedisOAuthStateStore {
  /** The ioredis client. */
  readonly redis: RedisClient;
  /** Prefix of every key. */
  readonly prefix: string;

  constructor(options: RedisOAuthStateStoreOptions) {
    this.redis = options.redis;
    this.prefix = options.prefix ?? "tessera:oauth-state:";
    if (typeof this.redis?.set !== "function") {
      throw new ConfigurationError(
        "RedisOAuthStateStore: redis must be an ioredis Redis or Cluster",
      );
    }
    if (typeof this.prefix !== "string") {
      throw new ConfigurationError("RedisOAuthStateStore: prefix must be a string");
    }
  }

  /** True the first time `id` is consumed within `ttlSeconds`, false after. */
  async consume(id: string, ttlSeconds: number): Promise<boolean> {
    const ttl = Math.max(1, Math.ceil(ttlSeconds));
    const reply = await orUnavailable(this.redis.set(this.prefix + id, "1", "EX", ttl, "NX"));
    return reply === "OK";
  }
}
