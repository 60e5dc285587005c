import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startApp, type TestApp } from "../support/app.js";
import { register, request } from "../support/client.js";

// Issue 14: plain HTML forms (piccolo's session_login; FastAPI Users #372, #434) log in and
// out of a cookie backend with 303 See Other, and never redirect off the site.
let app: TestApp;
const PASSWORD = "correct horse battery";
afterEach(async () => app.close());

// What a browser sends when a page's <form method="post"> is submitted.
const BROWSER = (url: string) => ({
  accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
  origin: url,
  "sec-fetch-site": "same-origin",
});

const formLogin = (fields: Record<string, string> = {}, query = "", password = PASSWORD) =>
  request(`${app.url}/auth/cookie/login${query}`, {
    form: { username: "form@example.com", password, ...fields },
    headers: BROWSER(app.url),
  });
const authCookie = (res: { headers: Headers }) =>
  res.headers
    .getSetCookie()
    .find((c) => c.startsWith("tessera_auth="))
    ?.split(";")[0];

describe("formRedirect on the cookie backend", () => {
  beforeEach(async () => {
    app = await startApp({
      docs: true,
      formRedirect: { success: "/home", failure: "/login?error=1", allowed: ["/app"] },
    });
    await register(app.url, "form@example.com");
  });

  it("a browser form's login answers 303 to the configured path, with the session cookie", async () => {
    const res = await formLogin();
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/home");
    const cookie = authCookie(res);
    expect(cookie).toMatch(/^tessera_auth=./);
    const me = await request(`${app.url}/users/me`, { headers: { cookie: cookie ?? "" } });
    expect(me).toMatchObject({ status: 200, body: { email: "form@example.com" } });
  });

  it("an API client (no Accept: text/html) keeps the API's answers: 204, and 400 JSON", async () => {
    const ok = await request(`${app.url}/auth/cookie/login`, {
      form: { username: "form@example.com", password: PASSWORD },
    });
    expect(ok.status).toBe(204);
    expect(ok.headers.get("location")).toBeNull();
    const bad = await request(`${app.url}/auth/cookie/login`, {
      form: { username: "form@example.com", password: "wrong password!" },
    });
    expect(bad).toMatchObject({ status: 400, body: { detail: "LOGIN_BAD_CREDENTIALS" } });
  });

  it("a refused form login answers 303 to the failure path, with no cookie", async () => {
    const res = await formLogin({}, "", "wrong password!");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/login?error=1");
    expect(authCookie(res)).toBeUndefined();
  });

  it("an allowed `next` (form field, else query) is followed", async () => {
    const field = await formLogin({ next: "/app/settings?tab=1#top" });
    expect(field.headers.get("location")).toBe("/app/settings?tab=1#top");
    const query = await formLogin({}, "?next=/app");
    expect(query.headers.get("location")).toBe("/app");
  });

  it.each([
    ["an absolute URL to another origin", "https://evil.example/app"],
    ["a scheme-relative URL", "//evil.example/app"],
    ["a backslash after the slash", "/\\evil.example/app"],
    ["backslashes only", "\\\\evil.example\\app"],
    ["a javascript: URL", "javascript:alert(1)"],
    ["a data: URL", "data:text/html,<script>alert(1)</script>"],
    ["a scheme without slashes", "http:evil.example"],
    ["a tab browsers strip into //", "/\t/evil.example"],
    ["a newline", "/app\n/x"],
    ["a leading space", " /app"],
    ["dot segments leaving the allowed prefix", "/app/../admin"],
    ["a path that only starts like the prefix", "/application"],
    ["a path outside the allowed prefixes", "/admin"],
    ["a relative path", "app/x"],
    ["an over-long path", `/app/${"a".repeat(3000)}`],
  ])("refuses %s: the configured path instead", async (_, next) => {
    const res = await formLogin({ next });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/home");
    const query = await formLogin({}, `?next=${encodeURIComponent(next)}`);
    expect(query.headers.get("location")).toBe("/home");
  });

  it("a form logout answers 303 (to `success`, or an allowed `next`) and clears the cookie", async () => {
    for (const [query, location] of [
      ["", "/home"],
      ["?next=/app/bye", "/app/bye"],
      ["?next=//evil.example", "/home"],
      [`?next=${encodeURIComponent("https://evil.example")}`, "/home"],
    ] as const) {
      const cookie = authCookie(await formLogin()) ?? "";
      const res = await request(`${app.url}/auth/cookie/logout${query}`, {
        method: "POST",
        headers: { ...BROWSER(app.url), cookie },
      });
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toBe(location);
      expect(res.headers.get("set-cookie")).toMatch(/tessera_auth=; Max-Age=0/);
      expect((await request(`${app.url}/users/me`, { headers: { cookie } })).status).toBe(401);
    }
  });

  it("a form logout whose cookie expired meanwhile still clears it and answers 303, not a JSON 401", async () => {
    const cookie = authCookie(await formLogin()) ?? "";
    // The session ends elsewhere (another tab, a timeout): the cookie no longer signs in.
    const first = await request(`${app.url}/auth/cookie/logout`, {
      method: "POST",
      headers: { ...BROWSER(app.url), cookie },
    });
    expect(first.status).toBe(303);
    const again = await request(`${app.url}/auth/cookie/logout?next=/app/bye`, {
      method: "POST",
      headers: { ...BROWSER(app.url), cookie },
    });
    expect(again.status).toBe(303);
    expect(again.headers.get("location")).toBe("/app/bye");
    expect(again.headers.get("set-cookie")).toMatch(/tessera_auth=; Max-Age=0/);
    // An API client without a session still gets the API's 401.
    const api = await request(`${app.url}/auth/cookie/logout`, {
      method: "POST",
      headers: { cookie, origin: app.url },
    });
    expect(api.status).toBe(401);
  });

  it("a cross-site form is still refused (login CSRF): 403, no redirect", async () => {
    const res = await request(`${app.url}/auth/cookie/login`, {
      form: { username: "form@example.com", password: PASSWORD, next: "/app" },
      headers: { ...BROWSER("https://evil.example"), "sec-fetch-site": "cross-site" },
    });
    expect(res).toMatchObject({ status: 403, body: { detail: "CSRF_FAILED" } });
  });

  it("the OpenAPI document states the 303 on the cookie backend's login and logout only", async () => {
    const doc = (await request(`${app.url}/openapi.json`)).body as {
      paths: Record<string, { post: { responses: Record<string, unknown> } }>;
    };
    expect(doc.paths["/auth/cookie/login"]?.post.responses["303"]).toBeDefined();
    expect(doc.paths["/auth/cookie/logout"]?.post.responses["303"]).toBeDefined();
    expect(doc.paths["/auth/jwt/login"]?.post.responses["303"]).toBeUndefined();
  });
});

describe("without formRedirect", () => {
  it("a browser form's login answers as today (204)", async () => {
    app = await startApp();
    await register(app.url, "form@example.com");
    const res = await formLogin();
    expect(res.status).toBe(204);
    expect(res.headers.get("location")).toBeNull();
  });
});
