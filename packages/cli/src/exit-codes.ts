/**
 * The exit codes of `tessera`, which scripts may rely on.
 *
 * | code | meaning                                                                       |
 * | ---- | ----------------------------------------------------------------------------- |
 * | 0    | done (also: nothing to do)                                                    |
 * | 1    | the operation failed: user not found, email taken, password refused, bad file |
 * | 2    | usage error: unknown command or option, missing argument, no database named   |
 * | 3    | cannot connect: the database, MongoDB or Redis is down or unreachable         |
 */
export const ExitCode = {
  /** Done, or nothing to do. */
  OK: 0,
  /** The operation failed (user not found, email taken, password refused, unreadable file). */
  FAILED: 1,
  /** Usage error: unknown command or option, missing or malformed argument, no connection configured. */
  USAGE: 2,
  /** A server could not be reached: the database, MongoDB or Redis. */
  UNAVAILABLE: 3,
} as const;

/** One of {@link ExitCode}'s values. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** The help text's table of exit codes, shown by `tessera --help`. */
export const EXIT_CODES_HELP = `Exit codes:
  0  done (or nothing to do)
  1  the operation failed (user not found, email taken, password refused, bad file)
  2  usage error (unknown command or option, missing argument, no database configured)
  3  cannot connect (database, MongoDB or Redis down or unreachable)`;

/**
 * An error the CLI reports in one line on stderr and exits with `code`. Throw it from a
 * config module's `connect` to choose the exit code yourself.
 */
export class CliError extends Error {
  override name = "CliError";
  /** The process's exit code. */
  readonly code: ExitCodeValue;

  constructor(code: ExitCodeValue, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  // Tessera's ServiceUnavailableError.
  "SERVICE_UNAVAILABLE",
]);

const NETWORK_NAMES = new Set([
  "ServiceUnavailableError",
  "MongoServerSelectionError",
  "MongoNetworkError",
  "MongoNetworkTimeoutError",
  "MongoTopologyClosedError",
  "ConnectionException",
  "MaxRetriesPerRequestError",
]);

/**
 * True when `error` says a server could not be reached (exit code 3) rather than that an
 * operation failed: a socket error code (ECONNREFUSED…), a driver's connection error, or
 * Tessera's `ServiceUnavailableError`, looked for through `cause` and `errors`.
 */
export function isConnectionError(error: unknown, depth = 0): boolean {
  if (depth > 5 || error === null || typeof error !== "object") return false;
  const { code, name, message, cause, errors } = error as {
    code?: unknown;
    name?: unknown;
    message?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  if (typeof code === "string" && NETWORK_CODES.has(code)) return true;
  if (typeof name === "string" && NETWORK_NAMES.has(name)) return true;
  if (
    typeof message === "string" &&
    /\b(ECONNREFUSED|Connection is closed|connect ETIMEDOUT)\b/.test(message)
  ) {
    return true;
  }
  if (Array.isArray(errors) && errors.some((e) => isConnectionError(e, depth + 1))) return true;
  return isConnectionError(cause, depth + 1);
}

/** The exit code and the one-line message for an error thrown by a command. */
export function describeError(error: unknown): { code: ExitCodeValue; message: string } {
  if (error instanceof CliError) return { code: error.code, message: error.message };
  const message = messageOf(error);
  if (isConnectionError(error))
    return { code: ExitCode.UNAVAILABLE, message: `cannot connect: ${message}` };
  return { code: ExitCode.FAILED, message };
}

function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0 && !error.message) {
    return error.errors.map(messageOf).join("; ");
  }
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
