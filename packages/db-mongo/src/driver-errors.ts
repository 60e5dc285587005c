import { ServiceUnavailableError } from "@tessera/core";

// Errors are recognised by `name` and `code`, not `instanceof`: an app (or a monorepo) can
// end up with two copies of the driver, and an error thrown by one copy is no instance of
// the other's classes. The driver sets `name` on every error class, so it is stable.

/** Driver errors meaning "the server cannot be reached or did not answer in time". */
const UNAVAILABLE_NAMES = new Set([
  "MongoNetworkError",
  "MongoNetworkTimeoutError",
  "MongoServerSelectionError",
  "MongoOperationTimeoutError",
  "MongoWaitQueueTimeoutError",
  "MongoPoolClearedError",
  "MongoPoolClosedError",
  "MongoNotConnectedError",
  "MongoTopologyClosedError",
  "MongoClientClosedError",
]);

/**
 * Server error codes of a node that is down, stepping down, shutting down or out of time
 * (the driver's retryable-read set, plus MaxTimeMSExpired): retrying later can succeed.
 */
const UNAVAILABLE_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  50, // MaxTimeMSExpired
  89, // NetworkTimeout
  91, // ShutdownInProgress
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

/**
 * Node socket error codes: the driver lets some through unwrapped (EPIPE when a pooled
 * connection's peer has closed) instead of a MongoNetworkError. See docs/packages/db-mongo.md,
 * "Internals".
 */
const SOCKET_ERROR_CODES = new Set([
  "EPIPE",
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/** MongoDB's NotImplemented; FerretDB answers it for stages and options it lacks. */
const NOT_IMPLEMENTED = 238;
const DUPLICATE_KEY = 11000;

interface DriverErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  keyPattern?: unknown;
}

const shape = (error: unknown): DriverErrorShape =>
  typeof error === "object" && error !== null ? (error as DriverErrorShape) : {};

/** True when `error` means the database is unreachable, overloaded or timed out. */
export function isUnavailableError(error: unknown): boolean {
  const { name, code } = shape(error);
  return (
    (typeof name === "string" && UNAVAILABLE_NAMES.has(name)) ||
    (typeof code === "number" && UNAVAILABLE_CODES.has(code)) ||
    (typeof code === "string" && SOCKET_ERROR_CODES.has(code))
  );
}

/** True when the server refused an operation it does not implement (FerretDB, old servers). */
export function isNotImplementedError(error: unknown): boolean {
  return shape(error).code === NOT_IMPLEMENTED;
}

/**
 * True when a unique index refused a write. Besides E11000, FerretDB v1 on SQLite reports a
 * unique violation *on update* as InternalError (code 1) "UNIQUE constraint failed: index
 * '<collection>_<hash>_<index name>'".
 *
 * With `field`, the violation must be on that field's index when the error says which:
 * MongoDB gives `keyPattern`; FerretDB gives the index name in the message; FerretDB's E11000
 * on insert says nothing, and then the answer is yes.
 */
export function isDuplicateKeyError(error: unknown, field?: string): boolean {
  const { code, message, keyPattern } = shape(error);
  const text = typeof message === "string" ? message : "";
  if (code === DUPLICATE_KEY) {
    if (field === undefined) return true;
    if (typeof keyPattern === "object" && keyPattern !== null) return field in keyPattern;
    return true;
  }
  if (code === 1 && text.includes("UNIQUE constraint failed")) {
    const index = /index '([^']*)'/.exec(text)?.[1];
    return field === undefined || index === undefined || index.includes(field);
  }
  return false;
}

/** Wraps an unavailability error in {@link ServiceUnavailableError}; returns others as they are. */
export function translateDriverError(error: unknown): unknown {
  if (!isUnavailableError(error)) return error;
  // Driver 7 keeps a client whose first connection failed closed for good (no auto-connect
  // after that): say so in the logs, since only the app's client.connect() heals it.
  const message =
    shape(error).name === "MongoTopologyClosedError"
      ? "MongoDB is unavailable: the client is closed (if its first connection failed, call client.connect() again)"
      : "MongoDB is unavailable";
  return new ServiceUnavailableError(message, { cause: error });
}

/** Runs one driver call, turning outages and timeouts into {@link ServiceUnavailableError}. */
export async function runDriver<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw translateDriverError(error);
  }
}
