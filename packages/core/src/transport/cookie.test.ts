import { afterEach, describe, expect, it, vi } from "vitest";
import { ConfigurationError } from "../errors.js";
import { authRequest } from "../test-utils/request.js";
import { MAX_TOKEN_LENGTH } from "./base.js";
import {
  CookieTransport,
  type CookieTransportOptions,
  MAX_COOKIE_BYTES,
  serializeCookie,
} from "./cookie.js";

describe("CookieTransport options", () => {
  it("defaults to tessera_auth, path /, Secure, HttpOnly, SameSite=Lax, session cookie", () => {
    const transport = new CookieTransport();
    expect(transport).toMatchObject({
      cookieName: "tessera_auth",
      cookiePath: "/",
      cookieSecure: true,
      cookieHttpOnly: true,
      cookieSameSite: "lax",
      cookieMaxAge: undefined,
      cookieDomain: undefined,
    });
    expect(transport.openapi.securityScheme).toEqual({
      type: "apiKey",
      in: "cookie",
      name: "tessera_auth",
    });
  });

  it("accepts valid custom options, including valid prefixes", () => {
    expect(
      () =>
        new CookieTransport({
          cookieName: "__Secure-auth",
          cookieMaxAge: 3600,
          cookiePath: "/api/v1",
          cookieDomain: ".example.com",
          cookieSameSite: "strict",
        }),
    ).not.toThrow();
    expect(() => new CookieTransport({ cookieName: "__Host-auth" })).not.toThrow();
    expect(() => new CookieTransport({ cookieSameSite: "none" })).not.toThrow();
    expect(() => new CookieTransport({ cookieSecure: false, cookieHttpOnly: false })).not.toThrow();
  });

  it.each<[string, CookieTransportOptions]>([
    ["an empty name", { cookieName: "" }],
    ["a name with a space", { cookieName: "my cookie" }],
    ["a name with =", { cookieName: "a=b" }],
    ["a name with ;", { cookieName: "a;b" }],
    ["a non-ASCII name", { cookieName: "jéton" }],
    ["a relative path", { cookiePath: "api" }],
    ["an empty path", { cookiePath: "" }],
    ["a path with ;", { cookiePath: "/a;Domain=evil.com" }],
    ["a path with a newline", { cookiePath: "/a\r\nSet-Cookie: x=y" }],
    ["a domain with a port", { cookieDomain: "example.com:443" }],
    ["a domain with ;", { cookieDomain: "example.com; Secure" }],
    ["an empty domain", { cookieDomain: "" }],
    ["a domain with a scheme", { cookieDomain: "https://example.com" }],
    ["a zero maxAge", { cookieMaxAge: 0 }],
    ["a negative maxAge", { cookieMaxAge: -1 }],
    ["a fractional maxAge", { cookieMaxAge: 1.5 }],
    ["a NaN maxAge", { cookieMaxAge: Number.NaN }],
    ["an unknown SameSite", { cookieSameSite: "Lax" as "lax" }],
    ["SameSite=None without Secure", { cookieSameSite: "none", cookieSecure: false }],
    ["__Secure- without Secure", { cookieName: "__Secure-auth", cookieSecure: false }],
    ["__Host- without Secure", { cookieName: "__Host-auth", cookieSecure: false }],
    ["__Host- with a path", { cookieName: "__Host-auth", cookiePath: "/api" }],
    ["__Host- with a domain", { cookieName: "__Host-auth", cookieDomain: "example.com" }],
  ])("refuses %s with a ConfigurationError", (_, options) => {
    expect(() => new CookieTransport(options)).toThrow(ConfigurationError);
  });

  // Bug: prefixes were matched case-sensitively, but RFC 6265bis (draft 14 on) and current
  // browsers match `__Secure-`/`__Host-` case-insensitively, so "__host-auth" without Secure
  // passed construction and then every login cookie was silently dropped by the browser.
  it.each<[string, CookieTransportOptions]>([
    ["__secure- without Secure", { cookieName: "__secure-auth", cookieSecure: false }],
    ["__SECURE- without Secure", { cookieName: "__SECURE-auth", cookieSecure: false }],
    ["__host- with a domain", { cookieName: "__host-auth", cookieDomain: "example.com" }],
    ["__HoSt- with a path", { cookieName: "__HoSt-auth", cookiePath: "/api" }],
  ])("refuses %s (cookie prefixes are case-insensitive)", (_, options) => {
    expect(() => new CookieTransport(options)).toThrow(ConfigurationError);
  });
});

