import { format } from "node:util";
import type { AuditEvent } from "@tessera/core";
import type { Context } from "koa";
import { type DestinationStream, type Logger as Pino, pino } from "pino";

/**
 * Where the app writes its log lines: pino's JSON lines in the server ({@link createLogger}),
 * a quiet stub in tests. Console's signatures, so either fits; `pino` is the logger itself
 * when there is one (the access log and the audit lines need it).
 */
export type Logger = Pick<Console, "info" | "warn" | "error"> & { readonly pino?: Pino };

/**
 * Headers that carry credentials: never written to the log (ASVS 5.0 16.2.5). The access
 * log's request and response headers pass through these paths.
 */
export const REDACTED_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["x-csrf-token"]',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
];

/**
 * The app's logger: one JSON object per line on stdout (or `destination`), with an ISO 8601
 * UTC `time` and the level by name, credentials' headers redacted. Written synchronously, so
 * nothing is lost when the process exits right after a line.
 *
 * @example
 * const log = createLogger();
 * log.info("koa-app: started");        // {"level":"info","time":"…Z",…,"msg":"koa-app: started"}
 * log.error("request failed:", error); // the error under "err", with its stack
 */
export function createLogger(
  options: { level?: string; destination?: DestinationStream } = {},
): Logger & { readonly pino: Pino } {
  const logger = pino(
    {
      level: options.level ?? process.env.LOG_LEVEL ?? "info",
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: "[Redacted]" },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
  return fromPino(logger);
}

/** Console-style calls onto a pino logger: the message formatted, an Error as `err`. */
export function fromPino(logger: Pino): Logger & { readonly pino: Pino } {
  const write =
    (level: "info" | "warn" | "error") =>
    (...args: unknown[]) => {
      const err = args.find((a) => a instanceof Error);
      const message = format(...args.filter((a) => a !== err)).replace(/:$/, "");
      if (err === undefined) logger[level](message);
      else logger[level]({ err }, message);
    };
  return { pino: logger, info: write("info"), warn: write("warn"), error: write("error") };
}

// Failures and refusals are warnings; successes and ended sessions are information.
const INFO_EVENTS = new Set<AuditEvent["type"]>([
  "login_succeeded",
  "session_revoked",
  "security_change",
]);

/**
 * Tessera's audit sink for this app: each event one JSON line `{"event":"audit",…}` with
 * the event's fields (see docs/audit.md), through the request's logger when there is one,
 * so the line carries the request id of the access log's line (`reqId`). Without pino (a
 * test's stub), the same object as a JSON string.
 */
export function auditSink(log: Logger): (event: AuditEvent, ctx: Context | undefined) => void {
  return (event, ctx) => {
    const level = INFO_EVENTS.has(event.type) ? "info" : "warn";
    if (log.pino) {
      const target = (ctx?.req as { log?: Pino } | undefined)?.log ?? log.pino;
      target[level]({ event: "audit", ...event }, `audit: ${event.type} (${event.reason})`);
    } else {
      log[level](JSON.stringify({ event: "audit", ...event }));
    }
  };
}
