import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startApp, type TestApp } from "../support/app.js";
import { bearerMode, register, request } from "../support/client.js";

let app: TestApp;
beforeEach(async () => {
  app = await startApp();
  await register(app.url, "rita@example.com");
});
afterEach(async () => app.close());

async function forgot(email: string) {
  return request(`${app.url}/auth/forgot-password`, { json: { email } });
}
const resetToken = () => app.outbox.filter((m) => m.kind === "reset").at(-1)?.token ?? "";

describe("POST /auth/forgot-password", () => {
  it("202 with a null body for a known email; the token goes to the hook", async () => {
    const res = await forgot("rita@example.com");
    expect(res.status).toBe(202);
    expect(res.text).toBe("null");
    expect(resetToken()).not.toBe("");
  });

  it("202 for an unknown email as well (no account enumeration), nothing sent", async () => {
    const res = await forgot("nobody@example.com");
    expect(res.status).toBe(202);
    expect(res.text).toBe("null");
    expect(app.outbox).toHaveLength(0);
  });

  it("202 for an inactive user, nothing sent", async () => {
    const user = await app.userDb.getByEmail("rita@example.com");
    if (!user) throw new Error("no user");
    await app.userDb.update(user, { isActive: false });
    expect((await forgot("rita@example.com")).status).toBe(202);
    expect(app.outbox).toHaveLength(0);
  });
});

describe("POST /auth/reset-password", () => {
  it("200 null; the new password works and the old one does not", async () => {
    await forgot("rita@example.com");
    const res = await request(`${app.url}/auth/reset-password`, {
      json: { token: resetToken(), password: "a brand new password" },
    });
    expect(res.status).toBe(200);
    expect(res.text).toBe("null");
    await bearerMode.login(app.url, "rita@example.com", "a brand new password");
    const old = await request(`${app.url}/auth/jwt/login`, {
      form: { username: "rita@example.com", password: "correct horse battery" },
    });
    expect(old.status).toBe(400);
  });

  it("ASVS 5.0 6.4.1: a reset token is single-use -> second use 400 RESET_PASSWORD_BAD_TOKEN", async () => {
    await forgot("rita@example.com");
    const token = resetToken();
    await request(`${app.url}/auth/reset-password`, {
      json: { token, password: "a brand new password" },
    });
    const again = await request(`${app.url}/auth/reset-password`, {
      json: { token, password: "another new password" },
    });
    expect(again).toMatchObject({ status: 400, body: { detail: "RESET_PASSWORD_BAD_TOKEN" } });
  });

  it("a token dies when the password changes by other means", async () => {
    await forgot("rita@example.com");
    const token = resetToken();
    const headers = await bearerMode.login(app.url, "rita@example.com", "correct horse battery");
    await request(`${app.url}/users/me`, {
      method: "PATCH",
      headers,
      json: { password: "changed in between", current_password: "correct horse battery" },
    });
    const res = await request(`${app.url}/auth/reset-password`, {
      json: { token, password: "a brand new password" },
    });
    expect(res).toMatchObject({ status: 400, body: { detail: "RESET_PASSWORD_BAD_TOKEN" } });
  });

  it("an invalid new password -> 400 RESET_PASSWORD_INVALID_PASSWORD with the reason", async () => {
    await forgot("rita@example.com");
    const res = await request(`${app.url}/auth/reset-password`, {
      json: { token: resetToken(), password: "short" },
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      detail: {
        code: "RESET_PASSWORD_INVALID_PASSWORD",
        reason: "Password should be at least 8 characters",
        reason_code: "PASSWORD_TOO_SHORT",
      },
    });
  });

  it("a verification token is not a reset token -> 400 RESET_PASSWORD_BAD_TOKEN", async () => {
    await request(`${app.url}/auth/request-verify-token`, { json: { email: "rita@example.com" } });
    const verifyToken = app.outbox.find((m) => m.kind === "verify")?.token;
    const res = await request(`${app.url}/auth/reset-password`, {
      json: { token: verifyToken, password: "a brand new password" },
    });
    expect(res).toMatchObject({ status: 400, body: { detail: "RESET_PASSWORD_BAD_TOKEN" } });
  });

  it("garbage token -> 400; missing fields -> 422", async () => {
    const bad = await request(`${app.url}/auth/reset-password`, {
      json: { token: "x.y.z", password: "long enough pw" },
    });
    expect(bad).toMatchObject({ status: 400, body: { detail: "RESET_PASSWORD_BAD_TOKEN" } });
    expect((await request(`${app.url}/auth/reset-password`, { json: { token: "x" } })).status).toBe(
      422,
    );
  });

  it("an inactive user's token -> 400 RESET_PASSWORD_BAD_TOKEN", async () => {
    await forgot("rita@example.com");
    const user = await app.userDb.getByEmail("rita@example.com");
    if (!user) throw new Error("no user");
    await app.userDb.update(user, { isActive: false });
    const res = await request(`${app.url}/auth/reset-password`, {
      json: { token: resetToken(), password: "a brand new password" },
    });
    expect(res).toMatchObject({ status: 400, body: { detail: "RESET_PASSWORD_BAD_TOKEN" } });
  });
});
