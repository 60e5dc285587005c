/**
 * Every error Tessera raises on purpose carries a stable machine-readable `code`.
 * The HTTP layer (`@tessera/koa`) maps codes to statuses; nothing here knows HTTP.
 */

/** Stable codes of {@link TesseraError}. Never renamed: clients match on them. */
export const ErrorCode = {
  USER_ALREADY_EXISTS: "USER_ALREADY_EXISTS",
  USER_NOT_EXISTS: "USER_NOT_EXISTS",
  USER_INACTIVE: "USER_INACTIVE",
  USER_ALREADY_VERIFIED: "USER_ALREADY_VERIFIED",
  USER_UPDATE_CONFLICT: "USER_UPDATE_CONFLICT",
  INVALID_VERIFY_TOKEN: "INVALID_VERIFY_TOKEN",
  INVALID_RESET_PASSWORD_TOKEN: "INVALID_RESET_PASSWORD_TOKEN",
  INVALID_PASSWORD: "INVALID_PASSWORD",
  INVALID_CURRENT_PASSWORD: "INVALID_CURRENT_PASSWORD",
  INVALID_ID: "INVALID_ID",
  UNAUTHORIZED: "UNAUTHORIZED",
  FORBIDDEN: "FORBIDDEN",
  STRATEGY_DESTROY_NOT_SUPPORTED: "STRATEGY_DESTROY_NOT_SUPPORTED",
  SERVICE_UNAVAILABLE: "SERVICE_UNAVAILABLE",
  CONFIGURATION: "CONFIGURATION",
  SESSION_DATA_TOO_LARGE: "SESSION_DATA_TOO_LARGE",
  INVALID_SESSION_DATA: "INVALID_SESSION_DATA",
  SESSION_NOT_SUPPORTED: "SESSION_NOT_SUPPORTED",
  REFRESH_TOKEN_INVALID: "REFRESH_TOKEN_INVALID",
  REFRESH_TOKEN_REUSED: "REFRESH_TOKEN_REUSED",
  OAUTH_ACCOUNT_ALREADY_LINKED: "OAUTH_ACCOUNT_ALREADY_LINKED",
  OAUTH_NOT_SUPPORTED: "OAUTH_NOT_SUPPORTED",
  PASSKEY_ALREADY_REGISTERED: "PASSKEY_ALREADY_REGISTERED",
  MFA_NOT_SUPPORTED: "MFA_NOT_SUPPORTED",
} as const;

