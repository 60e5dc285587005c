/**
 * `@tessera/strategy-redis/rate-limit`: a Redis (standalone or Cluster) store for
 * `@tessera/koa`'s rate limiting, shared by every app instance.
 */
export { RedisRateLimitStore, type RedisRateLimitStoreOptions } from "./redis-rate-limit-store.js";
