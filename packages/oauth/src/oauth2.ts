import * as client from "openid-client";
import {
  OAuthInvalidResponseError,
  OAuthProviderError,
  OAuthProviderUnavailableError,
} from "./errors.js";
import {
  authorizationParams,
  checkProviderName,
  clientAuth,
  guarded,
  type OAuthAuthorizationRequest,
  type OAuthCodeExchange,
  type OAuthExchangeResult,
  type OAuthProfile,
  type OAuthProvider,
  type OAuthProviderBaseOptions,
  tokensOf,
} from "./provider.js";

/** What {@link OAuth2ProviderOptions.profile} gets to read the user's profile. */
export interface OAuth2ProfileContext {
  /** The provider's access token, in clear. */
  accessToken: string;
  /**
   * GETs `url` with the access token as a Bearer token and returns its JSON body: a 5xx,
   * a network failure or a non-JSON answer raise `OAUTH_PROVIDER_UNAVAILABLE`, a 4xx
   * `OAUTH_PROVIDER_ERROR`.
   */
  getJson(url: string, headers?: Record<string, string>): Promise<unknown>;
}

/** Options of {@link oauth2Provider}. */
export interface OAuth2ProviderOptions extends OAuthProviderBaseOptions {
  authorizationEndpoint: string;
  tokenEndpoint: string;
  /**
   * The authorization server's issuer identifier, when it sends `iss` in its callbacks
   * (RFC 9207): the callback's `iss` is checked against it. @default the authorization
   * endpoint's origin
   */
  issuer?: string;
  /** Reads the profile with the access token (a user-info API). */
  profile(context: OAuth2ProfileContext): Promise<OAuthProfile>;
}

/**
 * A plain OAuth2 provider that is not OpenID Connect (GitHub-style): authorization code flow
 * with PKCE S256 and `state` through openid-client on hand-written server metadata, then a
 * user-info call made by `profile`. No ID token, so no nonce: who the user is rests on the
 * TLS-protected user-info API answering for the access token.
 */
export function oauth2Provider(options: OAuth2ProviderOptions): OAuthProvider {
  return new OAuth2Provider(options);
}

class OAuth2Provider implements OAuthProvider {
  readonly name: string;
  readonly kind = "oauth2" as const;
  readonly defaultScopes: readonly string[];
  readonly #options: OAuth2ProviderOptions;
  readonly #config: client.Configuration;

  constructor(options: OAuth2ProviderOptions) {
    checkProviderName(options.name);
    this.name = options.name;
    this.defaultScopes = options.scopes ?? [];
    this.#options = options;
    const metadata: client.ServerMetadata = {
      issuer: options.issuer ?? new URL(options.authorizationEndpoint).origin,
      authorization_endpoint: options.authorizationEndpoint,
      token_endpoint: options.tokenEndpoint,
    };
    this.#config = new client.Configuration(
      metadata,
      options.clientId,
      undefined,
      clientAuth(options),
    );
    this.#config.timeout = options.timeoutSeconds ?? 10;
    if (options.allowInsecureRequests) client.allowInsecureRequests(this.#config);
  }

  async authorizationUrl(request: OAuthAuthorizationRequest): Promise<URL> {
    return client.buildAuthorizationUrl(this.#config, authorizationParams(request));
  }

  async exchange(exchange: OAuthCodeExchange): Promise<OAuthExchangeResult> {
    const config = this.#config;
    return guarded(this.name, "exchange", async () => {
      const response = await client.authorizationCodeGrant(config, exchange.callbackUrl, {
        pkceCodeVerifier: exchange.codeVerifier,
        expectedState: exchange.state,
      });
      const accessToken = response.access_token;
      const getJson = async (url: string, headers: Record<string, string> = {}) => {
        const answer = await client.fetchProtectedResource(
          config,
          accessToken,
          new URL(url),
          "GET",
          undefined,
          new Headers({ accept: "application/json", ...headers }),
        );
        if (answer.status >= 500) throw new OAuthProviderUnavailableError(this.name);
        if (answer.status >= 400) {
          throw new OAuthProviderError("invalid_token", `user-info answered ${answer.status}`);
        }
        try {
          return await answer.json();
        } catch (cause) {
          throw new OAuthProviderUnavailableError(this.name, { cause });
        }
      };
      const profile = await this.#options.profile({ accessToken, getJson });
      if (typeof profile?.accountId !== "string" || profile.accountId === "") {
        throw new OAuthInvalidResponseError("The provider's profile has no account id");
      }
      return { profile, tokens: tokensOf(response) };
    });
  }
}
