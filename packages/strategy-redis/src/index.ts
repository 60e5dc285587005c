/**
 * `@tessera/strategy-redis`: opaque session tokens in Redis (ioredis, standalone or
 * Cluster), stored as SHA-256 digests with sliding and absolute expiry, per-user
 * sessions and optional user snapshots; `RedisSessionStore`, the same sessions as verbs and
 * the store of refresh-token sessions (`RefreshTokenStrategy` of `@tessera/strategy-jwt`).
 * The JWT revocation store is in `@tessera/strategy-redis/jwt`.
 */
export { recommendedClusterOptions, recommendedRedisOptions } from "./client-options.js";
export {
  RedisMfaChallengeStore,
  type RedisMfaChallengeStoreOptions,
} from "./mfa-challenge-store.js";
export {
  RedisOAuthStateStore,
  type RedisOAuthStateStoreOptions,
} from "./oauth-state-store.js";
export type { RedisClient, RedisSessionStoreOptions, RedisStrategyOptions } from "./options.js";
export { RedisChallengeStore, type RedisChallengeStoreOptions } from "./passkey-challenge-store.js";
export { RedisStrategy } from "./redis-strategy.js";
export { RedisSessionStore } from "./session-store.js";
export { isUserSnapshot, type UserSnapshotOption } from "./snapshot.js";
