// Tessera's routers as a Koa developer mounts them: next to an app-wide body parser and
// an app's own error middleware, with wrong methods answered as @koa/router's
// allowedMethods() would (issue 12).
import { bodyParser } from "@koa/bodyparser";
import { HttpError } from "@tessera/koa";
import type { Middleware } from "koa";
import { koaBody } from "koa-body";
import { afterEach, describe, expect, it } from "vitest";
import { type AppOptions, startApp, type TestApp } from "../support/app.js";
import { bearerMode, register, request } from "../support/client.js";

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function start(options: AppOptions = {}): Promise<TestApp> {
  app = await startApp(options);
  return app;
}

const PASSWORD = "correct horse battery";

describe("a wrong method on a Tessera path", () => {
  it("answers 405 with Allow and FastAPI's body, not 404", async () => {
    const { url } = await start();
    const res = await request(`${url}/auth/jwt/login`, { method: "GET" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
    expect(res.body).toEqual({ detail: "Method Not Allowed" });
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  });

  it("lists the methods of the path's own routes, not of a parameter route it also matches", async () => {
    const { url } = await start();
    const res = await request(`${url}/users/me`, { method: "PUT", json: {} });
    expect(res.status).toBe(405);
    const allow = (res.headers.get("allow") ?? "").split(", ").sort();
    expect(allow).toEqual(["GET", "HEAD", "PATCH"]);
    // A static segment beats a parameter: /users/me is never the user whose id is "me".
    const deleted = await request(`${url}/users/me`, { method: "DELETE" });
    expect(deleted.status).toBe(405);
  });

  it("answers 405 to TRACE, 501 to a method HTTP does not define, and OPTIONS with Allow", async () => {
    const { url } = await start();
    // fetch refuses to send TRACE: node:http, under the tests' client, does.
    const trace = (await request(`${url}/users/me`, { method: "TRACE" })).status;
    expect(trace).toBe(405);
    const unknown = await request(`${url}/auth/jwt/login`, { method: "PROPFIND" });
    expect(unknown.status).toBe(501);
    expect(unknown.body).toEqual({ detail: "Not Implemented" });
    const options = await request(`${url}/auth/register`, { method: "OPTIONS" });
    expect(options.status).toBe(200);
    expect(options.headers.get("allow")).toBe("POST");
  });

  it("leaves an unknown path to the app (404)", async () => {
    const { url } = await start();
    expect((await request(`${url}/auth/jwt/nowhere`, { method: "GET" })).status).toBe(404);
  });
});

describe("an app's own error middleware", () => {
  /** Reformats every error it sees, and remembers it. */
  function reformatting(seen: unknown[]): Middleware {
    return async (ctx, next) => {
      try {
        await next();
      } catch (error) {
        seen.push(error);
        const { status = 500, code } = error as { status?: number; code?: string };
        ctx.status = status;
        ctx.body = { error: code ?? "unknown" };
      }
    };
  }

  it("sees a route's error with status, expose, code and body, and may reformat it", async () => {
    const seen: unknown[] = [];
    const { url } = await start({ middleware: [reformatting(seen)] });
    await register(url, "ada@example.com");
    const res = await register(url, "ada@example.com");
    expect(res).toMatchObject({ status: 400, body: { error: "REGISTER_USER_ALREADY_EXISTS" } });
    expect(seen).toHaveLength(1);
    const error = seen[0] as HttpError;
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ status: 400, expose: true });
    expect(error.body).toEqual({ detail: "REGISTER_USER_ALREADY_EXISTS" });
  });

  it("sees currentUser's 401, 422s, 405s and 413s too", async () => {
    const seen: unknown[] = [];
    const { url } = await start({ middleware: [reformatting(seen)], bodyLimit: 1024 });
    expect((await request(`${url}/protected/active`)).body).toEqual({ error: "Unauthorized" });
    expect((await request(`${url}/users/me`)).status).toBe(401);
    const invalid = await request(`${url}/auth/register`, { json: { email: "nope" } });
    expect(invalid.status).toBe(422);
    expect((await request(`${url}/auth/register`, { method: "GET" })).status).toBe(405);
    const big = await register(url, "big@example.com", "x".repeat(2000));
    expect(big).toMatchObject({ status: 413, body: { error: "REQUEST_BODY_TOO_LARGE" } });
    expect(seen.map((e) => (e as HttpError).status)).toEqual([401, 401, 422, 405, 413]);
  });

  it("without one, a 5xx still reaches the app's error event with its cause", async () => {
    const { url, koa } = await start({
      hooks: {
        onAfterRegister: () => {
          throw new Error("hook failed");
        },
      },
    });
    const errors: unknown[] = [];
    koa.on("error", (error) => errors.push(error));
    const res = await register(url, "hook@example.com");
    expect(res).toMatchObject({ status: 500, body: { detail: "INTERNAL_SERVER_ERROR" } });
    expect(res.text).not.toContain("hook failed");
    expect(errors).toEqual([expect.objectContaining({ message: "hook failed" })]);
  });
});

