/**
 * `@tessera/oauth`: sign in with OAuth2 / OpenID Connect providers, framework-neutral.
 * Providers (any OIDC issuer by discovery, plain OAuth2 such as GitHub, and ready-made
 * GitHub, Google, Microsoft) on openid-client; {@link OAuthFlow} binds `state` to the browser
 * with a sealed cookie, uses it once, always sends PKCE, and encrypts the provider's tokens
 * ({@link OAuthTokenCipher}) before they reach `UserManager.oauthCallback`.
 */
export { OAuthTokenCipher, type OAuthTokenKey } from "./cipher.js";
export {
  isOAuthFlowError,
  OAuthErrorCode,
  type OAuthErrorCodeValue,
  OAuthFlowError,
  OAuthInvalidResponseError,
  OAuthInvalidStateError,
  OAuthProviderError,
  OAuthProviderUnavailableError,
} from "./errors.js";
export {
  DEFAULT_OAUTH_COOKIE_NAME,
  type OAuthBeginOptions,
  type OAuthBeginResult,
  type OAuthCompleteInput,
  type OAuthCompletion,
  OAuthFlow,
  type OAuthFlowOptions,
} from "./flow.js";
export type { OAuthSecret } from "./keys.js";
export { type OAuth2ProfileContext, type OAuth2ProviderOptions, oauth2Provider } from "./oauth2.js";
export { type OidcProviderOptions, oidcProvider } from "./oidc.js";
export {
  type GitHubOptions,
  type GoogleOptions,
  github,
  google,
  type MicrosoftOptions,
  microsoft,
  type PresetOptions,
} from "./presets.js";
export type {
  OAuthAuthorizationRequest,
  OAuthCodeExchange,
  OAuthExchangeResult,
  OAuthProfile,
  OAuthProvider,
  OAuthProviderBaseOptions,
  OAuthTokens,
} from "./provider.js";
export type { OAuthPurpose, OAuthStatePayload } from "./seal.js";
export { StateSealer } from "./seal.js";
export { MemoryOAuthStateStore, type OAuthStateStore } from "./state-store.js";
