import { ConfigurationError } from "@tessera/core";
import { describe, expect, it } from "vitest";
import { OAuthTokenCipher } from "./cipher.js";
import { OAuthInvalidStateError, OAuthProviderError } from "./errors.js";
import { OAuthFlow, type OAuthFlowOptions } from "./flow.js";
import type { OAuthCodeExchange, OAuthProvider } from "./provider.js";
import { StateSealer } from "./seal.js";

// The flow's own checks, before any provider is called: the provider here records what it
// is asked and answers a fixed profile. The real code flow against a real provider is in
// test/oauth/.
function recordingProvider(name = "idp") {
  const exchanges: OAuthCodeExchange[] = [];
  const provider: OAuthProvider = {
    name,
    kind: "oidc",
    defaultScopes: ["openid", "email"],
    async authorizationUrl(r) {
      const url = new URL("https://idp.example/authorize");
      url.searchParams.set("state", r.state);
      url.searchParams.set("redirect_uri", r.redirectUri);
      url.searchParams.set("scope", r.scopes.join(" "));
      return url;
    },
    async exchange(e) {
      exchanges.push(e);
      return {
        profile: { accountId: "sub-1", email: "a@example.com", emailVerified: true },
        tokens: { accessToken: "at", refreshToken: "rt", expiresAt: 123 },
      };
    },
  };
  return { provider, exchanges };
}

const SECRET = "s".repeat(32);
const cipher = new OAuthTokenCipher([{ id: "k", secret: "t".repeat(32) }]);
const flowOf = (provider: OAuthProvider, more: Partial<OAuthFlowOptions> = {}) =>
  new OAuthFlow({
    provider,
    redirectUri: "https://app.example/auth/idp/callback",
    associateRedirectUri: "https://app.example/auth/associate/idp/callback",
    stateSecret: SECRET,
    tokenCipher: cipher,
    ...more,
  });
const stateOf = (url: string) => new URL(url).searchParams.get("state") as string;

