import type { SecurityEvent } from "../manager/hooks.js";

/**
 * Where and by whom an audited request was made: what every {@link AuditEvent} carries
 * besides its `type`, `timestamp` and `reason` (ASVS 5.0 16.2.1: when, where, who, what).
 * A field is null when it is not known (an event of a script has no request).
 */
export interface AuditEventContext {
  /** The user's id as a string, when known. */
  userId: string | null;
  /** The user's email (normalized), or the email a failed login was tried with. */
  email: string | null;
  /** The client address, resolved as the rate limiter resolves it (trusted proxies honoured). */
  ip: string | null;
  /** The `User-Agent` header, cut to 512 characters. */
  userAgent: string | null;
  /** The request's HTTP method. */
  method: string | null;
  /** The request's path, without its query string. */
  route: string | null;
  /** The route's OpenAPI operation id (`auth:jwt.login`), when a Tessera router served it. */
  operation: string | null;
  /** The name of the authentication backend involved (`jwt`, `cookie`, …). */
  backend: string | null;
}

/** What every audit event has. `reason` is a stable snake_case code, per `type`. */
export interface AuditEventBase<T extends string, R extends string> extends AuditEventContext {
  type: T;
  /** When it happened: ISO 8601 in UTC, e.g. `2026-12-06T11:48:57.123Z` (ASVS 5.0 16.2.2). */
  timestamp: string;
  reason: R;
}

/** How a user proved who they are. */
export type AuditLoginMethod = "password" | "mfa" | "mfa_enrolment" | "passkey" | "oauth";

/**
 * A session was opened (ASVS 5.0 16.3.1): `reason` is how the user authenticated
 * (`password`, `mfa` after a TOTP or recovery code, `mfa_enrolment` after confirming a first
 * factor at login, `passkey`, `oauth`).
 */
export type LoginSucceededEvent = AuditEventBase<"login_succeeded", AuditLoginMethod>;

/** Why a login was refused. */
export type LoginFailureReason =
  | "bad_credentials"
  | "user_inactive"
  | "user_not_verified"
  | "mfa_code_invalid"
  | "mfa_token_invalid"
  | "mfa_token_expired"
  | "mfa_token_used"
  | "passkey_invalid_challenge"
  | "passkey_verification_failed"
  | "passkey_unknown_credential"
  | "passkey_user_handle_mismatch"
  | "passkey_counter_not_increased"
  | "oauth_invalid_state"
  | "oauth_invalid_response"
  | "oauth_user_already_exists"
  | "oauth_email_not_verified"
  | "oauth_account_already_linked";

/**
 * A login (any step: password, second factor, passkey, OAuth callback) was refused
 * (ASVS 5.0 16.3.1). `authMethod` says which step; `email` is the one tried at a password step
 * (whether an account has it or not); `userId` is set when the account is known.
 * `bad_credentials` covers an unknown email and a wrong password alike.
 */
export interface LoginFailedEvent extends AuditEventBase<"login_failed", LoginFailureReason> {
  authMethod: AuditLoginMethod;
}

/**
 * A rate limit refused an attempt with `429` (ASVS 5.0 16.3.3, anti-automation): `limiter`
 * is the limited route's name (`login`, `register`, `mfa`, …), `scope` the limit that
 * refused it (per account or per client address), `retryAfterSeconds` the answer's
 * `Retry-After`. `email` is the account counted, when it is an email.
 */
export interface RateLimitedEvent extends AuditEventBase<"rate_limited", "too_many_attempts"> {
  limiter: string;
  scope: "account" | "client";
  retryAfterSeconds: number;
}

/** Why a CSRF check refused a request. */
export type CsrfRefusalReason = "cross_site" | "untrusted_origin" | "csrf_token_invalid";

/**
 * A state-changing request authenticated by a cookie (or a cookie login) failed the CSRF
 * check with `403 CSRF_FAILED` (ASVS 5.0 16.3.3): `cross_site` (`Sec-Fetch-Site` said
 * another site, and `Origin` is not trusted), `untrusted_origin` (an `Origin` of another
 * host, without Fetch metadata), `csrf_token_invalid` (no Fetch metadata nor `Origin`, and
 * no valid double-submit token). `origin` and `fetchSite` are the headers as sent (cut).
 */
export interface CsrfRefusedEvent extends AuditEventBase<"csrf_refused", CsrfRefusalReason> {
  origin: string | null;
  fetchSite: string | null;
}

/** Why a presented token was refused. */
export type TokenRefusalReason = "token_invalid" | "user_inactive" | "refresh_token_invalid";

