import { readUser, userCreateSchema, userUpdateSchema } from "@tessera/koa";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { startApp, type TestApp } from "../support/app.js";
import { bearerMode, register, request } from "../support/client.js";

let app: TestApp;
afterEach(async () => app?.close());

describe("POST /auth/register", () => {
  it("201 with the user in snake_case, never the hash; email stored normalized", async () => {
    app = await startApp();
    const res = await register(app.url, "  New.User@Example.COM ");
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{24,36}$/),
      email: "new.user@example.com",
      is_active: true,
      is_superuser: false,
      is_verified: false,
    });
    expect(res.text).not.toMatch(/hash|argon/i);
  });

  it("the same email in another case -> 400 REGISTER_USER_ALREADY_EXISTS", async () => {
    app = await startApp();
    await register(app.url, "dup@example.com");
    const res = await register(app.url, "DUP@example.com");
    expect(res).toMatchObject({ status: 400, body: { detail: "REGISTER_USER_ALREADY_EXISTS" } });
  });

  it("ASVS 5.0 6.2.1: a short password -> 400 REGISTER_INVALID_PASSWORD with the reason", async () => {
    app = await startApp();
    const res = await register(app.url, "short@example.com", "1234567");
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      detail: {
        code: "REGISTER_INVALID_PASSWORD",
        reason: "Password should be at least 8 characters",
        reason_code: "PASSWORD_TOO_SHORT",
      },
    });
  });

  it("mass assignment: is_superuser/is_verified/is_active/id/hashed_password from the client are ignored", async () => {
    app = await startApp();
    const res = await register(app.url, "sneaky@example.com", "correct horse battery", {
      is_superuser: true,
      is_verified: true,
      is_active: false,
      id: "00000000-0000-4000-8000-000000000000",
      hashed_password: "x",
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ is_superuser: false, is_verified: false, is_active: true });
    expect((res.body as { id: string }).id).not.toBe("00000000-0000-4000-8000-000000000000");
    await bearerMode.login(app.url, "sneaky@example.com", "correct horse battery");
  });

  it.each([
    ["invalid email", { email: "not-an-email", password: "correct horse battery" }],
    [
      "email with CR/LF",
      { email: "a@example.com\r\nBcc: x@example.com", password: "correct horse battery" },
    ],
    ["missing password", { email: "a@example.com" }],
    ["operator object as email", { email: { $ne: null }, password: "correct horse battery" }],
    ["operator object as password", { email: "a@example.com", password: { $gt: "" } }],
    ["number as password", { email: "a@example.com", password: 12345678 }],
    ["array body", [1, 2]],
  ])("%s -> 422 with a detail list", async (_name, body) => {
    app = await startApp();
    const res = await request(`${app.url}/auth/register`, { json: body });
    expect(res.status).toBe(422);
    expect(Array.isArray((res.body as { detail: unknown }).detail)).toBe(true);
  });

  it("malformed JSON -> 422 json_invalid", async () => {
    app = await startApp();
    const res = await request(`${app.url}/auth/register`, {
      raw: '{"email": "a@example.com", ',
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ detail: [{ type: "json_invalid", loc: ["body"] }] });
  });

  it("a body over the configured limit -> 413 REQUEST_BODY_TOO_LARGE", async () => {
    app = await startApp({ bodyLimit: 1024 });
    const res = await register(app.url, "big@example.com", "x".repeat(2000));
    expect(res).toMatchObject({ status: 413, body: { detail: "REQUEST_BODY_TOO_LARGE" } });
  });

  it("__proto__ and constructor keys never reach the stored user", async () => {
    app = await startApp();
    const raw =
      '{"email":"proto@example.com","password":"correct horse battery","__proto__":{"isSuperuser":true},"constructor":{"prototype":{"isSuperuser":true}}}';
    const res = await request(`${app.url}/auth/register`, {
      raw,
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(201);
    const user = await app.userDb.getByEmail("proto@example.com");
    expect(user?.isSuperuser).toBe(false);
    expect(Object.hasOwn(user ?? {}, "__proto__")).toBe(false);
    expect(({} as Record<string, unknown>).isSuperuser).toBeUndefined();
  });

  it("custom schemas: an app field flows through register, me and update", async () => {
    app = await startApp({
      schemas: {
        create: userCreateSchema.extend({ first_name: z.string().max(50) }),
        update: userUpdateSchema.extend({ first_name: z.string().max(50).optional() }),
        read: (user) => ({ ...readUser(user), first_name: user.firstName }),
      },
    });
    const res = await register(app.url, "fn@example.com", "correct horse battery", {
      first_name: "Ada",
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ first_name: "Ada" });
    const headers = await bearerMode.login(app.url, "fn@example.com", "correct horse battery");
    expect((await request(`${app.url}/users/me`, { headers })).body).toMatchObject({
      first_name: "Ada",
    });
    const patched = await request(`${app.url}/users/me`, {
      method: "PATCH",
      headers,
      json: { first_name: "Grace" },
    });
    expect(patched.body).toMatchObject({ first_name: "Grace" });
    const bad = await register(app.url, "fn2@example.com", "correct horse battery", {
      first_name: 42,
    });
    expect(bad.status).toBe(422);
  });
});

describe("password policy lists over HTTP", () => {
  it("ASVS 5.0 6.2.4: with rejectCommonPasswords, a common password -> 400 REGISTER_INVALID_PASSWORD with the reason", async () => {
    app = await startApp({ passwordPolicy: { rejectCommonPasswords: true } });
    const res = await register(app.url, "common@example.com", "Password123");
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      detail: {
        code: "REGISTER_INVALID_PASSWORD",
        reason: "Password is too common; choose one that is harder to guess",
        reason_code: "PASSWORD_TOO_COMMON",
      },
    });
    expect((await register(app.url, "common@example.com", "correct horse battery")).status).toBe(
      201,
    );
  });
});
