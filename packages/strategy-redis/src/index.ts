/**
 * `@tessera/strategy-redis`: opaque session tokens in Redis (ioredis, standalone or
 * Cluster), stored as SHA-256 digests with sliding and absolute expiry, per-user
 * sessions and optional user snapshots. The JWT revocation store is in
 * `@tessera/strategy-redis/jwt`.
 */
export { recommendedClusterOptions, recommendedRedisOptions } from "./client-options.js";
export type { RedisClient, RedisStrategyOptions } from "./options.js";
export { RedisStrategy } from "./redis-strategy.js";
export { isUserSnapshot, type UserSnapshotOption } from "./snapshot.js";
