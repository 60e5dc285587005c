import { recommendedRedisOptions } from "@tessera/strategy-redis";
import { Redis } from "ioredis";
import type { Logger } from "./logger.js";

/**
 * A connected ioredis client with Tessera's recommended options: commands fail fast
 * (503) while Redis is down instead of queueing, and the client reconnects by itself.
 */
export async function openRedis(url: string, log: Logger): Promise<Redis> {
  const redis = new Redis(url, { ...recommendedRedisOptions, lazyConnect: true });
  // ioredis reports connection trouble as events; without a listener Node would crash.
  let last = "";
  redis.on("error", (error: Error) => {
    if (error.message !== last) log.warn(`redis: ${error.message}`);
    last = error.message;
  });
  redis.on("ready", () => {
    last = "";
  });
  // With the offline queue off, nothing can be sent before the first connection.
  await redis.connect();
  return redis;
}
