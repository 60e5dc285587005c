// What a user does with the example app over HTTP, backend by backend, asserted step by
// step. start.test.ts runs it on every database the app supports.
import { expect } from "vitest";
import { Client, request } from "../support/client.js";
import { waitForLink } from "./support.js";

export const PASSWORD = "correct horse battery staple";
export const NEW_PASSWORD = "a brand new passphrase";

interface UserRead {
  id: string;
  email: string;
  is_superuser: boolean;
  is_verified: boolean;
}

interface SessionRead {
  id: string;
  backend: string;
  current: boolean;
}

/** Registers `email`; the app mails a verification link, which the user follows. */
export async function registerAndVerify(
  url: string,
  outboxDir: string,
  email: string,
  seen: Set<string>,
): Promise<UserRead> {
  const client = new Client(url, { cookieJar: true });
  const reg = await client.request("POST", "/auth/register", {
    json: { email, password: PASSWORD },
  });
  expect(reg.status, JSON.stringify(reg.body)).toBe(201);
  expect(reg.body).toMatchObject({ email, is_verified: false, is_superuser: false });
  // Sent by the app's onAfterRegister hook; the link is APP_URL's, whatever the request said.
  const { token } = await waitForLink(outboxDir, email, url, "/verify", seen);
  const verified = await client.request("POST", "/auth/verify", { json: { token } });
  expect(verified.status).toBe(200);
  expect(verified.body).toMatchObject({ email, is_verified: true });
  const again = await client.request("POST", "/auth/verify", { json: { token } });
  expect(again.body).toEqual({ detail: "VERIFY_USER_ALREADY_VERIFIED" });
  return verified.body as UserRead;
}

async function bearerLogin(client: Client, backend: string, email: string, password = PASSWORD) {
  const res = await client.request("POST", `/auth/${backend}/login`, {
    form: { username: email, password },
  });
  expect(res.status, `${backend} login: ${JSON.stringify(res.body)}`).toBe(200);
  return (res.body as { access_token: string }).access_token;
}

/** An RFC 6749 §5.1 answer of the `refresh` backend's login and refresh. */
export interface TokenPair {
  access_token: string;
  token_type: string;
  refresh_token: string;
  expires_in: number;
}

/**
 * The `refresh` backend (refresh-token sessions, issue 15): login -> /users/me -> refresh
 * (a new pair, the refresh token rotated) -> /users/me with the new access token; the
 * access token's `kid` is the key published at /.well-known/jwks.json. Returns the last pair.
 */
export async function refreshBackend(
  url: string,
  email: string,
  password = PASSWORD,
): Promise<TokenPair> {
  const client = new Client(url);
  const login = await client.request("POST", "/auth/refresh/login", {
    form: { username: email, password },
  });
  expect(login.status, JSON.stringify(login.body)).toBe(200);
  const first = login.body as TokenPair;
  expect(first).toMatchObject({ token_type: "bearer", expires_in: 900 });
  expect(
    (await client.request("GET", "/users/me", { bearer: first.access_token })).body,
  ).toMatchObject({
    email,
  });
  const rotated = await client.request("POST", "/auth/refresh/refresh", {
    form: { grant_type: "refresh_token", refresh_token: first.refresh_token },
  });
  expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
  const second = rotated.body as TokenPair;
  expect(second.refresh_token).not.toBe(first.refresh_token);
  expect((await client.request("GET", "/users/me", { bearer: second.access_token })).status).toBe(
    200,
  );
  const jwks = await client.request("GET", "/.well-known/jwks.json");
  expect(jwks.status).toBe(200);
  const header = JSON.parse(
    Buffer.from(second.access_token.split(".")[0] ?? "", "base64url").toString("utf8"),
  ) as { alg: string; kid: string };
  expect(header.alg).toBe("ES256");
  expect((jwks.body as { keys: { kid: string }[] }).keys.map((k) => k.kid)).toEqual([header.kid]);
  return second;
}

/**
 * A Bearer backend: login -> /users/me -> logout -> 401; two more logins, a preference in
 * one session's data, the session list (database and Redis strategies), logout-all ->
 * every token 401.
 */
