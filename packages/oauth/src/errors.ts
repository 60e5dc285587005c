/**
 * Typed errors of the OAuth flow. Each carries a stable `code` the HTTP layer maps to a
 * status: `OAUTH_INVALID_STATE` → 400, `OAUTH_PROVIDER_ERROR` → 400,
 * `OAUTH_INVALID_RESPONSE` → 400, `OAUTH_PROVIDER_UNAVAILABLE` → 503. None of them is a 500.
 */

/** Stable codes of {@link OAuthFlowError}. Never renamed: clients match on them. */
export const OAuthErrorCode = {
  /** The state is missing, expired, forged, of another browser, provider or purpose, or used. */
  OAUTH_INVALID_STATE: "OAUTH_INVALID_STATE",
  /** The provider answered with an OAuth error (`error=access_denied`, `invalid_grant`…). */
  OAUTH_PROVIDER_ERROR: "OAUTH_PROVIDER_ERROR",
  /** The provider's answer failed validation (ID token signature, issuer, audience, nonce…). */
  OAUTH_INVALID_RESPONSE: "OAUTH_INVALID_RESPONSE",
  /** The provider could not be reached, timed out, or answered garbage or a 5xx. */
  OAUTH_PROVIDER_UNAVAILABLE: "OAUTH_PROVIDER_UNAVAILABLE",
} as const;

/** Union of every {@link OAuthErrorCode} value. */
export type OAuthErrorCodeValue = (typeof OAuthErrorCode)[keyof typeof OAuthErrorCode];

/** Base class of the flow's errors; `code` is stable, `message` is for logs, not clients. */
export class OAuthFlowError extends Error {
  /** Stable machine-readable code. */
  readonly code: OAuthErrorCodeValue;

  constructor(code: OAuthErrorCodeValue, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * The callback's `state` cannot be trusted: no or a tampered cookie, an expired one, a
 * state that is not the cookie's, a cookie of another provider, purpose or user, or a state
 * already used once (ASVS 5.0 10.2.1, 10.1.2).
 */
export class OAuthInvalidStateError extends OAuthFlowError {
  constructor(message = "Invalid OAuth state", options?: { cause?: unknown }) {
    super(OAuthErrorCode.OAUTH_INVALID_STATE, message, options);
  }
}

/** The provider answered with an OAuth error: in the callback's query, or at its token endpoint. */
export class OAuthProviderError extends OAuthFlowError {
  /** The provider's `error` (`access_denied`, `invalid_grant`…). */
  readonly error: string;
  /** The provider's `error_description`, when given (for logs: it is the provider's text). */
  readonly errorDescription: string | undefined;

  constructor(error: string, errorDescription?: string, options?: { cause?: unknown }) {
    super(
      OAuthErrorCode.OAUTH_PROVIDER_ERROR,
      `The provider answered ${error}${errorDescription ? `: ${errorDescription}` : ""}`,
      options,
    );
    this.error = error;
    this.errorDescription = errorDescription;
  }
}

/** The provider's answer failed validation (ID token signature, issuer, audience, nonce, expiry). */
export class OAuthInvalidResponseError extends OAuthFlowError {
  constructor(message = "Invalid response from the provider", options?: { cause?: unknown }) {
    super(OAuthErrorCode.OAUTH_INVALID_RESPONSE, message, options);
  }
}

/** The provider is down, slow past the timeout, or answers garbage: a 503, never a 500. */
export class OAuthProviderUnavailableError extends OAuthFlowError {
  /** The provider's name in this app. */
  readonly provider: string;

  constructor(provider: string, options?: { cause?: unknown }) {
    super(
      OAuthErrorCode.OAUTH_PROVIDER_UNAVAILABLE,
      `The OAuth provider ${provider} is unavailable`,
      options,
    );
    this.provider = provider;
  }
}

/** True when `error` is an {@link OAuthFlowError}, with the given code when one is given. */
export function isOAuthFlowError(
  error: unknown,
  code?: OAuthErrorCodeValue,
): error is OAuthFlowError {
  return error instanceof OAuthFlowError && (code === undefined || error.code === code);
}
