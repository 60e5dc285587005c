// The suite's OIDC provider itself: it serves its metadata, requires PKCE S256, refuses a
// callback off loopback, and its GitHub-style API answers only for tokens it issued.
import { describe, expect, it } from "vitest";
import { signInAtProvider } from "./oidc-browser.js";
import { oidcInfo } from "./oidc-test-info.js";

describe("the suite's OIDC provider", () => {
  it("serves its discovery document, with PKCE S256 only", async () => {
    const { issuer } = oidcInfo();
    const meta = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as {
      issuer: string;
      code_challenge_methods_supported: string[];
      authorization_response_iss_parameter_supported: boolean;
    };
    expect(meta.issuer).toBe(issuer);
    expect(meta.code_challenge_methods_supported).toEqual(["S256"]);
    expect(meta.authorization_response_iss_parameter_supported).toBe(true);
  });

  it("refuses a callback that is not http://127.0.0.1", async () => {
    const { issuer, clientId } = oidcInfo();
    const url = new URL(`${issuer}/auth`);
    url.search = new URLSearchParams({
      client_id: clientId,
      response_type: "code",
      redirect_uri: "https://elsewhere.example/callback",
      scope: "openid",
      state: "s".repeat(43),
      code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
      code_challenge_method: "S256",
    }).toString();
    await expect(signInAtProvider(url.href, { login: "alice" })).rejects.toThrow(/redirect_uri/);
  });

  it("its GitHub-style API refuses a missing or unknown token", async () => {
    const { github } = oidcInfo();
    expect((await fetch(`${github.api}/user`)).status).toBe(401);
    const bogus = await fetch(`${github.api}/user/emails`, {
      headers: { authorization: "Bearer not-a-token" },
    });
    expect(bogus.status).toBe(401);
  });
});
