// A plain OAuth2 provider that is not OpenID Connect, through the same interface: the
// `github()` definition against the GitHub-style surface of the suite's provider (its
// authorization and token endpoints, and `/github/user`, `/github/user/emails` answering for
// the access tokens it issued). No ID token, so no nonce; PKCE and state as for OIDC.
import { OAuthInvalidStateError } from "@tessera/oauth";
import { describe, expect, it } from "vitest";
import { cipher, flowOf, githubOf, oidc, signIn } from "./support.js";

describe("GitHub-style OAuth2 provider, against oidc-provider's OAuth2 endpoints", () => {
  it("signs in: numeric id, the verified primary email, encrypted tokens (ASVS 5.0 10.2.1)", async () => {
    const flow = flowOf(githubOf());
    const { begun, cookie, query } = await signIn(flow, { login: "alice" });
    const url = new URL(begun.authorizationUrl);
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(url.searchParams.get("nonce")).toBeNull();
    expect(url.searchParams.get("scope")).toBe("read:user user:email");
    const done = await flow.complete({ query, cookie });
    expect(done.oauthName).toBe("github");
    expect(done.profile).toEqual({
      accountId: "1001",
      email: "alice@example.com",
      emailVerified: true,
    });
    const user = await fetch(`${oidc().github.api}/user`, {
      headers: { authorization: `Bearer ${cipher.decrypt(done.accessToken)}` },
    });
    expect(await user.json()).toMatchObject({ id: 1001, login: "alice" });
  });

  it("reports an unverified primary email as unverified", async () => {
    const flow = flowOf(githubOf());
    const { cookie, query } = await signIn(flow, { login: "bob" });
    const done = await flow.complete({ query, cookie });
    expect(done.profile).toEqual({
      accountId: "1002",
      email: "bob@example.com",
      emailVerified: false,
    });
  });

  it("reports no email when the account has none", async () => {
    const flow = flowOf(githubOf());
    const { cookie, query } = await signIn(flow, { login: "carol" });
    const done = await flow.complete({ query, cookie });
    expect(done.profile).toEqual({ accountId: "1003", email: null, emailVerified: false });
    expect(done.callbackInput).toBeNull();
  });

  it("refuses a replayed callback and another browser's state (ASVS 5.0 10.1.2)", async () => {
    const flow = flowOf(githubOf());
    const mine = await signIn(flow, { login: "alice" });
    const other = await flow.begin();
    await expect(
      flow.complete({ query: mine.query, cookie: other.cookie.value }),
    ).rejects.toBeInstanceOf(OAuthInvalidStateError);
    await flow.complete(mine);
    await expect(flow.complete(mine)).rejects.toBeInstanceOf(OAuthInvalidStateError);
  });

  it("a user-info API that refuses the token is OAUTH_PROVIDER_ERROR", async () => {
    const info = oidc();
    const flow = flowOf(
      githubOf({ ...info, github: { ...info.github, api: `${info.issuer}/github/nowhere` } }),
    );
    const { cookie, query } = await signIn(flow, { login: "alice" });
    // /github/nowhere/user is not a route: the provider answers 404 (a 4xx from the API).
    await expect(flow.complete({ query, cookie })).rejects.toMatchObject({
      code: "OAUTH_PROVIDER_ERROR",
    });
  });
});