describe("OAuthFlow", () => {
  it("begins with a __Host- cookie: Secure, HttpOnly, SameSite=Lax, Path=/, 10 minutes (ASVS 5.0 3.3.1, 3.3.2, 3.3.3, 3.3.4, 10.1.2)", async () => {
    const { provider } = recordingProvider();
    const { authorizationUrl, cookie } = await flowOf(provider).begin();
    expect(cookie).toMatchObject({
      name: "__Host-tessera_oauth",
      path: "/",
      secure: true,
      httpOnly: true,
      sameSite: "lax",
      maxAge: 600,
    });
    expect(cookie.domain).toBeUndefined();
    const state = stateOf(authorizationUrl);
    expect(Buffer.from(state, "base64url").length).toBeGreaterThanOrEqual(16); // ≥ 128 bits
    expect(new URL(authorizationUrl).searchParams.get("redirect_uri")).toBe(
      "https://app.example/auth/idp/callback",
    );
  });

  it("completes once with the cookie's state, and encrypts the tokens (ASVS 5.0 10.1.2)", async () => {
    const { provider, exchanges } = recordingProvider();
    const flow = flowOf(provider);
    const { authorizationUrl, cookie } = await flow.begin();
    const state = stateOf(authorizationUrl);
    const done = await flow.complete({ query: { state, code: "c" }, cookie: cookie.value });
    expect(exchanges).toHaveLength(1);
    expect(exchanges[0]?.callbackUrl.href).toBe(
      `https://app.example/auth/idp/callback?state=${state}&code=c`,
    );
    expect(done.profile).toEqual({
      accountId: "sub-1",
      email: "a@example.com",
      emailVerified: true,
    });
    expect(cipher.decrypt(done.accessToken)).toBe("at");
    expect(cipher.decrypt(done.refreshToken as string)).toBe("rt");
    expect(done.callbackInput).toMatchObject({ oauthName: "idp", accountId: "sub-1" });
    await expect(
      flow.complete({ query: { state, code: "c" }, cookie: cookie.value }),
    ).rejects.toThrow(/used already/);
    expect(exchanges).toHaveLength(1);
  });

  it("refuses before calling the provider: no cookie, tampered, other state, provider, purpose, user, expired", async () => {
    const { provider, exchanges } = recordingProvider();
    const flow = flowOf(provider);
    const login = await flow.begin();
    const state = stateOf(login.authorizationUrl);
    const bad = async (input: Parameters<OAuthFlow["complete"]>[0]) =>
      expect(flow.complete(input)).rejects.toBeInstanceOf(OAuthInvalidStateError);
    await bad({ query: { state, code: "c" }, cookie: undefined });
    await bad({ query: { state, code: "c" }, cookie: `${login.cookie.value.slice(0, -2)}AA` });
    await bad({ query: { code: "c" }, cookie: login.cookie.value });
    await bad({ query: { state: `${state}x`, code: "c" }, cookie: login.cookie.value });
    await bad({ query: { state, code: "c" }, cookie: login.cookie.value, purpose: "associate" });

    const other = flowOf(recordingProvider("other").provider);
    const foreign = await other.begin();
    await bad({
      query: { state: stateOf(foreign.authorizationUrl) },
      cookie: foreign.cookie.value,
    });

    const assoc = await flow.begin({ purpose: "associate", userId: "u1" });
    const aState = stateOf(assoc.authorizationUrl);
    expect(new URL(assoc.authorizationUrl).searchParams.get("redirect_uri")).toBe(
      "https://app.example/auth/associate/idp/callback",
    );
    await bad({ query: { state: aState }, cookie: assoc.cookie.value, purpose: "login" });
    await bad({
      query: { state: aState },
      cookie: assoc.cookie.value,
      purpose: "associate",
      userId: "u2",
    });

    const sealer = new StateSealer(SECRET);
    const expired = sealer.seal({
      state: "e".repeat(43),
      codeVerifier: "v".repeat(43),
      nonce: "n".repeat(43),
      provider: "idp",
      purpose: "login",
      expiresAt: Math.floor(Date.now() / 1000) - 1,
    });
    await bad({ query: { state: "e".repeat(43) }, cookie: expired });
    expect(exchanges).toHaveLength(0);

    const ok = await flow.complete({
      query: { state: aState, code: "c" },
      cookie: assoc.cookie.value,
      purpose: "associate",
      userId: "u1",
    });
    expect(ok).toMatchObject({ purpose: "associate", userId: "u1" });
  });

  it("turns an error in the callback into OAuthProviderError", async () => {
    const flow = flowOf(recordingProvider().provider);
    const error = await flow
      .complete({ query: { error: "access_denied", error_description: "no" }, cookie: undefined })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthProviderError);
    expect(error).toMatchObject({ code: "OAUTH_PROVIDER_ERROR", error: "access_denied" });
  });

  it("hands tokens on in clear only when tokenCipher is false", async () => {
    const { provider } = recordingProvider();
    const flow = flowOf(provider, { tokenCipher: false });
    const { authorizationUrl, cookie } = await flow.begin();
    const done = await flow.complete({
      query: { state: stateOf(authorizationUrl), code: "c" },
      cookie: cookie.value,
    });
    expect(done.accessToken).toBe("at");
    expect(
      () =>
        new OAuthFlow({
          provider,
          redirectUri: "https://app.example/cb",
          stateSecret: SECRET,
        } as unknown as OAuthFlowOptions),
    ).toThrow(/tokenCipher is required/);
  });

  it("refuses weak or unsafe configuration", () => {
    const { provider } = recordingProvider();
    expect(() => flowOf(provider, { stateSecret: "short" })).toThrow(ConfigurationError);
    expect(() => flowOf(provider, { redirectUri: "/relative" })).toThrow(ConfigurationError);
    expect(() => flowOf(provider, { redirectUri: "https://a.example/cb?x=1" })).toThrow(
      ConfigurationError,
    );
    expect(() => flowOf(provider, { cookie: { secure: false, name: "__Host-x" } })).toThrow(
      /must be Secure/,
    );
    expect(flowOf(provider, { cookie: { secure: false } }).cookieName).toBe("tessera_oauth");
    expect(() => flowOf(provider, { stateTtlSeconds: 0 })).toThrow(ConfigurationError);
  });

  it("refuses extra parameters that would override the flow's", async () => {
    const flow = flowOf(recordingProvider().provider);
    await expect(flow.begin({ extraParams: { state: "x" } })).rejects.toThrow(/set by the flow/);
    await expect(flow.begin({ purpose: "associate" })).rejects.toThrow(/user's id/);
  });
});
