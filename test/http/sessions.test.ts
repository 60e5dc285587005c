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
