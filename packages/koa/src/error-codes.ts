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
   * `/request-verify-token`, `/reset-password`, an OAuth callback, a route taking a second-factor
   * code or a passkey login. A throttled login answers 429 with
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
  /**
   * 400 at `POST {prefix}/login` (MFA configured): the password is right and the user has a
   * second factor; no session yet. The body also carries `mfa_token` (and `expires_at`):
   * complete the login at `POST {prefix}/login/mfa`.
   */
  LOGIN_MFA_REQUIRED: "LOGIN_MFA_REQUIRED",
  /**
   * 400 at `POST {prefix}/login`: the password is right but the `requireFor` policy needs a
   * second factor the user lacks. The body carries an enrolment `mfa_token` for
   * `POST {prefix}/login/mfa/enrol` and `…/enrol/confirm`, whose confirmation logs in.
   */
  LOGIN_MFA_ENROLMENT_REQUIRED: "LOGIN_MFA_ENROLMENT_REQUIRED",
  /** 400: the TOTP or recovery code is wrong, malformed, out of its ±1 step window, or replayed. */
  MFA_CODE_INVALID: "MFA_CODE_INVALID",
  /** 400: the `mfa_token` is malformed, forged, another backend's or purpose's, or its user is gone or inactive. */
  MFA_TOKEN_INVALID: "MFA_TOKEN_INVALID",
  /** 400: the `mfa_token` expired (5 minutes by default): log in again. */
  MFA_TOKEN_EXPIRED: "MFA_TOKEN_EXPIRED",
  /** 400: the `mfa_token` was used, or died after too many wrong codes: log in again. */
  MFA_TOKEN_USED: "MFA_TOKEN_USED",
  /** 400: the user has no confirmed TOTP factor (disable, regenerate recovery codes). */
  MFA_NOT_ENABLED: "MFA_NOT_ENABLED",
  /** 400: the user has a confirmed TOTP factor already (disable it before enrolling again). */
  MFA_ALREADY_ENABLED: "MFA_ALREADY_ENABLED",
  /** 400: a confirmation without a pending enrolment (enrol first). */
  MFA_NOT_ENROLLING: "MFA_NOT_ENROLLING",
  /** 400: disabling TOTP with a wrong password. */
  MFA_INVALID_PASSWORD: "MFA_INVALID_PASSWORD",
  /** 400: the passkey challenge is unknown, expired, used, or of another purpose or user. */
  PASSKEY_INVALID_CHALLENGE: "PASSKEY_INVALID_CHALLENGE",
  /** 400: the WebAuthn response did not verify (origin, RP ID, challenge, flags, signature, shape). */
  PASSKEY_VERIFICATION_FAILED: "PASSKEY_VERIFICATION_FAILED",
  /** 400 at a passkey login: no passkey with this credential id (deleted, or never registered). */
  PASSKEY_UNKNOWN_CREDENTIAL: "PASSKEY_UNKNOWN_CREDENTIAL",
  /** 400 at a passkey login: the response's user handle is not the credential owner's. */
  PASSKEY_USER_HANDLE_MISMATCH: "PASSKEY_USER_HANDLE_MISMATCH",
  /** 400 at a passkey login: the signature counter did not increase (a cloned authenticator). */
  PASSKEY_COUNTER_NOT_INCREASED: "PASSKEY_COUNTER_NOT_INCREASED",
  /** 400 at a passkey registration: this credential is registered already. */
  PASSKEY_ALREADY_REGISTERED: "PASSKEY_ALREADY_REGISTERED",
  /** 503: the database or Redis is unreachable; retry later. */
  SERVICE_UNAVAILABLE: "SERVICE_UNAVAILABLE",
  /** 500: a bug; details are logged, never sent. */
  INTERNAL_SERVER_ERROR: "INTERNAL_SERVER_ERROR",
} as const;

/** Union of every {@link HttpErrorCode} value. */
export type HttpErrorCodeValue = (typeof HttpErrorCode)[keyof typeof HttpErrorCode];
