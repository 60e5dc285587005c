/**
 * Typed errors of passkey registration and login. Each carries a stable `code` the HTTP
 * layer maps to a status (all of them 400: the request is refused, the server is fine).
 * A credential id registered already is core's `PasskeyAlreadyRegisteredError`.
 */

/** Stable codes of {@link PasskeyError}. Never renamed: clients match on them. */
export const PasskeyErrorCode = {
  /** The challenge is unknown, expired, used once already, or of another purpose or user. */
  PASSKEY_INVALID_CHALLENGE: "PASSKEY_INVALID_CHALLENGE",
  /** The response failed WebAuthn verification (origin, RP ID, challenge, flags, signature, shape). */
  PASSKEY_VERIFICATION_FAILED: "PASSKEY_VERIFICATION_FAILED",
  /** No passkey with the response's credential id is registered. */
  PASSKEY_UNKNOWN_CREDENTIAL: "PASSKEY_UNKNOWN_CREDENTIAL",
  /** The response's user handle is missing or is not the handle of the credential's owner. */
  PASSKEY_USER_HANDLE_MISMATCH: "PASSKEY_USER_HANDLE_MISMATCH",
  /** The signature counter did not increase: a cloned authenticator, or a lost race. */
  PASSKEY_COUNTER_NOT_INCREASED: "PASSKEY_COUNTER_NOT_INCREASED",
} as const;

/** Union of every {@link PasskeyErrorCode} value. */
export type PasskeyErrorCodeValue = (typeof PasskeyErrorCode)[keyof typeof PasskeyErrorCode];

/** Base class of the passkey errors; `code` is stable, `message` is for logs, not clients. */
export class PasskeyError extends Error {
  /** Stable machine-readable code. */
  readonly code: PasskeyErrorCodeValue;

  constructor(code: PasskeyErrorCodeValue, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * The challenge id is unknown, expired, used already (challenges are single-use even when
 * the attempt fails), or was issued for another purpose or another user (ASVS 5.0 6.7.2).
 */
export class PasskeyChallengeError extends PasskeyError {
  constructor(message = "Invalid or expired passkey challenge") {
    super(PasskeyErrorCode.PASSKEY_INVALID_CHALLENGE, message);
  }
}

/**
 * The WebAuthn response did not verify: another origin or RP ID (a phishing site), another
 * challenge, user presence or verification missing, a bad signature or a malformed response
 * (ASVS 5.0 6.3.7). `cause` holds the library's reason, for logs.
 */
export class PasskeyVerificationError extends PasskeyError {
  constructor(message = "Passkey verification failed", options?: { cause?: unknown }) {
    super(PasskeyErrorCode.PASSKEY_VERIFICATION_FAILED, message, options);
  }
}

/** No passkey with this credential id is registered (deleted, or never registered here). */
export class PasskeyUnknownCredentialError extends PasskeyError {
  constructor(message = "Unknown passkey") {
    super(PasskeyErrorCode.PASSKEY_UNKNOWN_CREDENTIAL, message);
  }
}

/** The assertion's user handle is absent or is not the one of the credential's owner. */
export class PasskeyUserHandleMismatchError extends PasskeyError {
  constructor(message = "The passkey's user handle does not match its owner") {
    super(PasskeyErrorCode.PASSKEY_USER_HANDLE_MISMATCH, message);
  }
}

/**
 * The authenticator counts signatures and this one's counter is not above the stored one:
 * the credential may have been cloned, or another login with it got there first.
 */
export class PasskeyCounterError extends PasskeyError {
  constructor(message = "The passkey's signature counter did not increase") {
    super(PasskeyErrorCode.PASSKEY_COUNTER_NOT_INCREASED, message);
  }
}

/** True when `error` is a {@link PasskeyError}, optionally with the given code. */
export function isPasskeyError(
  error: unknown,
  code?: PasskeyErrorCodeValue,
): error is PasskeyError {
  return error instanceof PasskeyError && (code === undefined || error.code === code);
}
