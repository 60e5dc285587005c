// Driver errors -> Tessera errors. Writes go through MikroORM's exception converters, reads
// through the bare connection (which does not convert), so both shapes are recognised here.
import {
  ConnectionException,
  LockWaitTimeoutException,
  UniqueConstraintViolationException,
} from "@mikro-orm/core";
import { ServiceUnavailableError, UserAlreadyExistsError } from "@tessera/core";

// Node socket errors, and PostgreSQL's class 08 (connection exception), 57P01-57P03
// (server shutting down / starting up), 53300 (too many connections), 57014 (statement
// timeout or cancel): every one means "try again later", not "your input is wrong".
const UNAVAILABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "SQLITE_BUSY",
  "SQLITE_CANTOPEN",
  "57P01",
  "57P02",
  "57P03",
  "53300",
  "57014",
]);

// The mongodb driver's network, selection and pool errors (matched by name: this package
// must not import `mongodb`).
const UNAVAILABLE_NAMES = new Set([
  "MongoNetworkError",
  "MongoNetworkTimeoutError",
  "MongoServerSelectionError",
  "MongoTopologyClosedError",
  "MongoNotConnectedError",
  "MongoPoolClosedError",
  "MongoWaitQueueTimeoutError",
  "MongoOperationTimeoutError",
  "PoolClearedError",
  "PoolClosedError",
  "WaitQueueTimeoutError",
]);

// node:sqlite's errors carry SQLite's result code as `errcode` (under code ERR_SQLITE_ERROR):
// SQLITE_BUSY (5, "database is locked", and its extended codes) and SQLITE_CANTOPEN (14,
// "unable to open database file") are the ones better-sqlite3 names in UNAVAILABLE_CODES.
const SQLITE_UNAVAILABLE = new Set([5, 14]);

// pg and pg-pool signal lost or slow connections by message only; and MikroORM's
// DriverException keeps a mongodb error's message but not its class name.
const UNAVAILABLE_MESSAGES = [
  /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN)\b/,
  /server selection timed out/i,
  /connection (\d+ to \S+ )?(closed|timed out)/i,
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /connection timeout/i,
  /client has encountered a connection error/i,
  /database is locked/i,
];

function* chain(error: unknown): Generator<Record<string, unknown>> {
  const seen = new Set<unknown>();
  let current = error;
  while (current && typeof current === "object" && !seen.has(current)) {
    seen.add(current);
    yield current as Record<string, unknown>;
    if (current instanceof AggregateError && current.errors.length > 0) {
      current = current.errors[0];
    } else {
      current = (current as { cause?: unknown }).cause;
    }
  }
}

/** Whether `error` says the database is unreachable, overloaded or timed out. */
export function isUnavailable(error: unknown): boolean {
  for (const e of chain(error)) {
    if (e instanceof ConnectionException || e instanceof LockWaitTimeoutException) return true;
    if (typeof e.code === "string" && (UNAVAILABLE_CODES.has(e.code) || e.code.startsWith("08"))) {
      return true;
    }
    if (typeof e.name === "string" && UNAVAILABLE_NAMES.has(e.name)) return true;
    if (
      e.code === "ERR_SQLITE_ERROR" &&
      typeof e.errcode === "number" &&
      SQLITE_UNAVAILABLE.has(e.errcode & 0xff)
    ) {
      return true;
    }
    const message = typeof e.message === "string" ? e.message : "";
    if (UNAVAILABLE_MESSAGES.some((re) => re.test(message))) return true;
  }
  return false;
}

// FerretDB v1 (SQLite backend) answers a unique violation in an *update* with
// InternalError (code 1) and SQLite's own message instead of E11000, so messages count too.
const UNIQUE_MESSAGES = /E11000 duplicate key|UNIQUE constraint failed/;

/** Whether `error` is a unique-index violation (the email index, for users). */
export function isUniqueViolation(error: unknown): boolean {
  for (const e of chain(error)) {
    if (e instanceof UniqueConstraintViolationException) return true;
    if (e.code === "23505" || e.code === 11000 || e.code === "SQLITE_CONSTRAINT_UNIQUE")
      return true;
    if (typeof e.message === "string" && UNIQUE_MESSAGES.test(e.message)) return true;
  }
  return false;
}

/** Rethrows `error` as a Tessera error when it is one Tessera knows; as is otherwise. */
export function translate(error: unknown, onUnique?: () => Error): never {
  if (onUnique && isUniqueViolation(error)) throw onUnique();
  if (isUnavailable(error)) {
    throw new ServiceUnavailableError("The database is unavailable", { cause: error });
  }
  throw error;
}

/** Runs `op`, translating its errors (see {@link translate}). */
export async function guard<T>(op: () => Promise<T>, uniqueIsUserExists = false): Promise<T> {
  try {
    return await op();
  } catch (error) {
    return translate(error, uniqueIsUserExists ? () => new UserAlreadyExistsError() : undefined);
  }
}
