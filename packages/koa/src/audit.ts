import {
  type AuditEvent,
  type AuditEventInit,
  AuditLog,
  type AuditLoginMethod,
  ForbiddenError,
  normalizeEmail,
  type SessionDevice,
  UnauthorizedError,
} from "@tessera/core";
import type { Context } from "koa";
import { HttpErrorCode } from "./error-codes.js";
import { HttpError } from "./http-error.js";

/**
 * The app's audit sink under Koa (`TesseraOptions.onAuditEvent`): the event, and the Koa
 * context of the request that caused it (undefined for an event of a script). Not awaited;
 * a throw or a rejection goes to the app's `error` event and never fails the request.
 */
export type KoaAuditSink = (
  event: AuditEvent,
  ctx: Context | undefined,
) => void | PromiseLike<void>;

// What a Tessera route bound to its context: the instance's stream and the operation.
const bound = new WeakMap<object, { log: AuditLog; operation: string }>();
// Who a request is about before `ctx.state` says it (a CSRF check runs before it is set).
const subjects = new WeakMap<object, AuditSubject>();

/** Who and which backend an audit event of this request is about, when known. */
export interface AuditSubject {
  user?: { id: unknown; email: string } | null;
  backend?: string;
}

/** Records who the request is about (the authenticated user, the backend checked). */
export function setAuditSubject(ctx: Context, subject: AuditSubject): void {
  subjects.set(ctx, subject);
}

function isKoaContext(value: unknown): value is Context {
  return (
    typeof value === "object" &&
    value !== null &&
    "req" in value &&
    "app" in value &&
    typeof (value as { path?: unknown }).path === "string"
  );
}

/**
 * The stream of a `Tessera` instance: each event gets the request's address (as the rate
 * limiter resolves it), user agent, method, path, operation, and the user and backend that
 * authenticated it when known; a failing sink is reported on the app's `error` event.
 */
export function koaAuditLog(sink: KoaAuditSink, device: (ctx: Context) => SessionDevice): AuditLog {
  return new AuditLog(
    (event, context) => sink(event, isKoaContext(context) ? context : undefined),
    {
      describe(context) {
        if (!isKoaContext(context)) return undefined;
        const { ipAddress, userAgent } = device(context);
        const state = context.state as
          | {
              user?: { id?: unknown; email?: unknown } | null;
              auth?: { backend?: { name?: string } };
            }
          | undefined;
        const subject = subjects.get(context);
        const user = state?.user ?? subject?.user;
        return {
          ip: ipAddress,
          userAgent,
          method: context.method,
          route: context.path,
          operation: bound.get(context)?.operation ?? null,
          backend: state?.auth?.backend?.name ?? subject?.backend ?? null,
          ...(user && user.id !== undefined ? { userId: String(user.id) } : {}),
          ...(user && typeof user.email === "string" ? { email: user.email } : {}),
        };
      },
      onError(error, context) {
        if (isKoaContext(context)) context.app.emit("error", error, context);
        else console.error("tessera: the audit sink failed:", error);
      },
    },
  );
}

/** Binds the instance's stream and the route's operation id to `ctx` (a Tessera route). */
export function bindAudit(ctx: Context, log: AuditLog, operation: string): void {
  bound.set(ctx, { log, operation });
}

/** Emits `init` on the stream bound to `ctx`, if any (nothing when no sink is configured). */
export function emitAudit(ctx: Context, init: AuditEventInit): void {
  bound.get(ctx)?.log.emit(init, ctx);
}

/** How the login route at `path` authenticates: its last segments say it. */
export function loginMethodOf(path: string): AuditLoginMethod {
  const p = path.replace(/\/+$/, "").toLowerCase();
  if (p.endsWith("/login/mfa/enrol/confirm")) return "mfa_enrolment";
  if (p.endsWith("/login/mfa")) return "mfa";
  if (p.endsWith("/passkey/login")) return "passkey";
  if (p.endsWith("/login")) return "password";
  return "oauth";
}

