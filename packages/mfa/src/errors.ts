/**
 * Typed errors of `@tessera/mfa`. Each carries a stable `code` the HTTP layer maps to a
 * status; all are the client's doing (400), none a 500. Messages are for logs.
 */

/** Stable codes of {@link MfaError}. Never renamed: clients match on them. */
export const MfaErrorCode = {
  /** The TOTP or recovery code is wrong, malformed, outside the ±1 step window, or replayed. */
  MFA_CODE_INVALID: "MFA_CODE_INVALID",
  /** The `mfa_token` is malformed, forged, of another backend or purpose, or its user is gone or inactive. */
  MFA_TOKEN_INVALID: "MFA_TOKEN_INVALID",
  /** The `mfa_token` outlived its lifetime (5 minutes by default). */
  MFA_TOKEN_EXPIRED: "MFA_TOKEN_EXPIRED",
  /** The `mfa_token` was used already, or died after too many wrong codes. */
  MFA_TOKEN_USED: "MFA_TOKEN_USED",
  /** The user has no confirmed TOTP factor (verify, disable, regenerate). */
  MFA_NOT_ENABLED: "MFA_NOT_ENABLED",
  /** The user has a confirmed TOTP factor already (enrol again only after disabling it). */
  MFA_ALREADY_ENABLED: "MFA_ALREADY_ENABLED",
  /** Confirmation without a pending enrolment (call `enrol` first). */
  MFA_NOT_ENROLLING: "MFA_NOT_ENROLLING",
} as const;

/** Union of every {@link MfaErrorCode} value. */
export type MfaErrorCodeValue = (typeof MfaErrorCode)[keyof typeof MfaErrorCode];

/** Base class of the package's errors; `code` is stable, `message` is for logs. */
export class MfaError extends Error {
  /** Stable machine-readable code. */
  readonly code: MfaErrorCodeValue;

  constructor(code: MfaErrorCodeValue, message: string = code, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A wrong code. With a login challenge, `attemptsLeft` says how many more it takes. */
export class MfaCodeInvalidError extends MfaError {
  /** Wrong codes the challenge still accepts before it dies; undefined outside a challenge. */
  readonly attemptsLeft: number | undefined;

  constructor(attemptsLeft?: number) {
    super(MfaErrorCode.MFA_CODE_INVALID, "Invalid code");
    this.attemptsLeft = attemptsLeft;
  }
}

/** True when `error` is an {@link MfaError}, with the given code when one is given. */
export function isMfaError(error: unknown, code?: MfaErrorCodeValue): error is MfaError {
  return error instanceof MfaError && (code === undefined || error.code === code);
}
