import * as client from "openid-client";
import {
  OAuthFlowError,
  OAuthInvalidResponseError,
  OAuthProviderError,
  OAuthProviderUnavailableError,
} from "./errors.js";

/** Who the user is at the provider. */
export interface OAuthProfile {
  /** The account's id at the provider (OIDC `sub`, GitHub's numeric id as a string). */
  accountId: string;
  /** The account's email, or null when the provider gave none. */
  email: string | null;
  /** The provider says this email is verified (OIDC `email_verified`, GitHub's `verified`). */
  emailVerified: boolean;
}

/** The provider's tokens, in clear (the flow encrypts them before handing them on). */
export interface OAuthTokens {
  accessToken: string;
  refreshToken?: string;
  /** Epoch seconds, when the provider said (`expires_in`). */
  expiresAt?: number;
}

/** What a provider needs to build the authorization URL. */
export interface OAuthAuthorizationRequest {
  /** The configured callback URL (never taken from the request). */
  redirectUri: string;
  state: string;
  /** The PKCE S256 `code_challenge`. */
  codeChallenge: string;
  /** The OIDC nonce (ignored by plain OAuth2 providers). */
  nonce: string;
  scopes: readonly string[];
  /** Extra authorization parameters (`prompt`, `login_hint`…); never the ones above. */
  extraParams?: Record<string, string>;
}

/** What a provider needs to exchange the callback's code. */
export interface OAuthCodeExchange {
  /** The callback URL: the configured redirect URI with the callback's query. */
  callbackUrl: URL;
  /** The state the flow expects (already checked against the cookie). */
  state: string;
  codeVerifier: string;
  nonce: string;
}

/** What a code exchange learnt. */
export interface OAuthExchangeResult {
  profile: OAuthProfile;
  tokens: OAuthTokens;
}

/**
 * One sign-in provider, OpenID Connect or plain OAuth2: {@link oidcProvider},
 * {@link oauth2Provider}, or the ready-made {@link github}, {@link google}, {@link microsoft}.
 * Errors are {@link OAuthFlowError}s: unreachable or garbage → `OAUTH_PROVIDER_UNAVAILABLE`.
 */
export interface OAuthProvider {
  /** The provider's name in this app (`google`, `github`): the routes' `{name}`, `oauth_name`. */
  readonly name: string;
  /** `oidc` validates an ID token (nonce included); `oauth2` reads a user-info API. */
  readonly kind: "oidc" | "oauth2";
  /** Scopes asked for when the caller names none. */
  readonly defaultScopes: readonly string[];
  /** The URL to send the browser to. May discover the provider (lazily, cached). */
  authorizationUrl(request: OAuthAuthorizationRequest): Promise<URL>;
  /** Exchanges the code (PKCE verifier included), validates the answer, reads the profile. */
  exchange(exchange: OAuthCodeExchange): Promise<OAuthExchangeResult>;
}

/** Options every provider takes. */
export interface OAuthProviderBaseOptions {
  /** The provider's name in this app: `[a-z0-9][a-z0-9_-]*`, at most 64 characters. */
  name: string;
  clientId: string;
  clientSecret: string;
  /** How the client authenticates at the token endpoint. @default "client_secret_basic" */
  clientAuthMethod?: "client_secret_basic" | "client_secret_post";
  /** Scopes asked for when the caller names none. */
  scopes?: readonly string[];
  /** Timeout of each HTTP request to the provider, in seconds. @default 10 */
  timeoutSeconds?: number;
  /**
   * Allow `http:` provider URLs. For a provider on loopback in development and tests only:
   * tokens then travel in clear. @default false
   */
  allowInsecureRequests?: boolean;
}

/** The client authentication of openid-client for the options. */
export function clientAuth(options: OAuthProviderBaseOptions): client.ClientAuth {
  return options.clientAuthMethod === "client_secret_post"
    ? client.ClientSecretPost(options.clientSecret)
    : client.ClientSecretBasic(options.clientSecret);
}

const NAME_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** Checks a provider name (it appears in routes, cookies and stored accounts). */
export function checkProviderName(name: string): void {
  if (!NAME_RE.test(name)) {
    throw new TypeError(`OAuth provider name must match ${NAME_RE}: ${JSON.stringify(name)}`);
  }
}

const UNAVAILABLE_CODES = new Set<string>([
  "OAUTH_RESPONSE_IS_NOT_JSON",
  "OAUTH_RESPONSE_IS_NOT_CONFORM",
  "OAUTH_PARSE_ERROR",
]);

function isNetworkError(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 6; e = e.cause, depth++) {
    if (e.name === "TimeoutError" || e.name === "AbortError") return true;
    if (e instanceof TypeError && e.message === "fetch failed") return true;
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^(E[A-Z_]+|UND_ERR_[A-Z_]+)$/.test(code)) return true;
  }
  return false;
}

/**
 * Maps what openid-client throws to the flow's typed errors. `phase` "discovery" makes every
 * failure "unavailable" (a provider whose metadata cannot be read cannot be used).
 */
export function classifyProviderError(
  provider: string,
  error: unknown,
  phase: "discovery" | "exchange",
): OAuthFlowError {
  if (error instanceof OAuthFlowError) return error;
  if (phase === "discovery" || isNetworkError(error)) {
    return new OAuthProviderUnavailableError(provider, { cause: error });
  }
  if (error instanceof client.ResponseBodyError) {
    if (error.status >= 500) return new OAuthProviderUnavailableError(provider, { cause: error });
    return new OAuthProviderError(error.error, error.error_description, { cause: error });
  }
  if (error instanceof client.AuthorizationResponseError) {
    return new OAuthProviderError(error.error, error.error_description, { cause: error });
  }
  if (error instanceof client.WWWAuthenticateChallengeError) {
    return new OAuthProviderError("invalid_token", error.message, { cause: error });
  }
  if (error instanceof client.ClientError && UNAVAILABLE_CODES.has(String(error.code))) {
    return new OAuthProviderUnavailableError(provider, { cause: error });
  }
  const detail = (e: unknown) => (e instanceof Error ? e.message : String(e));
  const inner = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
  return new OAuthInvalidResponseError(
    `Invalid response from the provider ${provider}: ${detail(error)}${inner ? ` (${detail(inner)})` : ""}`,
    { cause: error },
  );
}

/** Runs `fn`, turning its failures into typed errors. */
export async function guarded<T>(
  provider: string,
  phase: "discovery" | "exchange",
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw classifyProviderError(provider, error, phase);
  }
}

/** Tokens of a token endpoint response. */
export function tokensOf(response: client.TokenEndpointResponse): OAuthTokens {
  const tokens: OAuthTokens = { accessToken: response.access_token };
  if (response.refresh_token) tokens.refreshToken = response.refresh_token;
  if (typeof response.expires_in === "number") {
    tokens.expiresAt = Math.floor(Date.now() / 1000) + response.expires_in;
  }
  return tokens;
}

/** `email_verified` as providers send it: a boolean, or (some) the string "true". */
export function isVerified(value: unknown): boolean {
  return value === true || value === "true";
}

/** The authorization parameters every provider sends. */
export function authorizationParams(request: OAuthAuthorizationRequest): Record<string, string> {
  return {
    ...request.extraParams,
    response_type: "code",
    redirect_uri: request.redirectUri,
    scope: request.scopes.join(" "),
    state: request.state,
    code_challenge: request.codeChallenge,
    code_challenge_method: "S256",
  };
}
