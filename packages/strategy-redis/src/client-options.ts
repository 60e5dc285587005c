import type { ClusterOptions, RedisOptions } from "ioredis";

// Reconnect quickly, then at most once a second: Redis coming back is noticed within ~1 s.
const backoff = (times: number): number => Math.min(50 * 2 ** times, 1000);

/**
 * ioredis `Redis` options under which an unreachable Redis answers within a second and
 * the same client reconnects by itself when Redis is back: no offline queue (a command
 * fails at once while disconnected instead of waiting for a reconnection), a 500 ms
 * command timeout (a hung server), a 1 s connect timeout (a black-holed host), one retry,
 * and reconnection attempts backing off to one per second, forever.
 *
 * With the offline queue off, commands sent before the first connection fail too:
 * connect at startup (`lazyConnect: true`, then `await redis.connect()`).
 *
 * Auto-pipelining is on: the commands of all requests handled in one turn of the event loop
 * go out in one write, instead of one system call each, which under load cuts the CPU both
 * Node and Redis spend per request (see docs/benchmarks.md). A command waits at most until
 * the end of the current turn.
 *
 * @example
 * const redis = new Redis(process.env.REDIS_URL, { ...recommendedRedisOptions, lazyConnect: true });
 * redis.on("error", (e) => log.warn(e)); // ioredis reports connection errors as events
 * await redis.connect();
 */
export const recommendedRedisOptions = {
  enableAutoPipelining: true,
  connectTimeout: 1000,
  commandTimeout: 500,
  maxRetriesPerRequest: 1,
  enableOfflineQueue: false,
  retryStrategy: backoff,
} as const satisfies RedisOptions;

/**
 * ioredis `Cluster` options with the same fail-fast, self-healing behaviour as
 * {@link recommendedRedisOptions}: the offline queue and reconnection policy are set on
 * the cluster, timeouts on every node connection.
 *
 * @example
 * const cluster = new Cluster(nodes, { ...recommendedClusterOptions, lazyConnect: true });
 * cluster.on("error", (e) => log.warn(e));
 * await cluster.connect();
 */
export const recommendedClusterOptions = {
  enableAutoPipelining: true,
  enableOfflineQueue: false,
  clusterRetryStrategy: backoff,
  slotsRefreshTimeout: 1000,
  redisOptions: { connectTimeout: 1000, commandTimeout: 500, maxRetriesPerRequest: 1 },
} as const satisfies ClusterOptions;
