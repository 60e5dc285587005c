// docs/oauth.md configures providers from environment variables in its first code block;
// this runs that block against the suite's OIDC provider and signs in through a flow it made.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { OAuthFlow } from "@tessera/oauth";
import { beforeAll, describe, expect, it } from "vitest";
import { signInAtProvider } from "../harness/oidc-browser.js";
import { oidc } from "./support.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const outDir = join(root, "test", "output", "oauth-docs");
const file = join(outDir, "oauth-flows.ts");

type Build = (env: Record<string, string | undefined>, baseUrl: string) => Map<string, OAuthFlow>;
let oauthFlows: Build;

beforeAll(async () => {
  const md = readFileSync(join(root, "docs", "oauth.md"), "utf8");
  const block = [...md.matchAll(/```ts\n([\s\S]*?)```/g)]
    .map((m) => m[1] ?? "")
    .find((code) => code.includes("export function oauthFlows"));
  if (!block) throw new Error("no oauthFlows block in docs/oauth.md");
  mkdirSync(outDir, { recursive: true });
  writeFileSync(file, block);
  writeFileSync(join(outDir, "package.json"), '{ "type": "module" }\n');
  ({ oauthFlows } = (await import(pathToFileURL(file).href)) as { oauthFlows: Build });
});

describe("docs/oauth.md", () => {
  it("builds a flow per configured provider and signs in through the generic OIDC one", async () => {
    const info = oidc();
    const env = {
      OAUTH_GOOGLE_CLIENT_ID: "google-client",
      OAUTH_GOOGLE_CLIENT_SECRET: "google-secret",
      OAUTH_GITHUB_CLIENT_ID: "github-client",
      OAUTH_GITHUB_CLIENT_SECRET: "github-secret",
      OAUTH_MY_IDP_ISSUER: info.issuer,
      OAUTH_MY_IDP_CLIENT_ID: info.clientId,
      OAUTH_MY_IDP_CLIENT_SECRET: info.clientSecret,
      OAUTH_ALLOW_HTTP_ISSUERS: "1",
      OAUTH_TOKEN_KEY_ID: "docs-1",
      OAUTH_TOKEN_KEY: "docs-token-key-of-at-least-32-bytes!!",
      OAUTH_STATE_SECRET: "docs-state-secret-of-at-least-32-bytes",
    };
    const flows = oauthFlows(env, "http://127.0.0.1:9");
    expect([...flows.keys()].sort()).toEqual(["github", "google", "my-idp"]);
    const flow = flows.get("my-idp") as OAuthFlow;
    expect(flow.redirectUri()).toBe("http://127.0.0.1:9/auth/my-idp/callback");
    expect(flow.redirectUri("associate")).toBe("http://127.0.0.1:9/auth/associate/my-idp/callback");
    const begun = await flow.begin();
    const callback = await signInAtProvider(begun.authorizationUrl, {
      login: "alice",
      callbackPrefix: flow.redirectUri(),
    });
    const done = await flow.complete({ query: callback.searchParams, cookie: begun.cookie.value });
    expect(done.callbackInput).toMatchObject({
      oauthName: "my-idp",
      accountId: "alice",
      accountEmail: "alice@example.com",
      emailVerified: true,
    });
    expect(done.accessToken.startsWith("v1.docs-1.")).toBe(true);
  });

  it("refuses to start without the secrets it needs", () => {
    expect(() => oauthFlows({ OAUTH_GITHUB_CLIENT_ID: "x" }, "http://127.0.0.1:9")).toThrow(
      /OAUTH_GITHUB_CLIENT_SECRET is not set/,
    );
  });
});
