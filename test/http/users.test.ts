import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startApp, type TestApp } from "../support/app.js";
import { bearerMode, modes, register, request } from "../support/client.js";

let app: TestApp;
afterEach(async () => app.close());

async function makeSuperuser(email: string) {
  const user = await app.userDb.getByEmail(email);
  if (!user) throw new Error("no user");
  return app.userDb.update(user, { isSuperuser: true });
}

describe.each(modes)("users router over $name", (mode) => {
  let headers: Record<string, string>;
  beforeEach(async () => {
    app = await startApp();
    await register(app.url, "uma@example.com");
    headers = await mode.login(app.url, "uma@example.com", "correct horse battery");
  });

  it("GET /users/me -> 200 with the current user", async () => {
    const res = await request(`${app.url}/users/me`, { headers });
    expect(res).toMatchObject({ status: 200, body: { email: "uma@example.com", is_active: true } });
  });

  it("GET /users/me without a token -> 401 with WWW-Authenticate", async () => {
    const res = await request(`${app.url}/users/me`);
    expect(res).toMatchObject({ status: 401, body: { detail: "Unauthorized" } });
    expect(res.headers.get("www-authenticate")).toBe("Bearer");
  });

  it("GET /users/me as an inactive user -> 401", async () => {
    const user = await app.userDb.getByEmail("uma@example.com");
    if (!user) throw new Error("no user");
    await app.userDb.update(user, { isActive: false });
    expect((await request(`${app.url}/users/me`, { headers })).status).toBe(401);
  });

  it("PATCH /users/me changes the email (clearing is_verified) and the password", async () => {
    const user = await app.userDb.getByEmail("uma@example.com");
    if (!user) throw new Error("no user");
    await app.userDb.update(user, { isVerified: true });
    const res = await request(`${app.url}/users/me`, {
      method: "PATCH",
      headers,
      json: {
        email: "Uma.New@example.com",
        password: "another password",
        current_password: "correct horse battery",
      },
    });
    expect(res).toMatchObject({
      status: 200,
      body: { email: "uma.new@example.com", is_verified: false },
    });
    await mode.login(app.url, "uma.new@example.com", "another password");
  });

  it("PATCH /users/me cannot grant privileges to oneself", async () => {
    const res = await request(`${app.url}/users/me`, {
      method: "PATCH",
      headers,
      json: { is_superuser: true, is_verified: true, is_active: true },
    });
    expect(res).toMatchObject({ status: 200, body: { is_superuser: false, is_verified: false } });
  });

  it("PATCH /users/me to a taken email -> 400 UPDATE_USER_EMAIL_ALREADY_EXISTS", async () => {
    await register(app.url, "taken@example.com");
    const res = await request(`${app.url}/users/me`, {
      method: "PATCH",
      headers,
      json: { email: "TAKEN@example.com", current_password: "correct horse battery" },
    });
    expect(res).toMatchObject({
      status: 400,
      body: { detail: "UPDATE_USER_EMAIL_ALREADY_EXISTS" },
    });
  });

  it("PATCH /users/me with a short password -> 400 UPDATE_USER_INVALID_PASSWORD", async () => {
    const res = await request(`${app.url}/users/me`, {
      method: "PATCH",
      headers,
      json: { password: "short", current_password: "correct horse battery" },
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      detail: {
        code: "UPDATE_USER_INVALID_PASSWORD",
        reason: "Password should be at least 8 characters",
        reason_code: "PASSWORD_TOO_SHORT",
      },
    });
  });

  it("ASVS 5.0 6.2.3, 7.5.1: a new password or email without the right current_password -> 400 UPDATE_USER_INVALID_CURRENT_PASSWORD, nothing changed", async () => {
    for (const json of [
      { password: "another password" },
      { password: "another password", current_password: "wrong password!" },
      { email: "thief@example.com" },
      { email: "thief@example.com", current_password: "" },
    ]) {
      const res = await request(`${app.url}/users/me`, { method: "PATCH", headers, json });
      expect(res, JSON.stringify(json)).toMatchObject({
        status: 400,
        body: { detail: "UPDATE_USER_INVALID_CURRENT_PASSWORD" },
      });
    }
    const typed = await request(`${app.url}/users/me`, {
      method: "PATCH",
      headers,
      json: { password: "another password", current_password: 42 },
    });
    expect(typed.status).toBe(422);
    expect((await request(`${app.url}/users/me`, { headers })).body).toMatchObject({
      email: "uma@example.com",
    });
    await mode.login(app.url, "uma@example.com", "correct horse battery");
  });

  it("PATCH /users/me: the same email in another case needs no current_password; current_password is never stored", async () => {
    const res = await request(`${app.url}/users/me`, {
      method: "PATCH",
      headers,
      json: { email: "UMA@example.com", current_password: "correct horse battery" },
    });
    expect(res).toMatchObject({ status: 200, body: { email: "uma@example.com" } });
    expect(res.body).not.toHaveProperty("current_password");
    const stored = await app.userDb.getByEmail("uma@example.com");
    expect(stored).not.toHaveProperty("currentPassword");
    expect(stored).not.toHaveProperty("current_password");
  });

  it("PATCH /users/me with wrong types -> 422", async () => {
    const res = await request(`${app.url}/users/me`, {
      method: "PATCH",
      headers,
      json: { email: ["x"] },
    });
    expect(res.status).toBe(422);
  });

  it("GET/PATCH/DELETE /users/{id} as a regular user -> 403", async () => {
    const id = ((await request(`${app.url}/users/me`, { headers })).body as { id: string }).id;
    expect((await request(`${app.url}/users/${id}`, { headers })).status).toBe(403);
    expect(
      (await request(`${app.url}/users/${id}`, { method: "PATCH", headers, json: {} })).status,
    ).toBe(403);
    expect((await request(`${app.url}/users/${id}`, { method: "DELETE", headers })).status).toBe(
      403,
    );
  });

  describe("as a superuser", () => {
    let otherId: string;
    beforeEach(async () => {
      await makeSuperuser("uma@example.com");
      otherId = ((await register(app.url, "other@example.com")).body as { id: string }).id;
    });

    it("GET /users/{id} -> 200", async () => {
      const res = await request(`${app.url}/users/${otherId}`, { headers });
      expect(res).toMatchObject({ status: 200, body: { id: otherId, email: "other@example.com" } });
    });

    it("GET /users/{id} for an unknown or malformed id -> 404", async () => {
      const unknown = await request(`${app.url}/users/00000000-0000-4000-8000-000000000000`, {
        headers,
      });
      expect(unknown).toMatchObject({ status: 404, body: { detail: "Not Found" } });
      expect((await request(`${app.url}/users/not-a-uuid`, { headers })).status).toBe(404);
    });

    it("PATCH /users/{id} changes another user's password without current_password", async () => {
      const res = await request(`${app.url}/users/${otherId}`, {
        method: "PATCH",
        headers,
        json: { password: "set by the admin" },
      });
      expect(res.status).toBe(200);
      await bearerMode.login(app.url, "other@example.com", "set by the admin");
    });

    it("PATCH /users/{id} may set privileged flags", async () => {
      const res = await request(`${app.url}/users/${otherId}`, {
        method: "PATCH",
        headers,
        json: { is_superuser: true, is_verified: true },
      });
      expect(res).toMatchObject({ status: 200, body: { is_superuser: true, is_verified: true } });
    });

    it("PATCH /users/{id} to a taken email -> 400 UPDATE_USER_EMAIL_ALREADY_EXISTS", async () => {
      const res = await request(`${app.url}/users/${otherId}`, {
        method: "PATCH",
        headers,
        json: { email: "uma@example.com" },
      });
      expect(res).toMatchObject({
        status: 400,
        body: { detail: "UPDATE_USER_EMAIL_ALREADY_EXISTS" },
      });
    });

    it("DELETE /users/{id} -> 204, then 404", async () => {
      const res = await request(`${app.url}/users/${otherId}`, { method: "DELETE", headers });
      expect(res.status).toBe(204);
      expect((await request(`${app.url}/users/${otherId}`, { headers })).status).toBe(404);
    });
  });
});

describe("requiresVerification on the users router", () => {
  beforeEach(async () => {
    app = await startApp({ requiresVerification: true });
  });

  it("an unverified user gets 403 on /users/me", async () => {
    await register(app.url, "unv@example.com");
    const user = await app.userDb.getByEmail("unv@example.com");
    if (!user) throw new Error("no user");
    // Log in while verified, then lose verification: the router must re-check.
    await app.userDb.update(user, { isVerified: true });
    const headers = await bearerMode.login(app.url, "unv@example.com", "correct horse battery");
    await app.userDb.update(user, { isVerified: false });
    expect((await request(`${app.url}/users/me`, { headers })).status).toBe(403);
  });
});
