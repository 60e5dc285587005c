import { describe, expect, it } from "vitest";
import { github, google, microsoft } from "./presets.js";

describe("ready-made providers", () => {
  it("names and kinds", () => {
    const creds = { clientId: "id", clientSecret: "secret" };
    expect(github(creds)).toMatchObject({ name: "github", kind: "oauth2" });
    expect(github(creds).defaultScopes).toEqual(["read:user", "user:email"]);
    expect(google(creds)).toMatchObject({ name: "google", kind: "oidc" });
    expect(google({ ...creds, name: "work-google" }).name).toBe("work-google");
    const tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    expect(microsoft({ ...creds, tenant })).toMatchObject({ name: "microsoft", kind: "oidc" });
    expect(microsoft({ ...creds, tenant: "consumers" }).kind).toBe("oidc");
  });

  it("refuses Microsoft tenants whose issuer openid-client cannot check", () => {
    const creds = { clientId: "id", clientSecret: "secret" };
    for (const tenant of ["common", "organizations", "contoso.com", "x/../y"]) {
      expect(() => microsoft({ ...creds, tenant })).toThrow(TypeError);
    }
  });

  it("refuses a provider name that cannot appear in routes and cookies", () => {
    expect(() => google({ clientId: "i", clientSecret: "s", name: "Bad Name" })).toThrow(TypeError);
  });

  it("builds GitHub's authorization URL with PKCE S256 and state, no nonce", async () => {
    const url = await github({ clientId: "id", clientSecret: "s" }).authorizationUrl({
      redirectUri: "https://app.example/cb",
      state: "st",
      codeChallenge: "cc",
      nonce: "nn",
      scopes: ["user:email"],
    });
    expect(url.origin + url.pathname).toBe("https://github.com/login/oauth/authorize");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: "id",
      response_type: "code",
      redirect_uri: "https://app.example/cb",
      scope: "user:email",
      state: "st",
      code_challenge: "cc",
      code_challenge_method: "S256",
    });
  });
});
