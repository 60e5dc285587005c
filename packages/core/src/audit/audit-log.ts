import type { AuditEvent, AuditEventContext, AuditEventInit, AuditSink } from "./events.js";

/** Options of {@link AuditLog}. */
export interface AuditLogOptions {
  /**
   * What is known of the request from the `context` an event is emitted with (the HTTP
   * layer reads the client address, user agent, method and path of its context). The
   * event's own fields win over these.
   */
  describe?: (context: unknown) => Partial<AuditEventContext> | undefined;
  /**
   * Where a sink's failure goes (a throw, a rejected promise), with the event's context.
   * @default `console.error`
   */
  onError?: (error: unknown, context: unknown) => void;
  /** The clock of `timestamp`. @default `() => new Date()` */
  now?: () => Date;
}

const CONTEXT_KEYS: readonly (keyof AuditEventContext)[] = [
  "userId",
  "email",
  "ip",
  "userAgent",
  "method",
  "route",
  "operation",
  "backend",
];

// Bounds of the free-text fields a client chooses: a log line stays a line of bounded size.
const MAX_LENGTH: Partial<Record<string, number>> = {
  email: 320,
  userAgent: 512,
  route: 1024,
  origin: 512,
  fetchSite: 64,
};
const DEFAULT_MAX_LENGTH = 256;
const PRINTABLE_ASCII = /^[ -~]*$/;
// C0, DEL, C1, and the line and paragraph separators.
function isControl(code: number): boolean {
  return code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029;
}

/**
 * Tessera's audit stream: builds each {@link AuditEvent} (timestamp in UTC, the request's
 * context, bounded strings with control characters escaped) and hands it to the app's
 * {@link AuditSink}, fire-and-forget. `@tessera/koa`'s `Tessera` makes one from its
 * `onAuditEvent` option and attaches it to every request's user manager; a script gives
 * `onAuditEvent` to its `UserManager`.
 *
 * @example
 * const audit = new AuditLog((event) => logger.warn({ event: "audit", ...event }));
 * audit.emit({ type: "token_refused", reason: "token_invalid" });
 */
export class AuditLog {
  private readonly sink: AuditSink;
  private readonly describe: AuditLogOptions["describe"];
  private readonly onError: NonNullable<AuditLogOptions["onError"]>;
  private readonly now: () => Date;

  constructor(sink: AuditSink, options: AuditLogOptions = {}) {
    if (typeof sink !== "function") throw new TypeError("onAuditEvent must be a function");
    this.sink = sink;
    this.describe = options.describe;
    this.onError =
      options.onError ?? ((error) => console.error("tessera: the audit sink failed:", error));
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Emits one event: never throws, never waits. The sink runs now (events keep their
   * order); a promise it returns is not awaited, and its rejection, like a throw, goes to
   * `onError`.
   */
  emit(init: AuditEventInit, context?: unknown): void {
    let event: AuditEvent;
    try {
      event = this.build(init, context);
    } catch (error) {
      this.report(error, context);
      return;
    }
    try {
      const result = this.sink(event, context);
      if (result && typeof (result as PromiseLike<void>).then === "function") {
        (result as PromiseLike<void>).then(undefined, (error: unknown) =>
          this.report(error, context),
        );
      }
    } catch (error) {
      this.report(error, context);
    }
  }

  private build(init: AuditEventInit, context: unknown): AuditEvent {
    const described = context === undefined ? undefined : this.describe?.(context);
    const event: Record<string, unknown> = {
      type: init.type,
      timestamp: this.now().toISOString(),
      reason: init.reason,
    };
    for (const key of CONTEXT_KEYS) {
      const own = (init as Partial<AuditEventContext>)[key];
      event[key] = own !== undefined ? own : (described?.[key] ?? null);
    }
    for (const [key, value] of Object.entries(init)) {
      if (!(key in event)) event[key] = value;
    }
    for (const [key, value] of Object.entries(event)) {
      if (typeof value === "string") event[key] = clean(value, MAX_LENGTH[key]);
      else if (value !== null && typeof value === "object" && !Array.isArray(value)) {
        // A nested detail (a security event): its strings too (a passkey's name is the user's).
        event[key] = Object.fromEntries(
          Object.entries(value).map(([k, v]) => [k, typeof v === "string" ? clean(v) : v]),
        );
      }
    }
    return event as unknown as AuditEvent;
  }

  private report(error: unknown, context: unknown): void {
    try {
      this.onError(error, context);
    } catch {
      // Nothing more can be done: an audit failure must never fail the request.
    }
  }
}

/**
 * A client-chosen string, cut to its bound, its control characters (C0, DEL, C1, the line
 * and paragraph separators) written as `\uXXXX`: no value can start a new line in a text
 * log (ASVS 5.0 16.4.1). JSON loggers encode anyway; this holds for any sink.
 */
function clean(value: string, max = DEFAULT_MAX_LENGTH): string {
  const cut = value.length > max ? `${value.slice(0, max)}…` : value;
  if (PRINTABLE_ASCII.test(cut)) return cut;
  let out = "";
  for (const c of cut) {
    const code = c.charCodeAt(0);
    out += isControl(code) ? `\\u${code.toString(16).padStart(4, "0")}` : c;
  }
  return out;
}
