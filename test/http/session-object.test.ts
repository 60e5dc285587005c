import { afterEach, describe, expect, it } from "vitest";
import { startApp, type TestApp } from "../support/app.js";
import {
  type AuthMode,
  bearerMode,
  cookieMode,
  dbMode,
  register,
  request,
} from "../support/client.js";

// Issue 14: ctx.state.session on every backend — handle, user id and claims for free;
// data, claims and revoke through the session API.
let app: TestApp;
const PASSWORD = "correct horse battery";
afterEach(async () => app?.close());

const HANDLE = /^[A-Za-z0-9_-]{1,64}$/;
const get = (path: string, headers: Record<string, string>) =>
  request(`${app.url}${path}`, { headers });
const send = (method: string, path: string, headers: Record<string, string>, raw: string) =>
  request(`${app.url}${path}`, {
    method,
    raw,
    headers: { ...headers, "content-type": "application/json" },
  });
const json = (method: string, path: string, headers: Record<string, string>, body: unknown) =>
  send(method, path, headers, JSON.stringify(body));

const redisMode: AuthMode = {
  name: "db",
  async login(baseUrl, email, password) {
    const res = await request(`${baseUrl}/auth/redis/login`, {
      form: { username: email, password },
    });
    if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.text}`);
    return { authorization: `Bearer ${(res.body as { access_token: string }).access_token}` };
  },
};

const stores = [
  { name: "db", mode: dbMode },
  { name: "redis", mode: redisMode },
] as const;

describe.each([{ name: "jwt", mode: bearerMode }, { name: "cookie", mode: cookieMode }, ...stores])(
  "ctx.state.session on the $name backend",
  ({ name, mode }) => {
    it("has the handle, the user id and the claims, the same on every request of the session", async () => {
      app = await startApp({ sessionRoutes: true, redis: name === "redis" });
      const { id } = (await register(app.url, "state@example.com")).body as { id: string };
      const headers = await mode.login(app.url, "state@example.com", PASSWORD);
      const first = await get("/session", headers);
      expect(first).toMatchObject({ status: 200, body: { user_id: id, claims: {} } });
      const { handle } = first.body as { handle: string };
      expect(handle).toMatch(HANDLE);
      expect(JSON.stringify(headers)).not.toContain(handle);
      expect((await get("/session", headers)).body).toMatchObject({ handle });
      // The handle is the id the sessions list shows, where the backend can list.
      if (name === "db" || name === "redis") {
        const list = (await get("/users/me/sessions", headers)).body as { id: string }[];
        expect(list.map((s) => s.id)).toContain(handle);
      }
    });
  },
);

describe.each(stores)("session data on the $name backend", ({ name, mode }) => {
  const start = async () => {
    app = await startApp({ sessionRoutes: true, redis: name === "redis" });
    await register(app.url, "data@example.com");
    return mode.login(app.url, "data@example.com", PASSWORD);
  };

  it("round trips: updateData overwrites, mergeData merges (null deletes), getData reads", async () => {
    const headers = await start();
    expect((await get("/session/data", headers)).body).toEqual({});
    expect((await json("PUT", "/session/data", headers, { theme: "dark", n: 1 })).status).toBe(204);
    expect((await get("/session/data", headers)).body).toEqual({ theme: "dark", n: 1 });
    const merged = await json("PATCH", "/session/data", headers, { n: null, cart: [1, 2] });
    expect(merged).toMatchObject({ status: 200, body: { theme: "dark", cart: [1, 2] } });
    expect((await get("/session/data", headers)).body).toEqual({ theme: "dark", cart: [1, 2] });
  });

  it("too large -> 413 SESSION_DATA_TOO_LARGE, not an object -> 422 INVALID_SESSION_DATA", async () => {
    const headers = await start();
    const big = { blob: "x".repeat(20_000) };
    expect(await json("PUT", "/session/data", headers, big)).toMatchObject({
      status: 413,
      body: { detail: "SESSION_DATA_TOO_LARGE" },
    });
    expect(await json("PATCH", "/session/data", headers, big)).toMatchObject({
      status: 413,
      body: { detail: "SESSION_DATA_TOO_LARGE" },
    });
    expect(await json("PUT", "/session/data", headers, [1, 2])).toMatchObject({
      status: 422,
      body: { detail: "INVALID_SESSION_DATA" },
    });
    const claims = { blob: "x".repeat(3000) };
    expect(await json("PATCH", "/session/claims", headers, claims)).toMatchObject({
      status: 413,
      body: { detail: "SESSION_DATA_TOO_LARGE" },
    });
    expect((await get("/session/data", headers)).body).toEqual({});
  });

  it("__proto__ keys are inert: dropped, and nothing is polluted", async () => {
    const headers = await start();
    const raw = '{"__proto__": {"polluted": true}, "constructor": {"x": 1}, "ok": 1}';
    expect((await send("PUT", "/session/data", headers, raw)).status).toBe(204);
    const read = await get("/session/data", headers);
    expect(read.body).toEqual({ ok: 1 });
    expect(read.text).not.toContain("polluted");
    expect((await send("PATCH", "/session/data", headers, raw)).body).toEqual({ ok: 1 });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("a session's data is never readable through another user's session, nor another session's", async () => {
    const alice = await start();
    await register(app.url, "bob@example.com");
    const bob = await mode.login(app.url, "bob@example.com", PASSWORD);
    const aliceAgain = await mode.login(app.url, "data@example.com", PASSWORD);
    await json("PUT", "/session/data", alice, { secret: "alice's" });
    expect((await get("/session/data", bob)).body).toEqual({});
    expect((await get("/session/data", aliceAgain)).body).toEqual({});
    expect((await get("/session/data", alice)).body).toEqual({ secret: "alice's" });
  });

  it("claims are stored with the session: mergeClaims shows on the next request, no new token", async () => {
    const headers = await start();
    const res = await json("PATCH", "/session/claims", headers, { role: "editor", tier: 2 });
    expect(res).toMatchObject({ status: 200, body: { role: "editor", tier: 2 } });
    expect(res.headers.get("x-access-token")).toBeNull();
    await json("PATCH", "/session/claims", headers, { tier: null });
    expect((await get("/session", headers)).body).toMatchObject({ claims: { role: "editor" } });
  });

  it("revoke ends the session on the next request, and only it", async () => {
    const headers = await start();
    const other = await mode.login(app.url, "data@example.com", PASSWORD);
    expect((await request(`${app.url}/session/revoke`, { method: "POST", headers })).status).toBe(
      204,
    );
    expect((await get("/users/me", headers)).status).toBe(401);
    expect((await get("/users/me", other)).status).toBe(200);
  });
});

describe("JWT sessions (stateless)", () => {
  it("no server-side data: 501 SESSION_NOT_SUPPORTED, naming what to configure in the log", async () => {
    app = await startApp({ sessionRoutes: true });
    await register(app.url, "jwt@example.com");
    const headers = await bearerMode.login(app.url, "jwt@example.com", PASSWORD);
    for (const res of [
      await get("/session/data", headers),
      await json("PUT", "/session/data", headers, { a: 1 }),
      await json("PATCH", "/session/data", headers, { a: 1 }),
    ]) {
      expect(res).toMatchObject({ status: 501, body: { detail: "SESSION_NOT_SUPPORTED" } });
    }
  });

  it("Bearer: mergeClaims re-issues the token in X-Access-Token; same session, new claims", async () => {
    app = await startApp({ sessionRoutes: true });
    await register(app.url, "claims@example.com");
    const headers = await bearerMode.login(app.url, "claims@example.com", PASSWORD);
    const before = (await get("/session", headers)).body as { handle: string };
    const res = await json("PATCH", "/session/claims", headers, { role: "admin" });
    expect(res).toMatchObject({ status: 200, body: { role: "admin" } });
    const token = res.headers.get("x-access-token");
    expect(token).toBeTruthy();
    expect(res.headers.get("cache-control")).toBe("no-store");
    const after = await get("/session", { authorization: `Bearer ${token}` });
    expect(after.body).toMatchObject({ handle: before.handle, claims: { role: "admin" } });
    // The old token carries its old claims until its exp.
    expect((await get("/session", headers)).body).toMatchObject({ claims: {} });
    expect(await json("PATCH", "/session/claims", headers, { x: "y".repeat(3000) })).toMatchObject({
      status: 413,
      body: { detail: "SESSION_DATA_TOO_LARGE" },
    });
    expect(await json("PATCH", "/session/claims", headers, "text")).toMatchObject({
      status: 422,
      body: { detail: "INVALID_SESSION_DATA" },
    });
  });

  it("cookie: mergeClaims re-sets the cookie with the re-issued token", async () => {
    app = await startApp({ sessionRoutes: true });
    await register(app.url, "cookie@example.com");
    const headers = await cookieMode.login(app.url, "cookie@example.com", PASSWORD);
    const res = await json("PATCH", "/session/claims", headers, { plan: "pro" });
    expect(res.status).toBe(200);
    const set = res.headers.getSetCookie().find((c) => c.startsWith("tessera_auth="));
    expect(set).toMatch(/HttpOnly/);
    const auth = set?.split(";")[0] ?? "";
    const cookie = (headers.cookie ?? "").replace(/tessera_auth=[^;]*/, auth);
    const after = await get("/session", { ...headers, cookie });
    expect(after.body).toMatchObject({ claims: { plan: "pro" } });
  });

  it("with a revocation store: a revoked session is refused at once, its cookie cleared", async () => {
    app = await startApp({ sessionRoutes: true });
    await register(app.url, "revoke@example.com");
    for (const mode of [bearerMode, cookieMode]) {
      const headers = await mode.login(app.url, "revoke@example.com", PASSWORD);
      const res = await request(`${app.url}/session/revoke`, { method: "POST", headers });
      expect(res.status).toBe(204);
      if (mode === cookieMode) {
        expect(res.headers.get("set-cookie")).toMatch(/tessera_auth=; Max-Age=0/);
      }
      expect((await get("/users/me", headers)).status).toBe(401);
    }
  });

  it("a revoked session's re-issued token dies with it (one session, one jti)", async () => {
    app = await startApp({ sessionRoutes: true });
    await register(app.url, "reissued@example.com");
    const headers = await bearerMode.login(app.url, "reissued@example.com", PASSWORD);
    const res = await json("PATCH", "/session/claims", headers, { a: 1 });
    const fresh = { authorization: `Bearer ${res.headers.get("x-access-token")}` };
    await request(`${app.url}/session/revoke`, { method: "POST", headers });
    expect((await get("/users/me", fresh)).status).toBe(401);
  });

  it("without a revocation store: revoke answers, and the token stays valid until its exp (documented)", async () => {
    app = await startApp({ sessionRoutes: true, statelessJwt: true });
    await register(app.url, "stateless@example.com");
    const headers = await bearerMode.login(app.url, "stateless@example.com", PASSWORD);
    const res = await request(`${app.url}/session/revoke`, { method: "POST", headers });
    expect(res.status).toBe(204);
    expect((await get("/users/me", headers)).status).toBe(200);
  });
});

describe("ctx.state.session on Tessera's own routes", () => {
  it("is set by the routers' authentication, so hooks see the session that made the change", async () => {
    const seen: (string | null)[] = [];
    app = await startApp({
      sessionRoutes: true,
      hooks: {
        onAfterUpdate: (_user, _update, ctx) => {
          const state = (ctx as { state: { session: { handle: string } | null } }).state;
          seen.push(state.session?.handle ?? null);
        },
      },
    });
    await register(app.url, "hook@example.com");
    for (const mode of [bearerMode, cookieMode, dbMode]) {
      const headers = await mode.login(app.url, "hook@example.com", PASSWORD);
      const { handle } = (await get("/session", headers)).body as { handle: string };
      const res = await request(`${app.url}/users/me`, {
        method: "PATCH",
        json: {},
        headers,
      });
      expect(res.status).toBe(200);
      expect(seen.pop()).toBe(handle);
    }
  });
});
