// Shared by the *.outage.test.ts files: how long a call took to fail, and a Redis of their own.
import { recommendedRedisOptions } from "@tessera/strategy-redis";
import { Redis } from "ioredis";
import { type PrivateService, startPrivateService } from "../harness/control.js";

/**
 * Runs `call` and times it: what it rejected with, or an Error saying it did not fail, and
 * how many milliseconds it took. An outage test asserts both (the error's class, a bound).
 */
export async function timedFailure(
  call: () => Promise<unknown>,
): Promise<{ error: unknown; ms: number }> {
  const started = performance.now();
  const error = await call().then(
    () => new Error("expected a failure"),
    (e: unknown) => e,
  );
  return { error, ms: performance.now() - started };
}

/**
 * A private Redis (test/harness/control.ts: stopping the shared one would fail the other
 * Redis test files) and a client on the recommended options, connected. The client's
 * error events are expected while the server is down; `dispose` disconnects and stops it.
 */
export async function privateRedis(): Promise<{
  server: PrivateService;
  redis: Redis;
  dispose: () => Promise<void>;
}> {
  const server = await startPrivateService("redis");
  const redis = new Redis(server.url, { ...recommendedRedisOptions, lazyConnect: true });
  redis.on("error", () => {});
  await redis.connect();
  return {
    server,
    redis,
    dispose: async () => {
      redis.disconnect();
      await server.dispose();
    },
  };
}