describe("cookie size (ASVS 5.0 3.3.5)", () => {
  it("construction fails for options that would make an oversized Set-Cookie", () => {
    expect(() => new CookieTransport({ cookieName: "n".repeat(3073) })).toThrow(ConfigurationError);
    expect(() => new CookieTransport({ cookieName: "n".repeat(3072) })).not.toThrow();
    expect(() => new CookieTransport({ cookiePath: `/${"p".repeat(1024)}` })).toThrow(
      ConfigurationError,
    );
    expect(() => new CookieTransport({ cookieDomain: `${"d".repeat(1017)}.example` })).toThrow(
      ConfigurationError,
    );
  });

  it("refuses at read a value whose name and value pass 4096 bytes", () => {
    const transport = new CookieTransport({ cookieName: "auth" });
    const fits = "a".repeat(MAX_COOKIE_BYTES - 4);
    expect(transport.readToken(authRequest({}, { auth: fits }))).toBe(fits);
    expect(transport.readToken(authRequest({}, { auth: `${fits}a` }))).toBeNull();
  });

  it("a token too large for a cookie fails the login loudly instead of a cookie browsers drop", () => {
    const transport = new CookieTransport({ cookieName: "auth" });
    expect(() => transport.loginResponse("a".repeat(MAX_COOKIE_BYTES - 4))).not.toThrow();
    expect(() => transport.loginResponse("a".repeat(MAX_COOKIE_BYTES - 3))).toThrow(
      ConfigurationError,
    );
  });

  it("ASVS 5.0 3.3.1, 3.3.3: the __Host- prefix is available and its rules are enforced", () => {
    const [cookie] =
      new CookieTransport({ cookieName: "__Host-auth" }).loginResponse("tok").cookies ?? [];
    expect(cookie).toMatchObject({ name: "__Host-auth", path: "/", secure: true });
    expect(cookie).not.toHaveProperty("domain");
  });
});

describe("CookieTransport.readToken", () => {
  const transport = new CookieTransport({ cookieName: "auth" });

  it("reads the named cookie", () => {
    expect(transport.readToken(authRequest({}, { auth: "abc.def-ghi_jkl" }))).toBe(
      "abc.def-ghi_jkl",
    );
    expect(transport.readToken(authRequest({}, { other: "abc" }))).toBeNull();
  });

  it.each([
    ["empty", ""],
    ["a quoted value", '"abc"'],
    ["a value with a space", "a b"],
    ["a value with ;", "a;b"],
    ["a value with a comma", "a,b"],
    ["a non-ASCII value", "tökén"],
    ["an oversized value", "a".repeat(MAX_TOKEN_LENGTH + 1)],
    ["a value past the cookie size", "a".repeat(4093)],
  ])("answers null for %s", (_, value) => {
    expect(transport.readToken(authRequest({}, { auth: value }))).toBeNull();
  });

  it("ignores an Authorization header", () => {
    expect(transport.readToken(authRequest({ authorization: "Bearer abc" }))).toBeNull();
  });
});

describe("CookieTransport responses", () => {
  it("answers login with 204, the token cookie and no-store caching", () => {
    const transport = new CookieTransport({ cookieMaxAge: 3600, cookieDomain: "example.com" });
    expect(transport.loginResponse("tok")).toEqual({
      status: 204,
      headers: { "cache-control": "no-store", pragma: "no-cache" },
      cookies: [
        {
          name: "tessera_auth",
          value: "tok",
          maxAge: 3600,
          path: "/",
          domain: "example.com",
          secure: true,
          httpOnly: true,
          sameSite: "lax",
        },
      ],
    });
  });

  it("sets a session cookie (no maxAge) by default", () => {
    const [cookie] = new CookieTransport().loginResponse("tok").cookies ?? [];
    expect(cookie).not.toHaveProperty("maxAge");
    expect(cookie).not.toHaveProperty("domain");
  });

  it("answers logout with 204 and an expiring cookie on the same path and domain", () => {
    const transport = new CookieTransport({ cookiePath: "/api", cookieDomain: "example.com" });
    expect(transport.logoutResponse()).toEqual({
      status: 204,
      headers: { "cache-control": "no-store", pragma: "no-cache" },
      cookies: [
        {
          name: "tessera_auth",
          value: "",
          maxAge: 0,
          path: "/api",
          domain: "example.com",
          secure: true,
          httpOnly: true,
          sameSite: "lax",
        },
      ],
    });
  });
});

