// The OpenID Connect code flow of @tessera/oauth against the suite's real provider
// (oidc-provider on loopback): begin → the provider's login and consent pages → complete.
import { OAuthInvalidResponseError, OAuthInvalidStateError, StateSealer } from "@tessera/oauth";
import { describe, expect, it } from "vitest";
import { signInAtProvider } from "../harness/oidc-browser.js";
import { CALLBACK, cipher, flowOf, oidc, oidcOf, STATE_SECRET, signIn } from "./support.js";

describe("OIDC provider by discovery, against oidc-provider", () => {
  it("signs in end to end: verified email, tokens encrypted and decryptable (ASVS 5.0 10.1.2, 10.2.1, 10.5.2, 10.5.4, 11.3.3)", async () => {
    const flow = flowOf(oidcOf());
    const { begun, cookie, query } = await signIn(flow, { login: "alice" });
    const url = new URL(begun.authorizationUrl);
    expect(url.origin).toBe(oidc().issuer);
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(url.searchParams.get("nonce")).toBeTruthy();
    expect(url.searchParams.get("redirect_uri")).toBe(CALLBACK);
    expect(query.get("code")).toBeTruthy();

    const done = await flow.complete({ query, cookie });
    expect(done.profile).toEqual({
      accountId: "alice",
      email: "alice@example.com",
      emailVerified: true,
    });
    expect(done.accessToken).toMatch(/^v1\.test-2\./);
    expect(done.refreshToken).toMatch(/^v1\.test-2\./);
    expect(done.expiresAt).toBeGreaterThan(Date.now() / 1000);
    // The decrypted access token is the provider's: its userinfo endpoint accepts it.
    const me = await fetch(`${oidc().issuer}/me`, {
      headers: { authorization: `Bearer ${cipher.decrypt(done.accessToken)}` },
    });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ sub: "alice", email: "alice@example.com" });
    expect(done.callbackInput).toEqual({
      oauthName: "idp",
      accountId: "alice",
      accountEmail: "alice@example.com",
      emailVerified: true,
      accessToken: done.accessToken,
      refreshToken: done.refreshToken,
      expiresAt: done.expiresAt,
    });
  });

  it("reports an unverified email as such (ASVS 5.0 6.8.1: only a verified email may associate)", async () => {
    const flow = flowOf(oidcOf());
    const { cookie, query } = await signIn(flow, { login: "bob" });
    const done = await flow.complete({ query, cookie });
    expect(done.profile).toEqual({
      accountId: "bob",
      email: "bob@example.com",
      emailVerified: false,
    });
    expect(done.callbackInput?.emailVerified).toBe(false);
  });

  it("reports no email as null, with no callback input (OAUTH_NOT_AVAILABLE_EMAIL upstream)", async () => {
    const flow = flowOf(oidcOf());
    const { cookie, query } = await signIn(flow, { login: "carol" });
    const done = await flow.complete({ query, cookie });
    expect(done.profile).toEqual({ accountId: "carol", email: null, emailVerified: false });
    expect(done.callbackInput).toBeNull();
  });

  it("refuses a replayed callback: the state is single-use (ASVS 5.0 10.1.2)", async () => {
    const flow = flowOf(oidcOf());
    const { cookie, query } = await signIn(flow, { login: "alice" });
    await flow.complete({ query, cookie });
    await expect(flow.complete({ query, cookie })).rejects.toBeInstanceOf(OAuthInvalidStateError);
  });

  it("refuses a state from another browser: the attacker's callback with the victim's cookie, or none (CVE-2025-68481, ASVS 5.0 10.1.2)", async () => {
    const flow = flowOf(oidcOf());
    // The attacker signs in with their own account and stops before their callback.
    const attacker = await signIn(flow, { login: "bob" });
    // The victim's browser started a flow of its own (or none) and is sent the link.
    const victim = await flow.begin();
    await expect(
      flow.complete({ query: attacker.query, cookie: victim.cookie.value }),
    ).rejects.toBeInstanceOf(OAuthInvalidStateError);
    await expect(
      flow.complete({ query: attacker.query, cookie: undefined }),
    ).rejects.toBeInstanceOf(OAuthInvalidStateError);
    // The attacker's code was not spent by those attempts: it still works in their browser.
    expect((await flow.complete(attacker)).profile.accountId).toBe("bob");
  });

  it("refuses a tampered cookie, and the provider refuses a wrong PKCE verifier (ASVS 5.0 10.1.2, 10.2.1)", async () => {
    const flow = flowOf(oidcOf());
    const first = await signIn(flow, { login: "alice" });
    const raw = Buffer.from(first.cookie, "base64url");
    raw[30] = (raw[30] as number) ^ 0x01;
    await expect(
      flow.complete({ query: first.query, cookie: raw.toString("base64url") }),
    ).rejects.toBeInstanceOf(OAuthInvalidStateError);

    // With the key, re-seal the cookie with another verifier: the state passes, the provider
    // refuses the code (PKCE is checked at the token endpoint, not only by us).
    const sealer = new StateSealer(STATE_SECRET);
    const second = await signIn(flow, { login: "alice" });
    const payload = sealer.open(second.cookie);
    if (!payload) throw new Error("the cookie should open");
    const wrongVerifier = sealer.seal({ ...payload, codeVerifier: "x".repeat(43) });
    await expect(
      flow.complete({ query: second.query, cookie: wrongVerifier }),
    ).rejects.toMatchObject({ code: "OAUTH_PROVIDER_ERROR", error: "invalid_grant" });
  });

  it("the provider requires PKCE: an authorization request without code_challenge is refused (ASVS 5.0 10.4.6)", async () => {
    const flow = flowOf(oidcOf());
    const { authorizationUrl } = await flow.begin();
    const url = new URL(authorizationUrl);
    url.searchParams.delete("code_challenge");
    url.searchParams.delete("code_challenge_method");
    const callback = await signInAtProvider(url.href, { login: "alice", callbackPrefix: CALLBACK });
    expect(callback.searchParams.get("error")).toBe("invalid_request");
    expect(callback.searchParams.get("error_description")).toMatch(/PKCE/);
  });

  it("refuses an ID token whose nonce is not the cookie's: openid-client's check (ASVS 5.0 10.5.1)", async () => {
    const flow = flowOf(oidcOf());
    const { cookie, query } = await signIn(flow, { login: "alice" });
    const sealer = new StateSealer(STATE_SECRET);
    const payload = sealer.open(cookie);
    if (!payload) throw new Error("the cookie should open");
    const otherNonce = sealer.seal({
      ...payload,
      nonce: "another-nonce-0123456789abcdef0123456789",
    });
    const error = await flow.complete({ query, cookie: otherNonce }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthInvalidResponseError);
    expect(String((error as Error).message)).toMatch(/nonce/);
  });

  it("refuses a callback whose iss is another issuer: mix-up defence (RFC 9207, ASVS 5.0 10.2.2)", async () => {
    const flow = flowOf(oidcOf());
    const { cookie, query } = await signIn(flow, { login: "alice" });
    expect(query.get("iss")).toBe(oidc().issuer);
    query.set("iss", "https://attacker.example");
    await expect(flow.complete({ query, cookie })).rejects.toBeInstanceOf(
      OAuthInvalidResponseError,
    );
  });

  it("turns error=access_denied in the callback into OAUTH_PROVIDER_ERROR", async () => {
    const flow = flowOf(oidcOf());
    const { cookie, query } = await signIn(flow, { login: "alice", abort: true });
    expect(query.get("error")).toBe("access_denied");
    await expect(flow.complete({ query, cookie })).rejects.toMatchObject({
      code: "OAUTH_PROVIDER_ERROR",
      error: "access_denied",
    });
  });

  it("binds an association to the user who began it", async () => {
    const flow = flowOf(oidcOf(), {
      associateRedirectUri: "http://127.0.0.1:9/auth/associate/idp/callback",
    });
    const begun = await flow.begin({ purpose: "associate", userId: "user-7" });
    const callback = await signInAtProvider(begun.authorizationUrl, {
      login: "alice",
      callbackPrefix: flow.redirectUri("associate"),
    });
    const input = { query: callback.searchParams, cookie: begun.cookie.value };
    await expect(flow.complete({ ...input, purpose: "login" })).rejects.toBeInstanceOf(
      OAuthInvalidStateError,
    );
    await expect(
      flow.complete({ ...input, purpose: "associate", userId: "user-8" }),
    ).rejects.toBeInstanceOf(OAuthInvalidStateError);
    const done = await flow.complete({ ...input, purpose: "associate", userId: "user-7" });
    expect(done).toMatchObject({ purpose: "associate", userId: "user-7" });
    expect(done.profile.accountId).toBe("alice");
  });
});
