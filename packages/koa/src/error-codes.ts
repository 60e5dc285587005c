/**
 * Error codes in HTTP bodies, the same strings as FastAPI Users' `ErrorCode` so its
 * front-ends work unchanged, plus Tessera's own for transport-level failures.
 */
export const HttpErrorCode = {
  REGISTER_INVALID_PASSWORD: "REGISTER_INVALID_PASSWORD",
  REGISTER_USER_ALREADY_EXISTS: "REGISTER_USER_ALREADY_EXISTS",
  LOGIN_BAD_CREDENTIALS: "LOGIN_BAD_CREDENTIALS",
  LOGIN_USER_NOT_VERIFIED: "LOGIN_USER_NOT_VERIFIED",
  RESET_PASSWORD_BAD_TOKEN: "RESET_PASSWORD_BAD_TOKEN",
  RESET_PASSWORD_INVALID_PASSWORD: "RESET_PASSWORD_INVALID_PASSWORD",
  VERIFY_USER_BAD_TOKEN: "VERIFY_USER_BAD_TOKEN",
  VERIFY_USER_ALREADY_VERIFIED: "VERIFY_USER_ALREADY_VERIFIED",
  UPDATE_USER_EMAIL_ALREADY_EXISTS: "UPDATE_USER_EMAIL_ALREADY_EXISTS",
  UPDATE_USER_INVALID_PASSWORD: "UPDATE_USER_INVALID_PASSWORD",
  /**
   * 400: `PATCH /users/me` changes the password or the email without the right
   * `current_password` (missing or wrong).
   */
  UPDATE_USER_INVALID_CURRENT_PASSWORD: "UPDATE_USER_INVALID_CURRENT_PASSWORD",
  /** 501: the backend's strategy cannot revoke its tokens (a JWT without a revocation store). */
  LOGOUT_ALL_NOT_SUPPORTED: "LOGOUT_ALL_NOT_SUPPORTED",
  /** 403: a cookie-authenticated state change (or a cookie login) that is not same-origin. */
  CSRF_FAILED: "CSRF_FAILED",
  /**
   * 429 (with `Retry-After`): too many attempts at `/register`, `/forgot-password`,
   * `/request-verify-token`, `/reset-password` or an OAuth callback. A throttled login answers 429 with
   * `LOGIN_BAD_CREDENTIALS`, the body of a failed one.
   */
  TOO_MANY_REQUESTS: "TOO_MANY_REQUESTS",
  /** 413: the body exceeds the configured limit. */
  REQUEST_BODY_TOO_LARGE: "REQUEST_BODY_TOO_LARGE",
  /** 413: session data or claims larger than the store's limit (`ctx.state.session`). */
  SESSION_DATA_TOO_LARGE: "SESSION_DATA_TOO_LARGE",
  /** 422: session data or claims that are not a JSON object. */
  INVALID_SESSION_DATA: "INVALID_SESSION_DATA",
  /**
   * 501: the backend's strategy cannot do this with sessions (server-side data on a JWT
   * backend): a server configuration, not the client's mistake; the log names what to set.
   */
  SESSION_NOT_SUPPORTED: "SESSION_NOT_SUPPORTED",
  /**
   * 401 at `POST {prefix}/refresh`: the refresh token is unknown, malformed, expired or
   * revoked, or its user is gone or inactive. Log in again.
   */
  REFRESH_TOKEN_INVALID: "REFRESH_TOKEN_INVALID",
  /**
   * 401 at `POST {prefix}/refresh`: the refresh token had already been rotated and its
   * child used: it was copied, and its session has been ended (theft detection).
   */
  REFRESH_TOKEN_REUSED: "REFRESH_TOKEN_REUSED",
  /**
   * 400 at an OAuth callback (FastAPI Users' code): the `state` cannot be trusted — no state
   * cookie, a tampered or expired one, a state of another browser, provider or user, or one
   * used already.
   */
  OAUTH_INVALID_STATE: "OAUTH_INVALID_STATE",
  /** 400 at an OAuth callback (FastAPI Users' code): the provider gave no email. */
  OAUTH_NOT_AVAILABLE_EMAIL: "OAUTH_NOT_AVAILABLE_EMAIL",
  /**
   * 400 at an OAuth login callback (FastAPI Users' code): a user has the provider account's
   * email and it may not be associated (`associateByEmail` off, or the email unverified).
   */
  OAUTH_USER_ALREADY_EXISTS: "OAUTH_USER_ALREADY_EXISTS",
  /**
   * 400 at an OAuth login callback: a first login with an email the provider does not say
   * is verified creates no user (`createUserFromUnverifiedEmail`; account pre-hijacking).
   */
  OAUTH_EMAIL_NOT_VERIFIED: "OAUTH_EMAIL_NOT_VERIFIED",
  /** 400 at an OAuth associate callback: the provider account is linked to another user. */
  OAUTH_ACCOUNT_ALREADY_LINKED: "OAUTH_ACCOUNT_ALREADY_LINKED",
  /** 400 at an OAuth callback: the user cancelled at the provider (`error=access_denied`). */
  OAUTH_ACCESS_DENIED: "OAUTH_ACCESS_DENIED",
  /** 400 at an OAuth callback: the provider answered another OAuth error (`invalid_grant`…). */
  OAUTH_PROVIDER_ERROR: "OAUTH_PROVIDER_ERROR",
  /**
   * 400 at an OAuth callback: the provider's answer failed validation (ID token signature,
   * issuer, audience, nonce, expiry).
   */
  OAUTH_INVALID_RESPONSE: "OAUTH_INVALID_RESPONSE",
  /** 400 at an OAuth `/authorize`: a `scopes` value that is no RFC 6749 scope token, or too many. */
  OAUTH_INVALID_SCOPE: "OAUTH_INVALID_SCOPE",
  /**
   * 503 (with `Retry-After`) at an OAuth route: the provider cannot be reached, timed out, or
   * answered garbage or a 5xx.
   */
  OAUTH_PROVIDER_UNAVAILABLE: "OAUTH_PROVIDER_UNAVAILABLE",
  /** 503: the database or Redis is unreachable; retry later. */
  SERVICE_UNAVAILABLE: "SERVICE_UNAVAILABLE",
  /** 500: a bug; details are logged, never sent. */
  INTERNAL_SERVER_ERROR: "INTERNAL_SERVER_ERROR",
} as const;

/** Union of every {@link HttpErrorCode} value. */
export type HttpErrorCodeValue = (typeof HttpErrorCode)[keyof typeof HttpErrorCode];