// Most Koa apps parse bodies app-wide; Tessera must read what the parser left, with the same
// validation, size limit and prototype-key stripping as a body it reads itself.
describe.each([
  ["@koa/bodyparser", () => bodyParser()],
  ["koa-body", () => koaBody()],
])("with %s mounted app-wide", (_name, parser) => {
  it("registers (JSON) and logs in (form) as without it", async () => {
    const { url } = await start({ middleware: [parser() as Middleware] });
    expect((await register(url, "parsed@example.com")).status).toBe(201);
    const headers = await bearerMode.login(url, "parsed@example.com", PASSWORD);
    const me = await request(`${url}/users/me`, { headers });
    expect(me).toMatchObject({ status: 200, body: { email: "parsed@example.com" } });
  });

  it("answers the same 422s: a missing field, a JSON body on the login form", async () => {
    const { url } = await start({ middleware: [parser() as Middleware] });
    const missing = await request(`${url}/auth/register`, { json: { email: "a@example.com" } });
    expect(missing.status).toBe(422);
    expect(missing.body).toEqual({
      detail: [expect.objectContaining({ type: "missing", loc: ["body", "password"] })],
    });
    const json = await request(`${url}/auth/jwt/login`, {
      json: { username: "a@example.com", password: PASSWORD },
    });
    expect(json.status).toBe(422);
    expect((json.body as { detail: { loc: string[] }[] }).detail.map((d) => d.loc)).toEqual([
      ["body", "username"],
      ["body", "password"],
    ]);
  });

  it("keeps Tessera's body limit (413)", async () => {
    const { url } = await start({ middleware: [parser() as Middleware], bodyLimit: 1024 });
    const res = await register(url, "big@example.com", "x".repeat(4000));
    expect(res).toMatchObject({ status: 413, body: { detail: "REQUEST_BODY_TOO_LARGE" } });
  });

  it("ASVS 5.0 1.5.2: __proto__ and constructor keys reach no user object", async () => {
    const { url } = await start({ middleware: [parser() as Middleware] });
    const res = await registerPolluted(url, "proto@example.com");
    // The parser may refuse such a body itself (400); if it lets it through, Tessera drops the keys.
    if (res.status !== 400)
      expect(res).toMatchObject({ status: 201, body: { is_superuser: false } });
    expect(({} as { is_superuser?: boolean }).is_superuser).toBeUndefined();
  });
});

/** A body whose JSON has own `__proto__` and `constructor.prototype` keys. */
function registerPolluted(url: string, email: string) {
  const raw = `{"email":"${email}","password":"${PASSWORD}","__proto__":{"is_superuser":true},"constructor":{"prototype":{"is_superuser":true}}}`;
  return request(`${url}/auth/register`, { raw, headers: { "content-type": "application/json" } });
}

describe("with a lax app parser (plain JSON.parse keeps __proto__ as an own key)", () => {
  const lax: Middleware = async (ctx, next) => {
    let text = "";
    for await (const chunk of ctx.req) text += chunk;
    (ctx.request as { body?: unknown }).body = JSON.parse(text);
    await next();
  };

  it("ASVS 5.0 1.5.2: Tessera drops the keys before validation", async () => {
    const { url } = await start({ middleware: [lax] });
    const res = await registerPolluted(url, "lax@example.com");
    expect(res).toMatchObject({ status: 201, body: { is_superuser: false } });
    expect(({} as { is_superuser?: boolean }).is_superuser).toBeUndefined();
  });
});

describe("the users router's requireCurrentPassword", () => {
  it("ASVS 5.0 6.2.3: by default a new password needs current_password", async () => {
    const { url } = await start();
    await register(url, "keep@example.com");
    const headers = await bearerMode.login(url, "keep@example.com", PASSWORD);
    const res = await request(`${url}/users/me`, {
      method: "PATCH",
      headers,
      json: { password: "another long password" },
    });
    expect(res).toMatchObject({
      status: 400,
      body: { detail: "UPDATE_USER_INVALID_CURRENT_PASSWORD" },
    });
  });

  it("false: a FastAPI Users front-end changes the password without it, as there", async () => {
    const { url } = await start({ requireCurrentPassword: false });
    await register(url, "compat@example.com");
    const headers = await bearerMode.login(url, "compat@example.com", PASSWORD);
    const res = await request(`${url}/users/me`, {
      method: "PATCH",
      headers,
      json: { password: "another long password" },
    });
    expect(res.status).toBe(200);
    await bearerMode.login(url, "compat@example.com", "another long password");
  });
});

describe("Tessera's passwordPolicy and the user manager's", () => {
  it("a mismatch is a ConfigurationError on the first request, not a silently wrong document", async () => {
    const { url, koa } = await start({ documentedPasswordPolicy: { minLength: 12 } });
    const errors: unknown[] = [];
    koa.on("error", (error) => errors.push(error));
    const res = await register(url, "bounds@example.com");
    expect(res.status).toBe(500);
    expect(errors).toEqual([
      expect.objectContaining({ message: expect.stringContaining("password length bounds") }),
    ]);
  });
});
