import { describe, expect, it } from "vitest";
import { authRequest } from "../test-utils/request.js";
import { MAX_TOKEN_LENGTH } from "./base.js";
import { BearerTransport } from "./bearer.js";

const transport = new BearerTransport({ tokenUrl: "auth/jwt/login" });
const read = (authorization?: string) =>
  transport.readToken(authRequest(authorization === undefined ? {} : { authorization }));

describe("BearerTransport.readToken", () => {
  it("reads the token after a case-insensitive Bearer scheme", () => {
    expect(read("Bearer abc.DEF-ghi_jkl")).toBe("abc.DEF-ghi_jkl");
    expect(read("bearer abc")).toBe("abc");
    expect(read("BEARER abc")).toBe("abc");
    expect(read("BeArEr abc+/~==")).toBe("abc+/~==");
  });

  it("trims whitespace around the token, as before the fast path for 'Bearer '", () => {
    expect(read("Bearer  abc")).toBe("abc");
    expect(read("Bearer abc ")).toBe("abc");
    expect(read("Bearer abc\t")).toBe("abc");
    expect(read("Bearer abc\u00a0")).toBe("abc");
  });

  it("reads a token of the maximum length", () => {
    const token = "a".repeat(MAX_TOKEN_LENGTH);
    expect(read(`Bearer ${token}`)).toBe(token);
  });

  it.each([
    ["missing", undefined],
    ["empty header", ""],
    ["scheme only", "Bearer"],
    ["empty token", "Bearer "],
    ["blank token", "Bearer    "],
    ["Basic scheme", "Basic dXNlcjpwYXNz"],
    ["Token scheme", "Token abc"],
    ["scheme prefix", "Bearerish abc"],
    ["no scheme", "abc"],
    ["two tokens", "Bearer abc def"],
    ["garbage characters", 'Bearer abc"<script>'],
    ["a comma list", "Bearer abc, Basic xyz"],
    ["padding in the middle", "Bearer ab=c"],
    ["non-ASCII", "Bearer tökén"],
    ["a control character", "Bearer abc\u0000"],
    ["oversized", `Bearer ${"a".repeat(MAX_TOKEN_LENGTH + 1)}`],
  ])("answers null for %s", (_, header) => {
    expect(read(header)).toBeNull();
  });
});

describe("BearerTransport responses", () => {
  it("answers login with 200, the OAuth2 token body and no-store caching", () => {
    expect(transport.loginResponse("tok")).toEqual({
      status: 200,
      body: { access_token: "tok", token_type: "bearer" },
      headers: { "cache-control": "no-store", pragma: "no-cache" },
    });
  });

  it("answers logout with 204 and no body", () => {
    expect(transport.logoutResponse()).toEqual({ status: 204 });
  });

  it("describes an OAuth2 password flow at tokenUrl for OpenAPI", () => {
    expect(transport.tokenUrl).toBe("auth/jwt/login");
    expect(transport.openapi.securityScheme).toEqual({
      type: "oauth2",
      flows: { password: { tokenUrl: "auth/jwt/login", scopes: {} } },
    });
    expect(Object.keys(transport.openapi.loginResponses)).toEqual(["200"]);
    expect(Object.keys(transport.openapi.logoutResponses)).toEqual(["204"]);
  });

  it("hands out a fresh headers object per response (the shared constant stays frozen)", () => {
    const a = transport.loginResponse("a");
    (a.headers as Record<string, string>)["x-extra"] = "1";
    expect(transport.loginResponse("b").headers).not.toHaveProperty("x-extra");
  });
});

describe("BearerTransport with a refresh grant", () => {
  it("adds refresh_token and expires_in to the RFC 6749 §5.1 body, access_token unchanged", () => {
    const response = transport.loginResponse("acc", {
      refreshToken: "ref",
      expiresIn: 900,
      refreshExpiresIn: 86_400,
      refreshPath: "/auth/refresh/refresh",
    });
    expect(response).toEqual({
      status: 200,
      body: { access_token: "acc", token_type: "bearer", refresh_token: "ref", expires_in: 900 },
      headers: { "cache-control": "no-store", pragma: "no-cache" },
    });
    expect(response.cookies).toBeUndefined();
  });
});
