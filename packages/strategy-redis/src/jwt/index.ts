/**
 * `@tessera/strategy-redis/jwt`: a Redis (standalone or Cluster) revocation store for
 * `@tessera/strategy-jwt`'s JWTStrategy. A separate entry point, so that apps without
 * JWTs need not install `@tessera/strategy-jwt`.
 */
export {
  RedisJwtRevocationStore,
  type RedisJwtRevocationStoreOptions,
} from "./redis-jwt-revocation-store.js";
