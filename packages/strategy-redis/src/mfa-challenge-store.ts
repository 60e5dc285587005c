import { ConfigurationError } from "@tessera/core";
import { lua, type RedisClient, runScript } from "./lib/scripts.js";
import { orUnavailable } from "./lib/unavailable.js";

// One hash per challenge: u ("1" once consumed) and f (wrong codes so far). One key, so each
// script runs on the one node owning its slot of a Cluster; the key lives as long as the
// longest ttl it was given (a failure never shortens the life of a consumed mark).

/** Sets u if unset and lengthens the TTL to ARGV[1] seconds; 1 the first time, else 0. */
const CONSUME = lua(`
if redis.call('HSETNX', KEYS[1], 'u', '1') == 0 then return 0 end
local ttl = tonumber(ARGV[1])
if redis.call('TTL', KEYS[1]) < ttl then redis.call('EXPIRE', KEYS[1], ttl) end
return 1
`);

/** Adds one to f, lengthens the TTL to ARGV[1] seconds, and returns the count. */
const ADD_FAILURE = lua(`
local n = redis.call('HINCRBY', KEYS[1], 'f', 1)
local ttl = tonumber(ARGV[1])
if redis.call('TTL', KEYS[1]) < ttl then redis.call('EXPIRE', KEYS[1], ttl) end
return n
`);

/** Options of {@link RedisMfaChallengeStore}. */
export interface RedisMfaChallengeStoreOptions {
  /** An ioredis `Redis` or `Cluster` (configured to fail fast, see `recommendedRedisOptions`). */
  redis: RedisClient;
  /** Prepended to every key. @default "tessera:mfa-challenge:" */
  prefix?: string;
}

/**
 * The store of `@tessera/mfa`'s `MfaChallenges` (its `MfaChallengeStore`), shared by every
 * app instance, so an `mfa_token` issued by one instance is completed on any other, once,
 * and its wrong codes are counted across all of them. One hash key per challenge and one Lua
 * script (or one command) per call: atomic on a standalone Redis and on a Cluster, so among
 * concurrent completions of one challenge exactly one consumes it, and no instance can add
 * a failure the others miss. Keys expire with the challenge. An unreachable Redis throws
 * `ServiceUnavailableError` (503).
 *
 * @example
 * new MfaChallenges({ ..., store: new RedisMfaChallengeStore({ redis }) });
 */
export class RedisMfaChallengeStore {
  /** The ioredis client. */
  readonly redis: RedisClient;
  /** Prefix of every key. */
  readonly prefix: string;

  constructor(options: RedisMfaChallengeStoreOptions) {
    this.redis = options.redis;
    this.prefix = options.prefix ?? "tessera:mfa-challenge:";
    if (typeof this.redis?.evalsha !== "function") {
      throw new ConfigurationError(
        "RedisMfaChallengeStore: redis must be an ioredis Redis or Cluster",
      );
    }
    if (typeof this.prefix !== "string") {
      throw new ConfigurationError("RedisMfaChallengeStore: prefix must be a string");
    }
  }

  /**
   * Marks `id` used for at least `ttlSeconds` (whole seconds, at least one). True the first
   * time, false when it was consumed already.
   */
  async consume(id: string, ttlSeconds: number): Promise<boolean> {
    const reply = await orUnavailable(
      runScript(this.redis, CONSUME, [this.prefix + id], [wholeSeconds(ttlSeconds)]),
    );
    return reply === 1;
  }

  /** True when `id` was consumed (used, or killed after too many wrong codes). */
  async isConsumed(id: string): Promise<boolean> {
    return (await orUnavailable(this.redis.hexists(this.prefix + id, "u"))) === 1;
  }

  /**
   * Adds one wrong code to `id`'s count, kept at least `ttlSeconds` (whole seconds, at least
   * one), and resolves the count after it.
   */
  async addFailure(id: string, ttlSeconds: number): Promise<number> {
    const reply = await orUnavailable(
      runScript(this.redis, ADD_FAILURE, [this.prefix + id], [wholeSeconds(ttlSeconds)]),
    );
    return Number(reply);
  }
}

function wholeSeconds(ttlSeconds: number): number {
  return Math.max(1, Math.ceil(ttlSeconds));
}