describe("serializeCookie", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("serializes every attribute", () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2030-01-01T00:00:00Z"));
    expect(
      serializeCookie({
        name: "tessera_auth",
        value: "tok",
        maxAge: 3600,
        path: "/",
        domain: "example.com",
        secure: true,
        httpOnly: true,
        sameSite: "lax",
      }),
    ).toBe(
      "tessera_auth=tok; Max-Age=3600; Expires=Tue, 01 Jan 2030 01:00:00 GMT; Domain=example.com; Path=/; Secure; HttpOnly; SameSite=Lax",
    );
  });

  it("serializes a session cookie without flags", () => {
    expect(
      serializeCookie({
        name: "a",
        value: "b",
        path: "/x",
        secure: false,
        httpOnly: false,
        sameSite: "strict",
      }),
    ).toBe("a=b; Path=/x; SameSite=Strict");
  });

  it("serializes the logout cookie as expired at the epoch", () => {
    const [cookie] = new CookieTransport({ cookieSameSite: "none" }).logoutResponse().cookies ?? [];
    expect(serializeCookie(cookie as NonNullable<typeof cookie>)).toBe(
      "tessera_auth=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; Secure; HttpOnly; SameSite=None",
    );
  });

  // Bug: serializeCookie wrote name and value verbatim, so a value (a token from any
  // strategy, or a caller's own spec) holding ";" or CR/LF could add attributes such as
  // `Domain=evil.com` or split the header.
  it.each([
    ["value", { value: "tok; Domain=evil.com" }],
    ["value", { value: "tok\r\nSet-Cookie: admin=1" }],
    ["value", { value: "a b" }],
    ["name", { name: "a=b" }],
    ["name", { name: "" }],
    ["path", { path: "/; Domain=evil.com" }],
    ["domain", { domain: "evil.com; Secure" }],
    ["maxAge", { maxAge: Number.NaN }],
    ["sameSite", { sameSite: "lax; Domain=evil.com" as "lax" }],
  ])("refuses an invalid cookie %s instead of injecting attributes", (_, override) => {
    const spec = {
      name: "tessera_auth",
      value: "tok",
      path: "/",
      secure: true,
      httpOnly: true,
      sameSite: "lax" as const,
      ...override,
    };
    expect(() => serializeCookie(spec)).toThrow(TypeError);
  });
});

describe("CookieTransport refresh cookie (ASVS 5.0 7.2.4)", () => {
  const grant = {
    refreshToken: "rt.abc",
    expiresIn: 900,
    refreshExpiresIn: 1209600,
    refreshPath: "/auth/refresh-cookie/refresh",
  };

  it("sets the access cookie as before and a refresh cookie scoped to the refresh route", () => {
    const transport = new CookieTransport({ cookieName: "auth", cookieSameSite: "lax" });
    const response = transport.loginResponse("acc", grant);
    expect(response.status).toBe(204);
    expect(response.cookies?.[0]).toMatchObject({ name: "auth", value: "acc", path: "/" });
    // HttpOnly and SameSite=Strict whatever the access cookie's settings.
    expect(response.cookies?.[1]).toEqual({
      name: "auth_refresh",
      value: "rt.abc",
      path: "/auth/refresh-cookie/refresh",
      maxAge: 1209600,
      secure: true,
      httpOnly: true,
      sameSite: "strict",
    });
    expect(serializeCookie(response.cookies?.[1] as never)).toMatch(
      /^auth_refresh=rt\.abc; Max-Age=1209600; Expires=.*; Path=\/auth\/refresh-cookie\/refresh; Secure; HttpOnly; SameSite=Strict$/,
    );
  });

  it("stays HttpOnly when the access cookie is readable by scripts", () => {
    const transport = new CookieTransport({ cookieHttpOnly: false });
    expect(transport.loginResponse("acc", grant).cookies?.[1]?.httpOnly).toBe(true);
  });

  it("clears both cookies on logout when the refresh path is given", () => {
    const transport = new CookieTransport({ cookieName: "auth" });
    const cookies = transport.logoutResponse({ refreshPath: grant.refreshPath }).cookies;
    expect(cookies?.map((c) => [c.name, c.value, c.maxAge, c.path])).toEqual([
      ["auth", "", 0, "/"],
      ["auth_refresh", "", 0, grant.refreshPath],
    ]);
    expect(transport.logoutResponse().cookies).toHaveLength(1);
  });

  it("reads the refresh token from its own cookie only", () => {
    const transport = new CookieTransport({ cookieName: "auth" });
    expect(transport.readRefreshToken(authRequest({}, { auth_refresh: "rt.x" }))).toBe("rt.x");
    expect(transport.readRefreshToken(authRequest({}, { auth: "rt.x" }))).toBeNull();
    expect(transport.readRefreshToken(authRequest({}, { auth_refresh: '"x"' }))).toBeNull();
  });

  it("names the refresh cookie __Secure- for a __Host- access cookie, and refuses bad names", () => {
    expect(new CookieTransport({ cookieName: "__Host-auth" }).refreshCookieName).toBe(
      "__Secure-auth_refresh",
    );
    expect(() => new CookieTransport({ refreshCookieName: "__Host-r" })).toThrow(
      ConfigurationError,
    );
    expect(() => new CookieTransport({ cookieName: "a", refreshCookieName: "a" })).toThrow(
      ConfigurationError,
    );
    expect(() => new CookieTransport({ refreshCookieName: "a b" })).toThrow(ConfigurationError);
  });

  it("refuses a refresh path that could add cookie attributes", () => {
    const transport = new CookieTransport();
    expect(() => transport.loginResponse("acc", { ...grant, refreshPath: "/a;Domain=x" })).toThrow(
      ConfigurationError,
    );
  });
});