const LOGIN_CODES = new Set<string>([
  HttpErrorCode.LOGIN_BAD_CREDENTIALS,
  HttpErrorCode.LOGIN_USER_NOT_VERIFIED,
  HttpErrorCode.MFA_CODE_INVALID,
  HttpErrorCode.MFA_TOKEN_INVALID,
  HttpErrorCode.MFA_TOKEN_EXPIRED,
  HttpErrorCode.MFA_TOKEN_USED,
  HttpErrorCode.PASSKEY_INVALID_CHALLENGE,
  HttpErrorCode.PASSKEY_VERIFICATION_FAILED,
  HttpErrorCode.PASSKEY_UNKNOWN_CREDENTIAL,
  HttpErrorCode.PASSKEY_USER_HANDLE_MISMATCH,
  HttpErrorCode.PASSKEY_COUNTER_NOT_INCREASED,
  HttpErrorCode.OAUTH_INVALID_STATE,
  HttpErrorCode.OAUTH_INVALID_RESPONSE,
  HttpErrorCode.OAUTH_USER_ALREADY_EXISTS,
  HttpErrorCode.OAUTH_EMAIL_NOT_VERIFIED,
  HttpErrorCode.OAUTH_ACCOUNT_ALREADY_LINKED,
]);

const REAUTHENTICATION_CODES: Record<
  string,
  "invalid_current_password" | "mfa_invalid_password" | "mfa_code_invalid"
> = {
  [HttpErrorCode.UPDATE_USER_INVALID_CURRENT_PASSWORD]: "invalid_current_password",
  [HttpErrorCode.MFA_INVALID_PASSWORD]: "mfa_invalid_password",
  [HttpErrorCode.MFA_CODE_INVALID]: "mfa_code_invalid",
};

/** What a route's refusal is, for the audit stream. */
export interface RouteRefusal {
  /** Whether the route needs a signed-in user (its refusals are no login failures). */
  signedIn: boolean;
  /** The route's path below its prefix (`/login/mfa`). */
  path: string;
  /** The backend the route belongs to, if one. */
  backend: string | undefined;
  /** The request body as validated, if the route has one (a login's `username`). */
  body: unknown;
  /** A finer reason given by the handler (`user_inactive` for a login). */
  reason?: string | undefined;
}

/**
 * Audits a route's refusal, by the answer's wire code: failed logins (password, second
 * factor, passkey, OAuth callback), a refused refresh token, a failed re-authentication.
 * Answers already audited where they arise (401/403 of authentication, CSRF, 429) and
 * everything else are not events.
 */
export function auditRefusal(ctx: Context, answer: unknown, refusal: RouteRefusal): void {
  const entry = bound.get(ctx);
  if (!entry || !(answer instanceof HttpError) || answer.status === 429) return;
  const code = answer.code;
  if (code === undefined) return;
  const backend = refusal.backend === undefined ? {} : { backend: refusal.backend };
  if (!refusal.signedIn && LOGIN_CODES.has(code)) {
    const username = (refusal.body as { username?: unknown } | undefined)?.username;
    entry.log.emit(
      {
        type: "login_failed",
        reason: (refusal.reason ?? loginReason(code)) as never,
        authMethod: loginMethodOf(refusal.path),
        ...(typeof username === "string" ? { email: normalizeEmail(username) } : {}),
        ...backend,
      },
      ctx,
    );
  } else if (refusal.signedIn && code in REAUTHENTICATION_CODES) {
    entry.log.emit(
      {
        type: "reauthentication_failed",
        reason: REAUTHENTICATION_CODES[code] as never,
        ...backend,
      },
      ctx,
    );
  } else if (code === HttpErrorCode.REFRESH_TOKEN_INVALID) {
    entry.log.emit({ type: "token_refused", reason: "refresh_token_invalid", ...backend }, ctx);
  }
}

function loginReason(code: string): string {
  if (code === HttpErrorCode.LOGIN_BAD_CREDENTIALS) return "bad_credentials";
  if (code === HttpErrorCode.LOGIN_USER_NOT_VERIFIED) return "user_not_verified";
  return code.toLowerCase();
}

/**
 * Audits an authentication's refusal (`currentUser` and the routers' own): a token that no
 * backend accepted or whose user is inactive (`token_refused`), a requirement the user lacks
 * (`access_denied`). A request without any token is no event.
 */
export function auditAuthentication(log: AuditLog | null, ctx: Context, error: unknown): void {
  if (log === null) return;
  if (error instanceof UnauthorizedError) {
    if (error.reason === undefined || error.reason === "no_token") return;
    log.emit(
      {
        type: "token_refused",
        reason: error.reason,
        ...(error.backend === undefined ? {} : { backend: error.backend }),
        ...(error.userId === undefined ? {} : { userId: error.userId }),
      },
      ctx,
    );
  } else if (error instanceof ForbiddenError && error.reason !== undefined) {
    log.emit(
      {
        type: "access_denied",
        reason: error.reason,
        ...(error.backend === undefined ? {} : { backend: error.backend }),
        ...(error.userId === undefined ? {} : { userId: error.userId }),
      },
      ctx,
    );
  }
}
