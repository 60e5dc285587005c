import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startApp, type TestApp } from "../support/app.js";
import { bearerMode, cookieMode, modes, register, request } from "../support/client.js";

let app: TestApp;
afterEach(async () => app?.close());

describe("POST /auth/{backend}/login", () => {
  beforeEach(async () => {
    app = await startApp();
    await register(app.url, "alice@example.com");
  });

  it("Bearer: 200 with access_token, token_type bearer and Cache-Control: no-store", async () => {
    const res = await request(`${app.url}/auth/jwt/login`, {
      form: { username: "alice@example.com", password: "correct horse battery" },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ token_type: "bearer", access_token: expect.any(String) });
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("Cookie: 204 with an HttpOnly, SameSite=Lax cookie and Cache-Control: no-store", async () => {
    const res = await request(`${app.url}/auth/cookie/login`, {
      form: { username: "alice@example.com", password: "correct horse battery" },
    });
    expect(res.status).toBe(204);
    const [auth, csrf] = res.headers.getSetCookie();
    expect(auth).toMatch(
      /^tessera_auth=[^;]+; Max-Age=3600; Expires=[^;]+; Path=\/; HttpOnly; SameSite=Lax$/,
    );
    // The CSRF double-submit token: same scope, readable by the page (not HttpOnly).
    expect(csrf).toMatch(
      /^tessera_csrf=[\w-]+\.[\w-]+; Max-Age=3600; Expires=[^;]+; Path=\/; SameSite=Lax$/,
    );
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("the email is matched case-insensitively", async () => {
    const res = await request(`${app.url}/auth/jwt/login`, {
      form: { username: "ALICE@Example.COM", password: "correct horse battery" },
    });
    expect(res.status).toBe(200);
  });

  it.each([
    ["wrong password", "alice@example.com", "wrong password!"],
    ["unknown email", "nobody@example.com", "correct horse battery"],
  ])("%s -> 400 LOGIN_BAD_CREDENTIALS", async (_name, username, password) => {
    const res = await request(`${app.url}/auth/jwt/login`, { form: { username, password } });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ detail: "LOGIN_BAD_CREDENTIALS" });
  });

  it("an inactive user -> 400 LOGIN_BAD_CREDENTIALS", async () => {
    const user = await app.userDb.getByEmail("alice@example.com");
    if (!user) throw new Error("no user");
    await app.userDb.update(user, { isActive: false });
    const res = await request(`${app.url}/auth/jwt/login`, {
      form: { username: "alice@example.com", password: "correct horse battery" },
    });
    expect(res).toMatchObject({ status: 400, body: { detail: "LOGIN_BAD_CREDENTIALS" } });
  });

  it("missing fields -> 422 with a FastAPI-shaped detail list", async () => {
    const res = await request(`${app.url}/auth/jwt/login`, {
      form: { username: "alice@example.com" },
    });
    expect(res.status).toBe(422);
    expect(res.body).toEqual({
      detail: [{ type: "missing", loc: ["body", "password"], msg: "Field required" }],
    });
  });

  it("a JSON body instead of a form -> 422 (fields missing), not 500", async () => {
    const res = await request(`${app.url}/auth/jwt/login`, {
      json: { username: "alice@example.com", password: "correct horse battery" },
    });
    expect(res.status).toBe(422);
  });

  it("grant_type other than 'password' -> 422", async () => {
    const res = await request(`${app.url}/auth/jwt/login`, {
      form: {
        username: "alice@example.com",
        password: "correct horse battery",
        grant_type: "client_credentials",
      },
    });
    expect(res.status).toBe(422);
  });
});

describe("requiresVerification", () => {
  beforeEach(async () => {
    app = await startApp({ requiresVerification: true });
    await register(app.url, "bob@example.com");
  });

  it("an unverified user -> 400 LOGIN_USER_NOT_VERIFIED", async () => {
    const res = await request(`${app.url}/auth/jwt/login`, {
      form: { username: "bob@example.com", password: "correct horse battery" },
    });
    expect(res).toMatchObject({ status: 400, body: { detail: "LOGIN_USER_NOT_VERIFIED" } });
  });

  it("a verified user logs in", async () => {
    const user = await app.userDb.getByEmail("bob@example.com");
    if (!user) throw new Error("no user");
    await app.userDb.update(user, { isVerified: true });
    const headers = await bearerMode.login(app.url, "bob@example.com", "correct horse battery");
    expect(headers.authorization).toMatch(/^Bearer /);
  });
});

describe.each(modes)("POST /auth/$name/logout", (mode) => {
  beforeEach(async () => {
    app = await startApp();
    await register(app.url, "carol@example.com");
  });

  it("ASVS 5.0 7.4.1: logout answers 204 and the token no longer authenticates", async () => {
    const headers = await mode.login(app.url, "carol@example.com", "correct horse battery");
    expect((await request(`${app.url}/users/me`, { headers })).status).toBe(200);
    const res = await request(`${app.url}/auth/${mode.name}/logout`, { method: "POST", headers });
    expect(res.status).toBe(204);
    if (mode === cookieMode) {
      expect(res.headers.get("set-cookie")).toMatch(
        /^tessera_auth=; Max-Age=0; Expires=Thu, 01 Jan 1970/,
      );
    }
    expect((await request(`${app.url}/users/me`, { headers })).status).toBe(401);
  });

  it("without a token -> 401", async () => {
    const res = await request(`${app.url}/auth/${mode.name}/logout`, { method: "POST" });
    expect(res).toMatchObject({ status: 401, body: { detail: "Unauthorized" } });
  });
});

describe("logout uses the backend that read the token", () => {
  beforeEach(async () => {
    app = await startApp();
    await register(app.url, "dave@example.com");
  });

  it("a Bearer token sent to the cookie backend's logout -> 401 and stays valid", async () => {
    const headers = await bearerMode.login(app.url, "dave@example.com", "correct horse battery");
    const res = await request(`${app.url}/auth/cookie/logout`, { method: "POST", headers });
    expect(res.status).toBe(401);
    expect((await request(`${app.url}/users/me`, { headers })).status).toBe(200);
  });
});

describe("a strategy that cannot destroy tokens", () => {
  beforeEach(async () => {
    app = await startApp({ statelessJwt: true });
    await register(app.url, "erin@example.com");
  });

  it("logout still answers the transport's logout response", async () => {
    const headers = await cookieMode.login(app.url, "erin@example.com", "correct horse battery");
    const res = await request(`${app.url}/auth/cookie/logout`, { method: "POST", headers });
    expect(res.status).toBe(204);
    expect(res.headers.get("set-cookie")).toMatch(/^tessera_auth=; Max-Age=0/);
  });
});
