import { ConfigurationError, DEFAULT_SESSION_LIMITS, type SessionLimits } from "@tessera/core";
import type { RedisClient } from "./lib/scripts.js";
import type { UserSnapshotOption } from "./snapshot.js";

export type { RedisClient } from "./lib/scripts.js";

/** Options of {@link RedisSessionStore}, and of {@link RedisStrategy}, which is built on it. */
export interface RedisSessionStoreOptions<ID = string> {
  /**
   * An ioredis `Redis` or `Cluster`, shared by every request. Configure it to fail fast
   * (see `recommendedRedisOptions`) so an outage answers 503 within a second.
   */
  redis: RedisClient;
  /**
   * Prepended to a token's SHA-256 digest (hex) to make its session key.
   * @default "tessera:token:"
   */
  prefix?: string;
  /**
   * Prepended to a user id to make the key of that user's session index (a sorted set
   * of digests), used by log-out-everywhere and the session list. Must differ from `prefix`.
   * @default "tessera:user-tokens:"
   */
  userIndexPrefix?: string;
  /**
   * Idle lifetime in seconds: a token unused for this long expires. Extended by sliding
   * renewal (ASVS 5.0 7.3.1).
   * @default 3600
   */
  lifetimeSeconds?: number;
  /**
   * Absolute lifetime in seconds from creation: renewal never extends a token past it,
   * however active (ASVS 5.0 7.3.2).
   * @default 2592000 (30 days)
   */
  maxLifetimeSeconds?: number;
  /** Current time in epoch milliseconds. @default Date.now */
  clock?: () => number;
  /**
   * Largest session data and claims, in bytes of their JSON.
   * @default DEFAULT_SESSION_LIMITS (16384 and 2048)
   */
  limits?: SessionLimits;
  /**
   * Turns the stored user id (`String(user.id)`) back into an id, for the sessions the store
   * hands out (`Session.userId`). `RedisStrategy.readSession` uses the user manager's.
   * @default the stored string as it is
   */
  parseUserId?: (stored: string) => ID;
}

/** Options of {@link RedisStrategy}. */
export interface RedisStrategyOptions<U, ID = U extends { id: infer I } ? I : string>
  extends RedisSessionStoreOptions<ID> {
  /**
   * Keep the user's public fields in the session, so an authenticated request reads
   * Redis only (see {@link UserSnapshotOption}).
   * @default false
   */
  snapshot?: UserSnapshotOption<U>;
}

/** Options resolved and checked at construction. */
export interface ResolvedRedisStrategyOptions<U> {
  redis: RedisClient;
  prefix: string;
  userIndexPrefix: string;
  lifetimeSeconds: number;
  maxLifetimeSeconds: number;
  snapshot: UserSnapshotOption<U>;
  clock: () => number;
  limits: Readonly<Required<SessionLimits>>;
}

/** Applies defaults and fails fast, at startup, on a configuration that cannot work. */
export function resolveOptions<U, ID>(
  options: RedisStrategyOptions<U, ID>,
  name = "RedisStrategy",
): ResolvedRedisStrategyOptions<U> {
  const resolved = {
    redis: options.redis,
    prefix: options.prefix ?? "tessera:token:",
    userIndexPrefix: options.userIndexPrefix ?? "tessera:user-tokens:",
    lifetimeSeconds: options.lifetimeSeconds ?? 3600,
    maxLifetimeSeconds: options.maxLifetimeSeconds ?? 30 * 24 * 3600,
    snapshot: options.snapshot ?? false,
    clock: options.clock ?? Date.now,
    limits: Object.freeze({ ...DEFAULT_SESSION_LIMITS, ...options.limits }),
  };
  if (typeof resolved.redis?.evalsha !== "function") {
    throw new ConfigurationError(`${name}: redis must be an ioredis Redis or Cluster`);
  }
  if (typeof resolved.prefix !== "string" || resolved.prefix === "") {
    throw new ConfigurationError(`${name}: prefix must be a non-empty string`);
  }
  if (typeof resolved.userIndexPrefix !== "string" || resolved.userIndexPrefix === "") {
    throw new ConfigurationError(`${name}: userIndexPrefix must be a non-empty string`);
  }
  if (resolved.prefix === resolved.userIndexPrefix) {
    throw new ConfigurationError(`${name}: prefix and userIndexPrefix must differ`);
  }
  if (!(Number.isSafeInteger(resolved.lifetimeSeconds) && resolved.lifetimeSeconds > 0)) {
    throw new ConfigurationError(`${name}: lifetimeSeconds must be a positive integer`);
  }
  if (
    !(
      Number.isSafeInteger(resolved.maxLifetimeSeconds) &&
      resolved.maxLifetimeSeconds >= resolved.lifetimeSeconds
    )
  ) {
    throw new ConfigurationError(
      `${name}: maxLifetimeSeconds must be an integer ≥ lifetimeSeconds`,
    );
  }
  for (const [limit, value] of Object.entries(resolved.limits)) {
    if (!(Number.isSafeInteger(value) && value > 0)) {
      throw new ConfigurationError(`${name}: limits.${limit} must be a positive integer`);
    }
  }
  return resolved;
}
