import { hashToken } from "@tessera/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startApp, type TestApp } from "../support/app.js";
import { bearerMode, cookieMode, dbMode, register, request } from "../support/client.js";

let app: TestApp;
const PASSWORD = "correct horse battery";
afterEach(async () => app.close());

const me = (headers: Record<string, string>) => request(`${app.url}/users/me`, { headers });
const bearerToken = (headers: Record<string, string>) =>
  (headers.authorization ?? "").slice("Bearer ".length);

describe("database backend: token lifecycle over HTTP", () => {
  beforeEach(async () => {
    app = await startApp();
    await register(app.url, "ses@example.com");
  });

  it("ASVS 5.0 7.4.1: after logout the token is refused and its row is gone", async () => {
    const headers = await dbMode.login(app.url, "ses@example.com", PASSWORD);
    expect(await app.tokenDigests()).toHaveLength(1);
    expect((await request(`${app.url}/auth/db/logout`, { method: "POST", headers })).status).toBe(
      204,
    );
    expect(await app.tokenDigests()).toHaveLength(0);
    expect((await me(headers)).status).toBe(401);
  });

  it("a stored digest presented as a token -> 401", async () => {
    const headers = await dbMode.login(app.url, "ses@example.com", PASSWORD);
    const [digest] = await app.tokenDigests();
    expect(digest).toBe(hashToken(bearerToken(headers)));
    expect((await me({ authorization: `Bearer ${digest}` })).status).toBe(401);
  });

  it("POST /auth/db/logout-all from one device logs out every other device, not other users", async () => {
    const phone = await dbMode.login(app.url, "ses@example.com", PASSWORD);
    const laptop = await dbMode.login(app.url, "ses@example.com", PASSWORD);
    await register(app.url, "bystander@example.com");
    const bystander = await dbMode.login(app.url, "bystander@example.com", PASSWORD);
    expect(
      (await request(`${app.url}/auth/db/logout-all`, { method: "POST", headers: phone })).status,
    ).toBe(204);
    expect((await me(phone)).status).toBe(401);
    expect((await me(laptop)).status).toBe(401);
    expect((await me(bystander)).status).toBe(200);
  });
});

