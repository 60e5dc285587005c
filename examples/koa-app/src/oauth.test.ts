import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.js";
import { createOAuth } from "./oauth.js";
import { deriveSecrets } from "./secrets.js";

const secrets = deriveSecrets("a master secret of at least 32 bytes!!");
const provider = {
  OAUTH_ACME_ISSUER: "https://id.acme.example",
  OAUTH_ACME_CLIENT_ID: "acme",
  OAUTH_ACME_CLIENT_SECRET: "acme-secret",
  OAUTH_GITHUB_CLIENT_ID: "gh",
  OAUTH_GITHUB_CLIENT_SECRET: "gh-secret",
};

describe("createOAuth", () => {
  it("no provider, no flow", () => {
    expect(createOAuth({ config: loadConfig({}), secrets, redis: undefined })).toEqual({
      providers: [],
      flows: new Map(),
    });
  });

  it("one flow per provider, its redirect URIs fixed by APP_URL (ASVS 5.0 10.4.1)", () => {
    const config = loadConfig({ ...provider, APP_URL: "https://app.example.com" });
    const { providers, flows } = createOAuth({ config, secrets, redis: undefined });
    expect(providers).toEqual([
      { name: "acme", label: "Acme" },
      { name: "github", label: "GitHub" },
    ]);
    const acme = flows.get("acme");
    expect(acme?.provider.name).toBe("acme");
    expect(acme?.redirectUri("login")).toBe("https://app.example.com/auth/acme/callback");
    expect(acme?.redirectUri("associate")).toBe(
      "https://app.example.com/auth/associate/acme/callback",
    );
    expect(flows.get("github")?.redirectUri()).toBe("https://app.example.com/auth/github/callback");
  });

  it("the state cookie is __Host- and Secure, except for plain http on this machine (ASVS 5.0 3.3.1)", () => {
    const secure = createOAuth({
      config: loadConfig({ ...provider, APP_URL: "https://app.example.com" }),
      secrets,
      redis: undefined,
    });
    expect(secure.flows.get("acme")?.cookieName).toBe("__Host-tessera_oauth");
    const local = createOAuth({ config: loadConfig(provider), secrets, redis: undefined });
    expect(local.flows.get("acme")?.cookieName).toBe("tessera_oauth");
  });
});
