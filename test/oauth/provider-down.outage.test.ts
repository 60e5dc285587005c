// A provider that is down, hangs, or answers garbage raises OAuthProviderUnavailableError
// (the router's 503 OAUTH_PROVIDER_UNAVAILABLE), never anything a router would turn into a
// 500; a failed discovery is not cached, so the provider works again once it is back.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { OAuthProviderUnavailableError, oidcProvider } from "@tessera/oauth";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../harness/net.js";
import { type RunningOidcProvider, startOidcProvider } from "../harness/oidc-provider.js";
import { flowOf, githubOf, oidc, oidcOf, signIn } from "./support.js";

const servers: Server[] = [];
const providers: RunningOidcProvider[] = [];
afterAll(async () => {
  await Promise.all(providers.map((p) => p.close()));
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen({ port: 0, host: "127.0.0.1" }, () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const providerAt = (issuer: string, timeoutSeconds = 5) =>
  oidcProvider({
    name: "idp",
    issuer,
    clientId: oidc().clientId,
    clientSecret: oidc().clientSecret,
    allowInsecureRequests: true,
    timeoutSeconds,
  });

describe("a provider that is down or answers garbage", () => {
  it("nothing listening: begin fails at once with the typed error, and works once it is up", async () => {
    const port = await freePort();
    const flow = flowOf(providerAt(`http://127.0.0.1:${port}`));
    const started = performance.now();
    const error = await flow.begin().catch((e: unknown) => e);
    const ms = performance.now() - started;
    expect(error).toBeInstanceOf(OAuthProviderUnavailableError);
    expect(error).toMatchObject({ code: "OAUTH_PROVIDER_UNAVAILABLE", provider: "idp" });
    // A refused connection is not waited on: well under the 5 s timeout.
    console.log(`provider down: begin refused in ${Math.round(ms)} ms`);
    expect(ms).toBeLessThan(5_000);

    const back = await startOidcProvider({ port });
    providers.push(back);
    const { authorizationUrl } = await flow.begin();
    expect(authorizationUrl.startsWith(back.info.issuer)).toBe(true);
  });

  it("stopped between begin and callback: complete fails with the typed error", async () => {
    const idp = await startOidcProvider();
    providers.push(idp);
    const flow = flowOf(oidcOf(idp.info));
    const { cookie, query } = await signIn(flow, { login: "alice" });
    await idp.close();
    await expect(flow.complete({ query, cookie })).rejects.toBeInstanceOf(
      OAuthProviderUnavailableError,
    );
  });

  it("garbage: an HTML page, a 500, metadata of another issuer (ASVS 5.0 10.5.3) — all unavailable", async () => {
    const html = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" }).end("<html>maintenance</html>");
    });
    const fiveHundred = await serve((_req, res) => {
      res.writeHead(500, { "content-type": "application/json" }).end("{}");
    });
    const otherIssuer = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          issuer: "https://elsewhere.example",
          authorization_endpoint: "https://elsewhere.example/auth",
        }),
      );
    });
    for (const issuer of [html, fiveHundred, otherIssuer]) {
      await expect(flowOf(providerAt(issuer)).begin()).rejects.toBeInstanceOf(
        OAuthProviderUnavailableError,
      );
    }
  });

  it("hangs: the request times out (timeoutSeconds) into the typed error", async () => {
    const hang = await serve(() => {
      /* never answers */
    });
    await expect(flowOf(providerAt(hang, 1)).begin()).rejects.toBeInstanceOf(
      OAuthProviderUnavailableError,
    );
  });

  it("a token endpoint answering a 502 page during the exchange is unavailable too", async () => {
    // The GitHub-style provider: authorization at the real provider, tokens behind a broken
    // proxy (a 502 HTML page, as a load balancer sends).
    const badGateway = await serve((_req, res) => {
      res.writeHead(502, { "content-type": "text/html" }).end("<h1>Bad gateway</h1>");
    });
    const info = oidc();
    const flow = flowOf(
      githubOf({ ...info, github: { ...info.github, token: `${badGateway}/token` } }),
    );
    const { cookie, query } = await signIn(flow, { login: "alice" });
    await expect(flow.complete({ query, cookie })).rejects.toBeInstanceOf(
      OAuthProviderUnavailableError,
    );
  });
});