describe("logout-all on JWT backends", () => {
  it("with a revocation store: every JWT of the user dies, over Bearer and cookie", async () => {
    app = await startApp();
    await register(app.url, "jwt@example.com");
    const bearer = await bearerMode.login(app.url, "jwt@example.com", PASSWORD);
    const cookie = await cookieMode.login(app.url, "jwt@example.com", PASSWORD);
    const res = await request(`${app.url}/auth/cookie/logout-all`, {
      method: "POST",
      headers: cookie,
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("set-cookie")).toMatch(/^tessera_auth=; Max-Age=0/);
    expect((await me(bearer)).status).toBe(401);
    expect((await me(cookie)).status).toBe(401);
    // A fresh login right after works.
    expect((await me(await bearerMode.login(app.url, "jwt@example.com", PASSWORD))).status).toBe(
      200,
    );
  });

  it("without a revocation store: 501 LOGOUT_ALL_NOT_SUPPORTED, never a false 204", async () => {
    app = await startApp({ statelessJwt: true });
    await register(app.url, "stateless@example.com");
    const headers = await bearerMode.login(app.url, "stateless@example.com", PASSWORD);
    const res = await request(`${app.url}/auth/jwt/logout-all`, { method: "POST", headers });
    expect(res).toMatchObject({ status: 501, body: { detail: "LOGOUT_ALL_NOT_SUPPORTED" } });
  });

  it("without a token -> 401", async () => {
    app = await startApp();
    expect((await request(`${app.url}/auth/db/logout-all`, { method: "POST" })).status).toBe(401);
  });
});

describe("changes that end every session (ASVS 5.0 7.4.2, 7.4.3)", () => {
  let devices: Record<string, string>[];
  beforeEach(async () => {
    app = await startApp();
    await register(app.url, "victim@example.com");
    devices = [
      await dbMode.login(app.url, "victim@example.com", PASSWORD),
      await bearerMode.login(app.url, "victim@example.com", PASSWORD),
      await cookieMode.login(app.url, "victim@example.com", PASSWORD),
    ];
  });
  const allRefused = async () => {
    for (const headers of devices) expect((await me(headers)).status).toBe(401);
  };

  it.each([0, 1, 2])(
    "ASVS 5.0 7.4.3: a password change through PATCH /users/me (from device %i) ends the other sessions in every backend and keeps that one",
    async (from) => {
      const res = await request(`${app.url}/users/me`, {
        method: "PATCH",
        headers: devices[from],
        json: { password: "a new password now", current_password: PASSWORD },
      });
      expect(res.status).toBe(200);
      for (const [i, headers] of devices.entries()) {
        expect((await me(headers)).status, `device ${i}`).toBe(i === from ? 200 : 401);
      }
      // Only the database session that made the change is left in the table.
      expect(await app.tokenDigests()).toHaveLength(from === 0 ? 1 : 0);
    },
  );

  it("a superuser changing another user's password ends every session of that user", async () => {
    await register(app.url, "admin@example.com");
    const admin = await app.userDb.getByEmail("admin@example.com");
    if (!admin) throw new Error("no admin");
    await app.userDb.update(admin, { isSuperuser: true });
    const headers = await dbMode.login(app.url, "admin@example.com", PASSWORD);
    const victim = await app.userDb.getByEmail("victim@example.com");
    const res = await request(`${app.url}/users/${victim?.id}`, {
      method: "PATCH",
      headers,
      json: { password: "reset by the admin" },
    });
    expect(res.status).toBe(200);
    await allRefused();
    expect((await me(headers)).status).toBe(200);
  });

  it("a password reset ends sessions in every backend", async () => {
    await request(`${app.url}/auth/forgot-password`, { json: { email: "victim@example.com" } });
    const token = app.outbox.find((m) => m.kind === "reset")?.token;
    await request(`${app.url}/auth/reset-password`, {
      json: { token, password: "a new password now" },
    });
    await allRefused();
  });

  it("deactivation by a superuser ends sessions in every backend", async () => {
    await register(app.url, "admin@example.com");
    const admin = await app.userDb.getByEmail("admin@example.com");
    if (!admin) throw new Error("no admin");
    await app.userDb.update(admin, { isSuperuser: true });
    const headers = await dbMode.login(app.url, "admin@example.com", PASSWORD);
    const victim = await app.userDb.getByEmail("victim@example.com");
    const res = await request(`${app.url}/users/${victim?.id}`, {
      method: "PATCH",
      headers,
      json: { is_active: false },
    });
    expect(res.status).toBe(200);
    await app.userDb.update(victim ?? admin, { isActive: true }); // even reactivated, the old sessions stay dead
    await allRefused();
  });

  it("an email change does not end sessions", async () => {
    await request(`${app.url}/users/me`, {
      method: "PATCH",
      headers: devices[0],
      json: { email: "v2@example.com", current_password: PASSWORD },
    });
    for (const headers of devices) expect((await me(headers)).status).toBe(200);
  });
});

describe("GET/DELETE /users/me/sessions", () => {
  beforeEach(async () => {
    app = await startApp();
    await register(app.url, "list@example.com");
  });

  it("lists database sessions with ids that are not tokens, marking the current one", async () => {
    const a = await dbMode.login(app.url, "list@example.com", PASSWORD);
    const b = await dbMode.login(app.url, "list@example.com", PASSWORD);
    const res = await request(`${app.url}/users/me/sessions`, { headers: b });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const sessions = res.body as {
      id: string;
      backend: string;
      current: boolean;
      created_at: string;
      expires_at: string;
    }[];
    expect(sessions).toHaveLength(2);
    expect(sessions.every((s) => s.backend === "db")).toBe(true);
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
    for (const s of sessions) {
      expect(res.text).not.toContain(bearerToken(a));
      expect(res.text).not.toContain(hashToken(bearerToken(a)));
      expect(Date.parse(s.expires_at)).toBeGreaterThan(Date.parse(s.created_at));
    }
  });

  it("DELETE one session ends that device only; unknown or foreign ids -> 404", async () => {
    const a = await dbMode.login(app.url, "list@example.com", PASSWORD);
    const b = await dbMode.login(app.url, "list@example.com", PASSWORD);
    const sessions = (await request(`${app.url}/users/me/sessions`, { headers: b })).body as {
      id: string;
      current: boolean;
    }[];
    const other = sessions.find((s) => !s.current);
    expect(
      (await request(`${app.url}/users/me/sessions/${other?.id}`, { method: "DELETE", headers: b }))
        .status,
    ).toBe(204);
    expect((await me(a)).status).toBe(401);
    expect((await me(b)).status).toBe(200);
    expect(
      (await request(`${app.url}/users/me/sessions/nope`, { method: "DELETE", headers: b })).status,
    ).toBe(404);
    await register(app.url, "intruder@example.com");
    const intruder = await dbMode.login(app.url, "intruder@example.com", PASSWORD);
    const current = sessions.find((s) => s.current);
    const res = await request(`${app.url}/users/me/sessions/${current?.id}`, {
      method: "DELETE",
      headers: intruder,
    });
    expect(res.status).toBe(404);
    expect((await me(b)).status).toBe(200);
  });

  it("without a token -> 401", async () => {
    expect((await request(`${app.url}/users/me/sessions`)).status).toBe(401);
  });
});

describe("issue 14: the sessions list's devices and lifetimes", () => {
  type Listed = Record<string, unknown> & { id: string; current: boolean };
  const list = async (headers: Record<string, string>, path = "/users/me/sessions") =>
    (await request(`${app.url}${path}`, { headers })).body as Listed[];
  const login = async (headers: Record<string, string> = {}) => {
    const res = await request(`${app.url}/auth/db/login`, {
      form: { username: "dev@example.com", password: PASSWORD },
      headers,
    });
    return { authorization: `Bearer ${(res.body as { access_token: string }).access_token}` };
  };

  it("each session shows where it was created from, its last use and its lifetimes", async () => {
    app = await startApp();
    await register(app.url, "dev@example.com");
    const headers = await login({ "user-agent": "TestBrowser/1.0" });
    const [session] = await list(headers);
    expect(Object.keys(session ?? {}).sort()).toEqual(
      [
        "id",
        "backend",
        "created_at",
        "last_used_at",
        "expires_at",
        "ip_address",
        "user_agent",
        "current",
      ].sort(),
    );
    expect(session).toMatchObject({
      backend: "db",
      ip_address: "127.0.0.1",
      user_agent: "TestBrowser/1.0",
      last_used_at: null,
      current: true,
    });
    expect(Date.parse(String(session?.expires_at))).toBeGreaterThan(
      Date.parse(String(session?.created_at)),
    );
  });

  it("the address is the rate limiter's: X-Forwarded-For only from a trusted proxy", async () => {
    app = await startApp({
      rateLimit: { trustedProxies: ["127.0.0.1"] },
    });
    await register(app.url, "dev@example.com");
    const forwarded = { "x-forwarded-for": "203.0.113.7" };
    const headers = await login(forwarded);
    expect((await list(headers))[0]).toMatchObject({ ip_address: "203.0.113.7" });
    await app.close();
    app = await startApp();
    await register(app.url, "dev@example.com");
    const spoofed = await login(forwarded);
    expect((await list(spoofed))[0]).toMatchObject({ ip_address: "127.0.0.1" });
  });

  it("a user agent is cut to its bound, never refused", async () => {
    app = await startApp();
    await register(app.url, "dev@example.com");
    const headers = await login({ "user-agent": "U".repeat(2000) });
    expect(String((await list(headers))[0]?.user_agent)).toHaveLength(512);
  });
});

describe("issue 14: a superuser's view of a user's sessions", () => {
  const admin = async () => {
    await register(app.url, "admin@example.com");
    const user = await app.userDb.getByEmail("admin@example.com");
    if (!user) throw new Error("no admin");
    await app.userDb.update(user, { isSuperuser: true });
    return { id: user.id, headers: await dbMode.login(app.url, "admin@example.com", PASSWORD) };
  };

  beforeEach(async () => {
    app = await startApp();
  });

  it("GET /users/{id}/sessions lists them (none current); DELETE ends one, then 404", async () => {
    const { id } = (await register(app.url, "target@example.com")).body as { id: string };
    const phone = await dbMode.login(app.url, "target@example.com", PASSWORD);
    const laptop = await dbMode.login(app.url, "target@example.com", PASSWORD);
    const root = await admin();
    const res = await request(`${app.url}/users/${id}/sessions`, { headers: root.headers });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const sessions = res.body as { id: string; current: boolean; ip_address: string }[];
    expect(sessions).toHaveLength(2);
    expect(sessions.every((s) => !s.current && s.ip_address === "127.0.0.1")).toBe(true);
    const phoneSession = (
      (await request(`${app.url}/users/me/sessions`, { headers: phone })).body as {
        id: string;
        current: boolean;
      }[]
    ).find((s) => s.current);
    const url = `${app.url}/users/${id}/sessions/${phoneSession?.id}`;
    expect((await request(url, { method: "DELETE", headers: root.headers })).status).toBe(204);
    expect((await me(phone)).status).toBe(401);
    expect((await me(laptop)).status).toBe(200);
    expect((await request(url, { method: "DELETE", headers: root.headers })).status).toBe(404);
    // The admin's own sessions are not the target's to end through this path.
    const own = (await request(`${app.url}/users/me/sessions`, { headers: root.headers })).body as {
      id: string;
    }[];
    const foreign = `${app.url}/users/${id}/sessions/${own[0]?.id}`;
    expect((await request(foreign, { method: "DELETE", headers: root.headers })).status).toBe(404);
    expect((await me(root.headers)).status).toBe(200);
  });

  it("marks the superuser's own current session when they list themselves", async () => {
    const root = await admin();
    const res = await request(`${app.url}/users/${root.id}/sessions`, { headers: root.headers });
    expect((res.body as { current: boolean }[]).filter((s) => s.current)).toHaveLength(1);
  });

  it("not a superuser -> 403; unknown user -> 404; malformed session id -> 404", async () => {
    const { id } = (await register(app.url, "target@example.com")).body as { id: string };
    const user = await dbMode.login(app.url, "target@example.com", PASSWORD);
    expect((await request(`${app.url}/users/${id}/sessions`, { headers: user })).status).toBe(403);
    expect(
      (await request(`${app.url}/users/${id}/sessions/x`, { method: "DELETE", headers: user }))
        .status,
    ).toBe(403);
    const root = await admin();
    const unknown = "0b6f4c1e-5f2a-4d7b-9a38-1c2d3e4f5a6b";
    for (const path of [`/users/${unknown}/sessions`, "/users/not-an-id/sessions"]) {
      expect((await request(`${app.url}${path}`, { headers: root.headers })).status).toBe(404);
    }
    const bad = `${app.url}/users/${id}/sessions/${"x".repeat(100)}`;
    expect((await request(bad, { method: "DELETE", headers: root.headers })).status).toBe(404);
  });
});
