import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startApp, type TestApp } from "../support/app.js";
import { register, request } from "../support/client.js";

let app: TestApp;
beforeEach(async () => {
  app = await startApp();
  await register(app.url, "vera@example.com");
});
afterEach(async () => app.close());

const tokenFor = (email: string) =>
  app.outbox.filter((m) => m.kind === "verify" && m.email === email).at(-1)?.token;

describe("POST /auth/request-verify-token", () => {
  it("202 with a null body, and the token goes to the hook only", async () => {
    const res = await request(`${app.url}/auth/request-verify-token`, {
      json: { email: "vera@example.com" },
    });
    expect(res.status).toBe(202);
    expect(res.text).toBe("null");
    expect(tokenFor("vera@example.com")).toEqual(expect.any(String));
  });

  it("202 for an unknown email too, and nothing is sent", async () => {
    const res = await request(`${app.url}/auth/request-verify-token`, {
      json: { email: "ghost@example.com" },
    });
    expect(res.status).toBe(202);
    expect(app.outbox).toHaveLength(0);
  });

  it("202 for an already verified user, and nothing is sent", async () => {
    const user = await app.userDb.getByEmail("vera@example.com");
    if (!user) throw new Error("no user");
    await app.userDb.update(user, { isVerified: true });
    const res = await request(`${app.url}/auth/request-verify-token`, {
      json: { email: "vera@example.com" },
    });
    expect(res.status).toBe(202);
    expect(app.outbox).toHaveLength(0);
  });

  it("an invalid email -> 422", async () => {
    const res = await request(`${app.url}/auth/request-verify-token`, { json: { email: "nope" } });
    expect(res.status).toBe(422);
  });
});

describe("POST /auth/verify", () => {
  it("200 with the verified user", async () => {
    await request(`${app.url}/auth/request-verify-token`, { json: { email: "vera@example.com" } });
    const res = await request(`${app.url}/auth/verify`, {
      json: { token: tokenFor("vera@example.com") },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ email: "vera@example.com", is_verified: true });
  });

  it("a second use -> 400 VERIFY_USER_ALREADY_VERIFIED", async () => {
    await request(`${app.url}/auth/request-verify-token`, { json: { email: "vera@example.com" } });
    const token = tokenFor("vera@example.com");
    await request(`${app.url}/auth/verify`, { json: { token } });
    const res = await request(`${app.url}/auth/verify`, { json: { token } });
    expect(res).toMatchObject({ status: 400, body: { detail: "VERIFY_USER_ALREADY_VERIFIED" } });
  });

  it.each(["garbage", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", ""])(
    "a bad token %j -> 400 VERIFY_USER_BAD_TOKEN",
    async (token) => {
      const res = await request(`${app.url}/auth/verify`, { json: { token } });
      expect(res).toMatchObject({ status: 400, body: { detail: "VERIFY_USER_BAD_TOKEN" } });
    },
  );

  it("a reset-password token is not a verification token -> 400 VERIFY_USER_BAD_TOKEN", async () => {
    await request(`${app.url}/auth/forgot-password`, { json: { email: "vera@example.com" } });
    const reset = app.outbox.find((m) => m.kind === "reset")?.token;
    const res = await request(`${app.url}/auth/verify`, { json: { token: reset } });
    expect(res).toMatchObject({ status: 400, body: { detail: "VERIFY_USER_BAD_TOKEN" } });
  });

  it("a missing token -> 422", async () => {
    expect((await request(`${app.url}/auth/verify`, { json: {} })).status).toBe(422);
  });
});