export async function bearerBackend(url: string, backend: string, email: string): Promise<void> {
  const client = new Client(url, { cookieJar: true });
  const token = await bearerLogin(client, backend, email);
  const me = await client.request("GET", "/users/me", { bearer: token });
  expect(me.status).toBe(200);
  expect(me.body).toMatchObject({ email });
  expect((await client.request("POST", `/auth/${backend}/logout`, { bearer: token })).status).toBe(
    204,
  );
  expect((await client.request("GET", "/users/me", { bearer: token })).status).toBe(401);

  const first = await bearerLogin(client, backend, email);
  const second = await bearerLogin(client, backend, email);
  // The app's own route on the session's data (src/preferences.ts): kept per session by
  // every strategy with a session store; the JWT backend keeps no data, and says so (501).
  const saved = await client.request("PUT", "/app/preferences", {
    bearer: first,
    json: { theme: "dark" },
  });
  if (backend === "jwt") {
    expect(saved.status).toBe(501);
  } else {
    expect(saved.body).toEqual({ theme: "dark" });
    const read = (bearer: string) => client.request("GET", "/app/preferences", { bearer });
    expect((await read(first)).body).toEqual({ theme: "dark" });
    expect((await read(second)).body).toEqual({ theme: "system" });
  }
  if (backend !== "jwt") {
    // JWTs are not stored, so they are not listed; database and Redis sessions are.
    const sessions = await client.request("GET", "/users/me/sessions", { bearer: first });
    expect(sessions.status).toBe(200);
    // `cookie` and `db` share the access-token table, so /users/me/sessions lists each of
    // those sessions once, under the first of the two backends (`cookie`).
    const store = backend === "redis" ? ["redis"] : ["cookie", "db"];
    const mine = (sessions.body as SessionRead[]).filter((s) => store.includes(s.backend));
    expect(mine.length).toBeGreaterThanOrEqual(2);
    expect(mine.filter((s) => s.current)).toHaveLength(1);
  }
  const all = await client.request("POST", `/auth/${backend}/logout-all`, { bearer: second });
  expect(all.status).toBe(204);
  for (const t of [first, second]) {
    expect((await client.request("GET", "/users/me", { bearer: t })).status).toBe(401);
  }
}

/**
 * The cookie backend as a non-browser client: login sets `tessera_auth` and
 * `tessera_csrf`; state-changing requests must echo the CSRF token.
 */
export async function cookieBackend(url: string, email: string): Promise<void> {
  const browser = new Client(url, { cookieJar: true });
  const login = await browser.request("POST", "/auth/cookie/login", {
    form: { username: email, password: PASSWORD },
  });
  expect(login.status, JSON.stringify(login.body)).toBe(204);
  const cookie = browser.cookies.get("tessera_auth");
  expect(cookie).toBeTruthy();
  expect(browser.cookies.get("tessera_csrf")).toBeTruthy();
  expect((await browser.request("GET", "/users/me")).body).toMatchObject({ email });
  const sessions = await browser.request("GET", "/users/me/sessions");
  expect((sessions.body as SessionRead[]).some((s) => s.backend === "cookie" && s.current)).toBe(
    true,
  );
  // The page's theme, in the session's data: a cookie request without the CSRF token is
  // refused there as on Tessera's own routes.
  const theme = { json: { theme: "light" } };
  expect((await browser.request("PUT", "/app/preferences", theme)).status).toBe(403);
  const saved = await browser.request("PUT", "/app/preferences", { ...theme, csrf: true });
  expect(saved.body).toEqual({ theme: "light" });
  expect((await browser.request("GET", "/app/preferences")).body).toEqual({ theme: "light" });

  // CSRF: neither same-origin proof nor the token -> refused; a cross-site Origin -> refused.
  const bare = await browser.request("POST", "/auth/cookie/logout");
  expect(bare.status).toBe(403);
  expect(bare.body).toEqual({ detail: "CSRF_FAILED" });
  const crossSite = await browser.request("POST", "/auth/cookie/logout", {
    headers: { origin: "https://evil.example" },
    csrf: true,
  });
  expect(crossSite.status).toBe(403);

  expect((await browser.request("POST", "/auth/cookie/logout", { csrf: true })).status).toBe(204);
  const stale = new Client(url, { cookieJar: true });
  stale.cookies.set("tessera_auth", cookie ?? "");
  expect((await stale.request("GET", "/users/me")).status).toBe(401);

  const other = new Client(url, { cookieJar: true });
  for (const c of [browser, other]) {
    const res = await c.request("POST", "/auth/cookie/login", {
      form: { username: email, password: PASSWORD },
    });
    expect(res.status).toBe(204);
  }
  expect((await browser.request("POST", "/auth/cookie/logout-all", { csrf: true })).status).toBe(
    204,
  );
  expect((await other.request("GET", "/users/me")).status).toBe(401);
}

