// The OAuth routers' tables and configuration checks, made when the routers are made (the flows against
// the real provider are in test/http/oauth.test.ts).
import {
  AuthenticationBackend,
  BearerTransport,
  ConfigurationError,
  type CookieSpec,
  CookieTransport,
  type Strategy,
  type UserProtocol,
} from "@tessera/core";
import type { Context } from "koa";
import { describe, expect, it } from "vitest";
import { type OAuthFlowLike, oauthAssociateRoutes, oauthRoutes } from "./oauth.js";

type User = UserProtocol<string>;

// A flow's configuration only: these tests never begin or complete a sign-in.
function flowAt(redirectUri: string, associateRedirectUri = redirectUri): OAuthFlowLike {
  const cookie: CookieSpec = {
    name: "__Host-tessera_oauth",
    value: "",
    path: "/",
    secure: true,
    httpOnly: true,
    sameSite: "lax",
  };
  return {
    provider: { name: "idp" },
    cookieName: cookie.name,
    redirectUri: (purpose = "login") => (purpose === "login" ? redirectUri : associateRedirectUri),
    begin: () => Promise.reject(new Error("not in these tests")),
    complete: () => Promise.reject(new Error("not in these tests")),
    clearCookie: () => cookie,
  };
}

const strategy = {} as Strategy<User, string>;
const bearer = new AuthenticationBackend<User, string, Context>({
  name: "jwt",
  transport: new BearerTransport({ tokenUrl: "auth/jwt/login" }),
  getStrategy: () => strategy,
});
const cookie = new AuthenticationBackend<User, string, Context>({
  name: "cookie",
  transport: new CookieTransport({ cookieSecure: false }),
  getStrategy: () => strategy,
});
const device = () => ({ ipAddress: null, userAgent: null });
const ok = "https://app.example/auth/idp/callback";

describe("oauthRoutes configuration", () => {
  it("makes FastAPI Users' operations", () => {
    const routes = oauthRoutes(flowAt(ok), bearer, { prefix: "/auth/idp" }, null, device);
    expect(routes.map((r) => `${r.method} ${r.path} ${r.operationId}`)).toEqual([
      "get /authorize oauth:idp.jwt.authorize",
      "get /callback oauth:idp.jwt.callback",
    ]);
    const flow = flowAt(ok, "https://app.example/auth/associate/idp/callback");
    expect(
      oauthAssociateRoutes(flow, (u: User) => ({ id: u.id }), {
        prefix: "/auth/associate/idp",
      }).map((r) => r.operationId),
    ).toEqual(["oauth-associate:idp.authorize", "oauth-associate:idp.callback"]);
  });

  it("redirectTo: cookie backends only, a path of this site or an http(s) URL", () => {
    expect(() =>
      oauthRoutes(flowAt(ok), bearer, { prefix: "/auth/idp", redirectTo: "/" }, null, device),
    ).toThrow(/no cookie backend/);
    for (const redirectTo of ["/welcome", "https://front.example/signed-in"]) {
      const [, callback] = oauthRoutes(
        flowAt(ok),
        cookie,
        { prefix: "/auth/idp", redirectTo },
        null,
        device,
      );
      expect(callback?.redirect).toContain(redirectTo);
    }
    for (const redirectTo of [
      "//evil.example",
      "/\\evil.example",
      "javascript:alert(1)",
      "https://user:pw@front.example/",
      "welcome",
    ]) {
      expect(() =>
        oauthRoutes(flowAt(ok), cookie, { prefix: "/auth/idp", redirectTo }, null, device),
      ).toThrow(ConfigurationError);
    }
  });
});
