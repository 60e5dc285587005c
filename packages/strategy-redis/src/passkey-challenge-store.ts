import { ConfigurationError } from "@tessera/core";
import type { RedisClient } from "./lib/scripts.js";
import { orUnavailable } from "./lib/unavailable.js";

/** Options of {@link RedisChallengeStore}. */
export interface RedisChallengeStoreOptions {
  /** An ioredis `Redis` or `Cluster` (configured to fail fast, see `recommendedRedisOptions`). */
  redis: RedisClient;
  /** Prepended to every key. @default "tessera:passkey-challenge:" */
  prefix?: string;
}

/**
 * The challenge store of `@tessera/passkeys`' `PasskeyService` (its `ChallengeStore`),
 * shared by every app instance, so the WebAuthn response may reach another instance than
 * the options did. `SET key value EX ttl`, then `GETDEL`: one key, one command, atomic on
 * a standalone Redis and on a Cluster, so among concurrent responses with one challenge
 * exactly one gets it. Needs Redis 6.2+. An unreachable Redis throws
 * `ServiceUnavailableError` (503).
 *
 * @example
 * new PasskeyService({ ..., challengeStore: new RedisChallengeStore({ redis }) });
 */
export class RedisChallengeStore {
  /** The ioredis client. */
  readonly redis: RedisClient;
  /** Prefix of every key. */
  readonly prefix: string;

  constructor(options: RedisChallengeStoreOptions) {
    this.redis = options.redis;
    this.prefix = options.prefix ?? "tessera:passkey-challenge:";
    if (typeof this.redis?.getdel !== "function") {
      throw new ConfigurationError(
        "RedisChallengeStore: redis must be an ioredis Redis or Cluster",
      );
    }
    if (typeof this.prefix !== "string") {
      throw new ConfigurationError("RedisChallengeStore: prefix must be a string");
    }
  }

  /** Stores `value` under `id` for `ttlSeconds` (whole seconds, at least one). */
  async put(id: string, value: string, ttlSeconds: number): Promise<void> {
    const ttl = Math.max(1, Math.ceil(ttlSeconds));
    await orUnavailable(this.redis.set(this.prefix + id, value, "EX", ttl));
  }

  /** The value under `id`, deleted in the same command; null when unknown, expired or taken. */
  async take(id: string): Promise<string | null> {
    return orUnavailable(this.redis.getdel(this.prefix + id));
  }
}