/**
 * A request carried a token that no backend accepted, answered `401` (ASVS 5.0 16.3.1,
 * 16.3.2): `token_invalid` (unknown, expired, revoked, forged or malformed; `backend` is the
 * first backend whose transport carried it), `user_inactive` (a valid token of a deactivated
 * user), `refresh_token_invalid` (at `POST /refresh`). A request that carried no token at
 * all is no event. Routes where authentication is optional refuse nothing and log nothing.
 */
export type TokenRefusedEvent = AuditEventBase<"token_refused", TokenRefusalReason>;

/**
 * An authenticated user was refused a route with `403` for lacking a requirement
 * (ASVS 5.0 16.3.2): `not_verified` or `not_superuser`.
 */
export type AccessDeniedEvent = AuditEventBase<"access_denied", "not_verified" | "not_superuser">;

/**
 * A rotated refresh token was presented again: it was copied, and its session was ended
 * (`REFRESH_TOKEN_REUSED`; the user manager's `onTokenTheftDetected` runs too). `sessionId`
 * is the ended session's public handle (as `GET /users/me/sessions` shows it).
 */
export interface TokenTheftEvent extends AuditEventBase<"token_theft", "refresh_token_reused"> {
  sessionId: string | null;
}

/** Why sessions ended. */
export type SessionRevocationReason =
  | "logout"
  | "logout_all"
  | "session_ended"
  | "session_ended_by_superuser"
  | "password_changed"
  | "password_reset"
  | "user_deactivated"
  | "user_deleted"
  | "factor_changed";

/**
 * Sessions of a user were ended (ASVS 5.0 16.3.1): by a logout (`scope: "current"`), a
 * log-out-everywhere (`all`), the user or a superuser ending one listed session (`one`,
 * with `sessionId`), or by a change that ends sessions in every backend: a password change
 * (`others` when the user changed it from a session that stays, else `all`), a reset, a
 * deactivation, a deletion, a second-factor change. For these the strategies were told to
 * end them; a JWT strategy without a revocation store cannot, and its tokens live to `exp`.
 */
export interface SessionRevokedEvent
  extends AuditEventBase<"session_revoked", SessionRevocationReason> {
  scope: "current" | "one" | "others" | "all";
  sessionId: string | null;
}

/**
 * A signed-in user failed to prove it is still them (ASVS 5.0 16.3.1): a wrong or missing
 * current password at `PATCH /users/me` (`invalid_current_password`), a wrong password or
 * code managing the second factor (`mfa_invalid_password`, `mfa_code_invalid`).
 */
export type ReauthenticationFailedEvent = AuditEventBase<
  "reauthentication_failed",
  "invalid_current_password" | "mfa_invalid_password" | "mfa_code_invalid"
>;

/**
 * A second factor or passkey changed or was used (what the user manager's `onSecurityEvent`
 * hook hears): `reason` is the {@link SecurityEvent}'s `type` and `detail` the event itself
 * (ids and counts, never a secret or a code).
 */
export interface SecurityChangeEvent
  extends AuditEventBase<"security_change", SecurityEvent["type"]> {
  detail: SecurityEvent;
}

/**
 * One audit event: what Tessera tells the app's `onAuditEvent` sink, one variant per
 * `type`. Never a password, a token, a token's digest, a TOTP or recovery code. See
 * `docs/audit.md` for when each fires.
 */
export type AuditEvent =
  | LoginSucceededEvent
  | LoginFailedEvent
  | RateLimitedEvent
  | CsrfRefusedEvent
  | TokenRefusedEvent
  | AccessDeniedEvent
  | TokenTheftEvent
  | SessionRevokedEvent
  | ReauthenticationFailedEvent
  | SecurityChangeEvent;

/** The `type` of an {@link AuditEvent}. */
export type AuditEventType = AuditEvent["type"];

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * An event as code emits it: its `type`, `reason` and own fields, and whatever of
 * {@link AuditEventContext} it knows; the {@link AuditLog} adds the timestamp and the
 * request's context.
 */
export type AuditEventInit = DistributiveOmit<AuditEvent, "timestamp" | keyof AuditEventContext> &
  Partial<AuditEventContext>;

/**
 * The app's audit sink: called once per event, synchronously, in the request that caused
 * it; `context` is what the HTTP layer passes (the Koa context), undefined from a script.
 * It is not awaited: a returned promise that rejects, or a sink that throws, is reported
 * (the Koa app's `error` event) and never fails nor delays the request.
 */
export type AuditSink = (event: AuditEvent, context?: unknown) => void | PromiseLike<void>;
