import * as client from "openid-client";
import { OAuthInvalidResponseError } from "./errors.js";
import {
  authorizationParams,
  checkProviderName,
  clientAuth,
  guarded,
  isVerified,
  type OAuthAuthorizationRequest,
  type OAuthCodeExchange,
  type OAuthExchangeResult,
  type OAuthProvider,
  type OAuthProviderBaseOptions,
  tokensOf,
} from "./provider.js";

/** Options of {@link oidcProvider}. */
export interface OidcProviderOptions extends OAuthProviderBaseOptions {
  /** The issuer identifier; its `/.well-known/openid-configuration` is read on first use. */
  issuer: string;
  /** @default ["openid", "email", "profile"] */
  scopes?: readonly string[];
}

/**
 * Any OpenID Connect provider, by discovery (openid-client): authorization code flow with
 * PKCE S256, `state` and `nonce`; the ID token is validated by openid-client (`iss`, `aud`,
 * `exp`, `iat`, `nonce`, and its signature through the issuer's JWKS: non-repudiation checks
 * are turned on, which openid-client leaves off by default for the token endpoint's answer). The email and
 * `email_verified` come from the ID token, or from the userinfo endpoint when the ID token
 * has no email. Discovery runs on first use and is cached; a failed one is retried next time.
 *
 * @example
 * const provider = oidcProvider({
 *   name: "my-idp",
 *   issuer: "https://idp.example.com",
 *   clientId: process.env.OAUTH_MY_IDP_CLIENT_ID!,
 *   clientSecret: process.env.OAUTH_MY_IDP_CLIENT_SECRET!,
 * });
 */
export function oidcProvider(options: OidcProviderOptions): OAuthProvider {
  return new OidcProvider(options);
}

class OidcProvider implements OAuthProvider {
  readonly name: string;
  readonly kind = "oidc" as const;
  readonly defaultScopes: readonly string[];
  readonly #options: OidcProviderOptions;
  #config: Promise<client.Configuration> | undefined;

  constructor(options: OidcProviderOptions) {
    checkProviderName(options.name);
    new URL(options.issuer); // throws a TypeError for a malformed issuer
    this.name = options.name;
    this.defaultScopes = options.scopes ?? ["openid", "email", "profile"];
    this.#options = options;
  }

  #configuration(): Promise<client.Configuration> {
    if (!this.#config) {
      const o = this.#options;
      // openid-client skips the ID token's signature for tokens from the token endpoint (TLS
      // vouches for the issuer, OIDC Core 3.1.3.7); the non-repudiation checks verify it
      // through the issuer's JWKS anyway (fetched once, cached by openid-client).
      const execute = [client.enableNonRepudiationChecks];
      if (o.allowInsecureRequests) execute.push(client.allowInsecureRequests);
      this.#config = guarded(this.name, "discovery", () =>
        client.discovery(new URL(o.issuer), o.clientId, undefined, clientAuth(o), {
          execute,
          timeout: o.timeoutSeconds ?? 10,
        }),
      );
      // A failed discovery is not cached: the next request tries again.
      this.#config.catch(() => {
        this.#config = undefined;
      });
    }
    return this.#config;
  }

  async authorizationUrl(request: OAuthAuthorizationRequest): Promise<URL> {
    const config = await this.#configuration();
    return client.buildAuthorizationUrl(config, {
      ...authorizationParams(request),
      nonce: request.nonce,
    });
  }

  async exchange(exchange: OAuthCodeExchange): Promise<OAuthExchangeResult> {
    const config = await this.#configuration();
    return guarded(this.name, "exchange", async () => {
      const response = await client.authorizationCodeGrant(config, exchange.callbackUrl, {
        pkceCodeVerifier: exchange.codeVerifier,
        expectedState: exchange.state,
        expectedNonce: exchange.nonce,
        idTokenExpected: true,
      });
      const claims = response.claims();
      if (!claims) throw new OAuthInvalidResponseError("The provider sent no ID token");
      let email: unknown = claims.email;
      let verified: unknown = claims.email_verified;
      if (typeof email !== "string" || email === "") {
        const info = await client.fetchUserInfo(config, response.access_token, claims.sub);
        email = info.email;
        verified = info.email_verified;
      }
      const hasEmail = typeof email === "string" && email !== "";
      return {
        profile: {
          accountId: claims.sub,
          email: hasEmail ? (email as string) : null,
          emailVerified: hasEmail && isVerified(verified),
        },
        tokens: tokensOf(response),
      };
    });
  }
}
