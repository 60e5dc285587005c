/**
 * `@tessera/core`: framework-neutral users, transports, strategy contract,
 * authentication backends, authenticator and errors.
 */
export * from "./authenticator.js";
export * from "./backend.js";
export * from "./errors.js";
export * from "./id.js";
export type { AccountTokenOptions } from "./manager/account-tokens.js";
export type { UserManagerHookName, UserManagerHooks } from "./manager/hooks.js";
export type {
  CallOptions,
  Credentials,
  UpdateOptions,
  UserManagerOptions,
} from "./manager/options.js";
export * from "./manager/session-sync.js";
export { changesCredentials } from "./manager/user-input.js";
export * from "./manager/user-manager.js";
export * from "./models.js";
export { commonPasswords } from "./password/common-passwords.js";
export * from "./password/password-helper.js";
export * from "./password/password-policy.js";
export * from "./rate-limit/index.js";
export type {
  DestroyAllTokensOptions,
  SessionInfo,
  Strategy,
  UserChange,
} from "./strategy/base.js";
export * from "./tokens/opaque.js";
export * from "./tokens/signed.js";
export * from "./transport/base.js";
export * from "./transport/bearer.js";
export * from "./transport/cookie.js";
