import { ServiceUnavailableError } from "@tessera/core";

// Error replies that mean "this node cannot serve right now", not "your command is wrong":
// a cluster that lost slot coverage, a node loading its dataset, a slot being migrated,
// a replica promoted or demoted mid-request, a script hogging the server.
const TRANSIENT_REPLIES = ["CLUSTERDOWN", "LOADING", "TRYAGAIN", "MASTERDOWN", "READONLY", "BUSY"];

/**
 * True when `error`, thrown by an ioredis command, means Redis is unreachable or not
 * serving: connection refused or closed, a command timeout, the offline queue disabled
 * while reconnecting, retries exhausted, every cluster node failing, or a transient error
 * reply. Other error replies (WRONGTYPE, a syntax error) are bugs and stay as they are.
 */
export function isRedisUnavailable(error: unknown): boolean {
  // A TypeError or RangeError is a bug in the caller, not an outage.
  if (!(error instanceof Error) || error instanceof TypeError || error instanceof RangeError) {
    return false;
  }
  if (error.name !== "ReplyError") return true;
  return TRANSIENT_REPLIES.some((code) => error.message.startsWith(code));
}

/**
 * Awaits a Redis call and turns an outage into core's `ServiceUnavailableError`
 * (cause attached), which the HTTP layer answers with 503 instead of 500.
 */
export async function orUnavailable<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    return rethrowUnavailable(error);
  }
}

/**
 * Rethrows an error of a Redis call, an outage as core's `ServiceUnavailableError` (for
 * `promise.then(onReply, rethrowUnavailable)` on hot paths, where a wrapper costs a frame).
 */
export function rethrowUnavailable(error: unknown): never {
  if (isRedisUnavailable(error)) {
    throw new ServiceUnavailableError("Redis is unavailable", { cause: error });
  }
  throw error;
}
