// Shared by the OAuth tests: flows on the suite's OIDC provider (inject("oidc")), and a
// sign-in that runs the browser's part at the provider and returns the callback's query.
import {
  github,
  OAuthFlow,
  type OAuthFlowOptions,
  type OAuthProvider,
  OAuthTokenCipher,
  oidcProvider,
} from "@tessera/oauth";
import { inject } from "vitest";
import { type ProviderSignIn, signInAtProvider } from "../harness/oidc-browser.js";
import type { OidcProviderInfo } from "../harness/types.js";

export const STATE_SECRET = "oauth-test-state-secret-0123456789abcdef";
export const cipher = new OAuthTokenCipher([
  { id: "test-2", secret: "oauth-test-token-key-two-0123456789abcdef" },
  { id: "test-1", secret: "oauth-test-token-key-one-0123456789abcdef" },
]);

export const oidc = (): OidcProviderInfo => inject("oidc");

/** The callback URL of a test app (nothing listens: the browser helper stops at it). */
export const CALLBACK = "http://127.0.0.1:9/auth/idp/callback";

export function oidcOf(info: OidcProviderInfo = oidc(), name = "idp"): OAuthProvider {
  return oidcProvider({
    name,
    issuer: info.issuer,
    clientId: info.clientId,
    clientSecret: info.clientSecret,
    scopes: ["openid", "email", "offline_access"],
    allowInsecureRequests: true,
    timeoutSeconds: 5,
  });
}

export function githubOf(info: OidcProviderInfo = oidc()): OAuthProvider {
  return github({
    clientId: info.clientId,
    clientSecret: info.clientSecret,
    endpoints: { ...info.github, issuer: info.issuer },
    allowInsecureRequests: true,
    timeoutSeconds: 5,
  });
}

export function flowOf(provider: OAuthProvider, more: Partial<OAuthFlowOptions> = {}): OAuthFlow {
  return new OAuthFlow({
    provider,
    redirectUri: CALLBACK,
    stateSecret: STATE_SECRET,
    tokenCipher: cipher,
    ...more,
  });
}

/** begin → the provider's login (and consent) → the callback's query, with the cookie. */
export async function signIn(flow: OAuthFlow, how: ProviderSignIn) {
  const begun = await flow.begin();
  const callback = await signInAtProvider(begun.authorizationUrl, {
    callbackPrefix: flow.redirectUri(),
    ...how,
  });
  return { begun, cookie: begun.cookie.value, query: callback.searchParams, callback };
}
