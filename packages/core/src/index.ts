/**
 * `@tessera/core`: framework-neutral users, transports, strategy contract,
 * authentication backends, authenticator and errors.
 *
 * Exports are listed by name, so nothing becomes public by being exported from a module.
 * Helpers that Tessera's own packages share are in `@tessera/core/internal`, without a
 * semver promise.
 */
export { AuditLog, type AuditLogOptions } from "./audit/audit-log.js";
export type {
  AccessDeniedEvent,
  AuditEvent,
  AuditEventBase,
  AuditEventContext,
  AuditEventInit,
  AuditEventType,
  AuditLoginMethod,
  AuditSink,
  CsrfRefusalReason,
  CsrfRefusedEvent,
  LoginFailedEvent,
  LoginFailureReason,
  LoginSucceededEvent,
  RateLimitedEvent,
  ReauthenticationFailedEvent,
  SecurityChangeEvent,
  SessionRevocationReason,
  SessionRevokedEvent,
  TokenRefusalReason,
  TokenRefusedEvent,
  TokenTheftEvent,
} from "./audit/events.js";
export { Authenticator, type AuthResult, type CurrentUserOptions } from "./authenticator.js";
export { AuthenticationBackend, type AuthenticationBackendOptions } from "./backend.js";
export {
  ConfigurationError,
  ErrorCode,
  type ErrorCodeValue,
  ForbiddenError,
  InvalidCurrentPasswordError,
  InvalidIDError,
  InvalidPasswordError,
  InvalidResetPasswordTokenError,
  InvalidSessionDataError,
  InvalidVerifyTokenError,
  isTesseraError,
  MfaNotSupportedError,
  OAuthAccountAlreadyLinkedError,
  OAuthNotSupportedError,
  PasskeyAlreadyRegisteredError,
  PasswordReasonCode,
  RefreshTokenInvalidError,
  RefreshTokenReusedError,
  ServiceUnavailableError,
  SessionDataTooLargeError,
  SessionNotSupportedError,
  StrategyDestroyNotSupportedError,
  TesseraError,
  UnauthorizedError,
  UserAlreadyExistsError,
  UserAlreadyVerifiedError,
  UserInactiveError,
  UserNotExistsError,
  UserUpdateConflictError,
} from "./errors.js";
export { type IdParser, integerIdParser, objectIdStringParser, uuidIdParser } from "./id.js";
export type { AccountTokenOptions } from "./manager/account-tokens.js";
export type {
  SecurityEvent,
  SecurityEventType,
  UserManagerHookName,
  UserManagerHooks,
} from "./manager/hooks.js";
export type {
  CallOptions,
  Credentials,
  UpdateOptions,
  UserManagerOptions,
} from "./manager/options.js";
export { UserManager } from "./manager/user-manager.js";
export {
  isMfaDatabase,
  type MfaDatabase,
  type MfaState,
  type PasskeyCredential,
  type RecoveryCode,
  type TotpFactor,
} from "./mfa/models.js";
export {
  type AccessTokenCreate,
  type AccessTokenDatabase,
  type AccessTokenProtocol,
  type AccessTokenRotation,
  type AccessTokenSessionFields,
  type AccessTokenUpdate,
  type AccessTokenWithUserReader,
  type ExtraFields,
  normalizeEmail,
  type UserCreate,
  type UserCreateData,
  type UserDatabase,
  type UserProtocol,
  type UserUpdate,
  type UserUpdateConditions,
  type UserUpdateData,
} from "./models.js";
export {
  isOAuthAccountDatabase,
  type OAuthAccount,
  type OAuthAccountCreate,
  type OAuthAccountDatabase,
  type OAuthAccountUpdate,
  type OAuthCallbackInput,
  type OAuthCallbackOptions,
} from "./oauth/models.js";
export {
  type Argon2Options,
  PasswordHelper,
  type PasswordHelperProtocol,
  type VerifyResult,
} from "./password/password-helper.js";
export {
  checkPassword,
  checkPasswordLength,
  PASSWORD_REASONS,
  type PasswordLengthBounds,
  type PasswordPolicyOptions,
  passwordLengthBounds,
} from "./password/password-policy.js";
export { MemoryRateLimitStore, type MemoryRateLimitStoreOptions } from "./rate-limit/memory.js";
export type { RateLimitDecision, RateLimitRule, RateLimitStore } from "./rate-limit/store.js";
export {
  boundDevice,
  checkSessionJson,
  DEFAULT_SESSION_LIMITS,
  mergeSessionJson,
  SESSION_DEVICE_LIMITS,
  type SessionLimits,
} from "./session/limits.js";
export type {
  CreateSessionOptions,
  JsonObject,
  JsonValue,
  RefreshRotation,
  RefreshSessionStore,
  Session,
  SessionDevice,
  SessionStore,
} from "./session/session.js";
export type {
  DestroyAllTokensOptions,
  SessionInfo,
  Strategy,
  TokenPair,
  UserChange,
} from "./strategy/base.js";
export { generateOpaqueToken, hashToken } from "./tokens/opaque.js";
export type { Secret } from "./tokens/signed.js";
export type {
  AuthRequest,
  AuthResponse,
  CookieSpec,
  RefreshGrant,
  Transport,
  TransportOpenAPI,
} from "./transport/base.js";
export { BearerTransport, type BearerTransportOptions } from "./transport/bearer.js";
export { CookieTransport, type CookieTransportOptions } from "./transport/cookie.js";