/** Union of every {@link ErrorCode} value. */
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Base class of every Tessera error; `code` is stable, `message` is for humans. */
export class TesseraError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCodeValue;

  constructor(code: ErrorCodeValue, message?: string, options?: { cause?: unknown }) {
    super(message ?? code, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A user with this email already exists (register, or an email change). */
export class UserAlreadyExistsError extends TesseraError {
  constructor() {
    super(ErrorCode.USER_ALREADY_EXISTS, "A user with this email already exists");
  }
}

/** No user matches the id or email. */
export class UserNotExistsError extends TesseraError {
  constructor() {
    super(ErrorCode.USER_NOT_EXISTS, "User does not exist");
  }
}

/** The user is deactivated (`isActive === false`). */
export class UserInactiveError extends TesseraError {
  constructor() {
    super(ErrorCode.USER_INACTIVE, "User is inactive");
  }
}

/** The user is already verified. */
export class UserAlreadyVerifiedError extends TesseraError {
  constructor() {
    super(ErrorCode.USER_ALREADY_VERIFIED, "User is already verified");
  }
}

/**
 * A conditional update found the user changed since it was read (its password hash no
 * longer the expected one): another request won the race, so this one must not apply.
 */
export class UserUpdateConflictError extends TesseraError {
  constructor() {
    super(ErrorCode.USER_UPDATE_CONFLICT, "The user changed since it was read");
  }
}

/** The verification token is malformed, expired, forged or for another user. */
export class InvalidVerifyTokenError extends TesseraError {
  constructor(options?: { cause?: unknown }) {
    super(ErrorCode.INVALID_VERIFY_TOKEN, "Invalid verification token", options);
  }
}

/** The reset token is malformed, expired, forged, already used or for another user. */
export class InvalidResetPasswordTokenError extends TesseraError {
  constructor(options?: { cause?: unknown }) {
    super(ErrorCode.INVALID_RESET_PASSWORD_TOKEN, "Invalid reset password token", options);
  }
}

/** The password was rejected by the password policy; `reason` is shown to the client. */
export class InvalidPasswordError extends TesseraError {
  /** Human-readable reason, safe to show to the client. */
  readonly reason: string;
  /** Stable code of the reason, for clients that translate it. @default "PASSWORD_INVALID" */
  readonly reasonCode: PasswordReasonCode;

  constructor(reason: string, reasonCode: PasswordReasonCode = PasswordReasonCode.INVALID) {
    super(ErrorCode.INVALID_PASSWORD, reason);
    this.reason = reason;
    this.reasonCode = reasonCode;
  }
}

/**
 * Why a password was refused, as a stable code beside the English reason, so a client can
 * show its own translation. An app's own `validatePassword` may use `INVALID` or its own.
 */
export const PasswordReasonCode = {
  /** Not a string (a body that skipped schema validation). */
  NOT_STRING: "PASSWORD_NOT_STRING",
  TOO_SHORT: "PASSWORD_TOO_SHORT",
  TOO_LONG: "PASSWORD_TOO_LONG",
  /** On the bundled common-password list (`rejectCommonPasswords`). */
  TOO_COMMON: "PASSWORD_TOO_COMMON",
  /** On the app's `forbiddenPasswords`. */
  FORBIDDEN: "PASSWORD_FORBIDDEN",
  /** `isBreached` said so. */
  BREACHED: "PASSWORD_BREACHED",
  /** Any other reason (the default of an app's own rule). */
  INVALID: "PASSWORD_INVALID",
} as const;

/** A value of {@link PasswordReasonCode}, or an app's own code. */
export type PasswordReasonCode =
  | (typeof PasswordReasonCode)[keyof typeof PasswordReasonCode]
  | (string & {});

/**
 * Changing the password or the email needs the current password (ASVS 5.0 6.2.3, 7.5.1),
 * and it was missing or wrong.
 */
export class InvalidCurrentPasswordError extends TesseraError {
  constructor() {
    super(ErrorCode.INVALID_CURRENT_PASSWORD, "The current password is missing or wrong");
  }
}

/** A string could not be parsed as a user id. */
export class InvalidIDError extends TesseraError {
  constructor(options?: { cause?: unknown }) {
    super(ErrorCode.INVALID_ID, "Invalid user id", options);
  }
}

/** No authenticated user (or an inactive one where an active one is required). */
export class UnauthorizedError extends TesseraError {
  /**
   * Why, when the {@link Authenticator} refused: `no_token` (no backend's transport carried
   * one), `token_invalid` (no backend accepted it), `user_inactive`. The audit stream reads it.
   */
  readonly reason: "no_token" | "token_invalid" | "user_inactive" | undefined;
  /** The first backend whose transport carried the refused token. */
  readonly backend: string | undefined;
  /** The user whose token it was (`user_inactive`), as a string. */
  readonly userId: string | undefined;

  constructor(
    details: {
      reason?: "no_token" | "token_invalid" | "user_inactive";
      backend?: string;
      userId?: string;
    } = {},
  ) {
    super(ErrorCode.UNAUTHORIZED, "Unauthorized");
    this.reason = details.reason;
    this.backend = details.backend;
    this.userId = details.userId;
  }
}

/** An authenticated user lacks a required property (verified, superuser). */
export class ForbiddenError extends TesseraError {
  /** Which requirement failed, when the {@link Authenticator} refused. */
  readonly reason: "not_verified" | "not_superuser" | undefined;
  /** The backend that authenticated the user. */
  readonly backend: string | undefined;
  /** The refused user's id, as a string. */
  readonly userId: string | undefined;

  constructor(
    details: { reason?: "not_verified" | "not_superuser"; backend?: string; userId?: string } = {},
  ) {
    super(ErrorCode.FORBIDDEN, "Forbidden");
    this.reason = details.reason;
    this.backend = details.backend;
    this.userId = details.userId;
  }
}

/**
 * A strategy cannot destroy tokens (a JWT strategy without a revocation store).
 * The backend catches it: logout still answers with the transport's logout response.
 */
export class StrategyDestroyNotSupportedError extends TesseraError {
  constructor(message = "This strategy cannot destroy tokens") {
    super(ErrorCode.STRATEGY_DESTROY_NOT_SUPPORTED, message);
  }
}

/**
 * A backing service (database, Redis) is unreachable or timed out. Adapters wrap
 * driver connection errors in it so that the HTTP layer answers 503, never 500.
 */
export class ServiceUnavailableError extends TesseraError {
  constructor(message = "A backing service is unavailable", options?: { cause?: unknown }) {
    super(ErrorCode.SERVICE_UNAVAILABLE, message, options);
  }
}

/** Session data or claims larger than their limit (the HTTP layer answers 413). */
export class SessionDataTooLargeError extends TesseraError {
  constructor(what: "data" | "claims", limitBytes: number) {
    super(ErrorCode.SESSION_DATA_TOO_LARGE, `Session ${what} over ${limitBytes} bytes of JSON`);
  }
}

/** Session data or claims that are not a JSON object (the HTTP layer answers 422). */
export class InvalidSessionDataError extends TesseraError {
  constructor(message: string) {
    super(ErrorCode.INVALID_SESSION_DATA, message);
  }
}

/**
 * The strategy cannot do this with sessions (server-side data on a JWT strategy without a
 * store); the message names what to configure.
 */
export class SessionNotSupportedError extends TesseraError {
  constructor(message: string) {
    super(ErrorCode.SESSION_NOT_SUPPORTED, message);
  }
}

/**
 * A refresh token that is unknown, malformed, expired, revoked, or whose user is gone or
 * inactive (`REFRESH_TOKEN_INVALID`, 401 over HTTP).
 */
export class RefreshTokenInvalidError extends TesseraError {
  constructor(message = "The refresh token is invalid, expired or revoked") {
    super(ErrorCode.REFRESH_TOKEN_INVALID, message);
  }
}

/**
 * A refresh token presented after its child had been used: copied, so its session was
 * ended (`REFRESH_TOKEN_REUSED`, 401 over HTTP; SuperTokens' `TOKEN_THEFT_DETECTED`).
 */
export class RefreshTokenReusedError extends TesseraError {
  constructor(message = "The refresh token was already rotated: its session has been ended") {
    super(ErrorCode.REFRESH_TOKEN_REUSED, message);
  }
}

/**
 * The provider account is linked to a user already (the unique `(oauthName, accountId)`
 * index said so): an association cannot move it to another user.
 */
export class OAuthAccountAlreadyLinkedError extends TesseraError {
  constructor(message = "This provider account is linked to a user already") {
    super(ErrorCode.OAUTH_ACCOUNT_ALREADY_LINKED, message);
  }
}

/** The user database keeps no OAuth accounts (it does not implement `OAuthAccountDatabase`). */
export class OAuthNotSupportedError extends TesseraError {
  constructor(message: string) {
    super(ErrorCode.OAUTH_NOT_SUPPORTED, message);
  }
}

/** A passkey whose credential id is registered already (to anyone). */
export class PasskeyAlreadyRegisteredError extends TesseraError {
  constructor(message = "This passkey is registered already") {
    super(ErrorCode.PASSKEY_ALREADY_REGISTERED, message);
  }
}

/** The user database keeps no second factors (it does not implement `MfaDatabase`). */
export class MfaNotSupportedError extends TesseraError {
  constructor(message: string) {
    super(ErrorCode.MFA_NOT_SUPPORTED, message);
  }
}

/** Invalid configuration detected at construction time (weak secret, bad cookie name…). */
export class ConfigurationError extends TesseraError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.CONFIGURATION, message, options);
  }
}

/** True when `error` is a {@link TesseraError} with the given code. */
export function isTesseraError(error: unknown, code?: ErrorCodeValue): error is TesseraError {
  return error instanceof TesseraError && (code === undefined || error.code === code);
}