/**
 * Forgot password -> the mailed link -> a new password: the old one stops working, the
 * link works once. The link comes from APP_URL even when the request names another host.
 */
export async function resetPassword(
  url: string,
  outboxDir: string,
  email: string,
  seen: Set<string>,
): Promise<void> {
  const client = new Client(url, { cookieJar: true });
  const forgot = await forgedHostPost(url, "/auth/forgot-password", { email });
  expect(forgot).toBe(202);
  const { token, mail } = await waitForLink(outboxDir, email, url, "/reset-password", seen);
  expect(mail.body).not.toContain("evil.example");
  const reset = await client.request("POST", "/auth/reset-password", {
    json: { token, password: NEW_PASSWORD },
  });
  expect(reset.status).toBe(200);
  const reused = await client.request("POST", "/auth/reset-password", {
    json: { token, password: "yet another passphrase" },
  });
  expect(reused.body).toEqual({ detail: "RESET_PASSWORD_BAD_TOKEN" });
  const old = await client.request("POST", "/auth/jwt/login", {
    form: { username: email, password: PASSWORD },
  });
  expect(old.body).toEqual({ detail: "LOGIN_BAD_CREDENTIALS" });
  await bearerLogin(client, "jwt", email, NEW_PASSWORD);
}

/** The superuser from TESSERA_ADMIN_*: sees any user by id; a plain user may not. */
export async function adminCanReadUsers(
  url: string,
  admin: { email: string; password: string },
  user: { id: string; token: string },
): Promise<void> {
  const client = new Client(url, { cookieJar: true });
  const token = await bearerLogin(client, "jwt", admin.email, admin.password);
  const me = await client.request("GET", "/users/me", { bearer: token });
  expect(me.body).toMatchObject({ email: admin.email, is_superuser: true, is_verified: true });
  const other = await client.request("GET", `/users/${user.id}`, { bearer: token });
  expect(other.status).toBe(200);
  const adminId = (me.body as UserRead).id;
  const denied = await client.request("GET", `/users/${adminId}`, { bearer: user.token });
  expect(denied.status).toBe(403);
}

/** `/openapi.json` documents every mounted route, `/docs` serves Swagger UI on it. */
export async function apiDocs(url: string, backends: string[]): Promise<void> {
  const res = await request(`${url}/openapi.json`);
  expect(res.status).toBe(200);
  const document = res.body as { openapi: string; paths: Record<string, unknown> };
  expect(document.openapi).toMatch(/^3\.1\./);
  const paths = Object.keys(document.paths);
  for (const backend of backends) {
    for (const route of ["login", "logout", "logout-all"]) {
      expect(paths).toContain(`/auth/${backend}/${route}`);
    }
  }
  if (!backends.includes("redis")) expect(paths).not.toContain("/auth/redis/login");
  for (const path of ["/auth/register", "/auth/verify", "/auth/reset-password", "/users/me"]) {
    expect(paths).toContain(path);
  }
  expect(paths).toContain("/users/me/sessions");
  const docs = await request(`${url}/docs`);
  expect(docs.status).toBe(200);
  expect(docs.headers.get("content-type")).toMatch(/^text\/html/);
}

export { bearerLogin };

/** A POST whose Host header names another site (fetch() would not let us set Host). */
async function forgedHostPost(url: string, path: string, json: unknown): Promise<number> {
  return (await request(`${url}${path}`, { json, headers: { host: "evil.example" } })).status;
}
