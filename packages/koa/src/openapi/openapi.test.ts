import {
  AuthenticationBackend,
  BearerTransport,
  CookieTransport,
  type Transport,
  type UserProtocol,
} from "@tessera/core";
import type { Context } from "koa";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { emailSchema, userCreateSchema, userUpdateSchema } from "../schemas.js";
import { Tessera, type TesseraOptions } from "../tessera.js";
import { convertSchema } from "./json-schema.js";
import type { OpenAPIDocument, OpenAPIOperation } from "./types.js";

type User = UserProtocol<string>;

function backend(name: string, transport: Transport) {
  return new AuthenticationBackend<User, string, Context>({
    name,
    transport,
    getStrategy: () => {
      throw new Error("not called: the document is built without requests");
    },
  });
}

const jwt = backend("jwt", new BearerTransport({ tokenUrl: "auth/jwt/login" }));
const cookie = backend("cookie", new CookieTransport());
const db = backend("db", new BearerTransport({ tokenUrl: "auth/db/login" }));

function tessera(options: Partial<TesseraOptions<User, string>> = {}) {
  return new Tessera<User, string>({
    getUserManager: () => {
      throw new Error("not called");
    },
    backends: [jwt, cookie, db],
    ...options,
  });
}

/** Every router Tessera has, mounted as FastAPI Users' examples do. */
function mountAll(t: Tessera<User, string>) {
  return [
    t.authRouter(jwt, { prefix: "/auth/jwt" }),
    t.authRouter(cookie, { prefix: "/auth/cookie" }),
    t.registerRouter({ prefix: "/auth" }),
    t.verifyRouter({ prefix: "/auth" }),
    t.resetPasswordRouter({ prefix: "/auth" }),
    t.usersRouter({ prefix: "/users" }),
  ];
}

function operation(doc: OpenAPIDocument, method: string, path: string): OpenAPIOperation {
  const op = doc.paths[path]?.[method as "get"];
  if (!op) throw new Error(`${method} ${path} missing`);
  return op;
}

describe("tessera.openapi()", () => {
  it("describes every route of every router's route table, with its prefix", () => {
    const t = tessera();
    const routers = mountAll(t);
    const doc = t.openapi();
    let routes = 0;
    for (const router of routers) {
      for (const layer of router.stack) {
        for (const method of layer.methods.filter((m) => m !== "HEAD")) {
          routes++;
          const path = String(layer.path).replace(/:(\w+)/g, "{$1}");
          const op = operation(doc, method.toLowerCase(), path);
          expect(op.responses.default, `${method} ${path} has a description`).toBeUndefined();
          expect(op.summary).toBeTruthy();
        }
      }
    }
    // 3 auth routes x 2 backends, register, 2 verify, 2 reset, 9 users routes.
    expect(routes).toBe(20);
    const documented = Object.values(doc.paths).flatMap((item) => Object.keys(item));
    expect(documented).toHaveLength(routes);
  });

  it("follows a prefix changed after the router was made, and templates Koa parameters", () => {
    const t = tessera();
    t.usersRouter({ prefix: "/users" }).prefix("/api/users");
    const doc = t.openapi();
    expect(Object.keys(doc.paths)).toContain("/api/users/{id}");
    expect(Object.keys(doc.paths)).toContain("/api/users/me/sessions/{sessionId}");
    const params = operation(doc, "delete", "/api/users/me/sessions/{sessionId}").parameters;
    expect(params).toContainEqual(expect.objectContaining({ name: "sessionId", in: "path" }));
  });

  it("shows a route an app added to a Tessera router, marked undescribed", () => {
    const t = tessera();
    t.usersRouter({ prefix: "/users" }).get("/me/avatar/:size", (ctx) => {
      ctx.body = "";
    });
    const op = operation(t.openapi(), "get", "/users/me/avatar/{size}");
    expect(op.responses.default?.description).toBe("Not described by Tessera");
    expect(op.parameters).toEqual([expect.objectContaining({ name: "size", required: true })]);
  });

  it("keeps operation ids unique when a router is mounted twice", () => {
    const t = tessera();
    t.registerRouter({ prefix: "/auth" });
    t.registerRouter({ prefix: "/v2/auth" });
    const doc = t.openapi();
    expect(operation(doc, "post", "/auth/register").operationId).toBe("register:register");
    expect(operation(doc, "post", "/v2/auth/register").operationId).toBe("register:register_2");
  });

  it("names one security scheme per distinct transport, and secures /users by any backend", () => {
    const t = tessera();
    mountAll(t);
    const doc = t.openapi();
    expect(doc.components.securitySchemes).toEqual({
      OAuth2PasswordBearer: {
        type: "oauth2",
        flows: { password: { tokenUrl: "auth/jwt/login", scopes: {} } },
      },
      APIKeyCookie_tessera_auth: { type: "apiKey", in: "cookie", name: "tessera_auth" },
      OAuth2PasswordBearer_db: {
        type: "oauth2",
        flows: { password: { tokenUrl: "auth/db/login", scopes: {} } },
      },
    });
    expect(operation(doc, "get", "/users/me").security).toEqual([
      { OAuth2PasswordBearer: [] },
      { APIKeyCookie_tessera_auth: [] },
      { OAuth2PasswordBearer_db: [] },
    ]);
    // Logout reads only its own backend's transport.
    expect(operation(doc, "post", "/auth/cookie/logout").security).toEqual([
      { APIKeyCookie_tessera_auth: [] },
    ]);
    expect(operation(doc, "post", "/auth/jwt/login").security).toBeUndefined();
  });

  it("shows the app's create, update and read schemas", () => {
    const t = tessera({
      schemas: {
        create: userCreateSchema.extend({ first_name: z.string().max(100) }),
        update: userUpdateSchema.extend({ first_name: z.string().max(100).optional() }),
        readSchema: z.object({ id: z.uuid(), email: z.email(), first_name: z.string() }),
      },
    });
    mountAll(t);
    const { schemas } = t.openapi().components;
    expect(schemas.UserCreate).toMatchObject({
      properties: { first_name: { type: "string", maxLength: 100 } },
      required: ["email", "password", "first_name"],
    });
    expect(schemas.UserUpdate).toMatchObject({ properties: { first_name: { type: "string" } } });
    expect(schemas.UserUpdate?.required).toBeUndefined();
    expect(schemas.UserRead).toMatchObject({
      properties: { id: { format: "uuid" }, first_name: { type: "string" } },
    });
  });

  it("takes a read schema written as JSON Schema as it is", () => {
    const readSchema = { type: "object", properties: { nickname: { type: "string" } } };
    const t = tessera({ schemas: { readSchema } });
    t.usersRouter({ prefix: "/users" });
    expect(t.openapi().components.schemas.UserRead).toEqual({ title: "UserRead", ...readSchema });
  });

  it("documents the errors requiresVerification adds", () => {
    const t = tessera();
    t.authRouter(jwt, { prefix: "/auth/jwt", requiresVerification: true });
    t.usersRouter({ prefix: "/users", requiresVerification: true });
    const doc = t.openapi();
    const login = operation(doc, "post", "/auth/jwt/login").responses["400"];
    expect(Object.keys(login?.content?.["application/json"]?.examples ?? {})).toEqual([
      "LOGIN_BAD_CREDENTIALS",
      "LOGIN_USER_NOT_VERIFIED",
    ]);
    expect(operation(doc, "post", "/auth/jwt/logout").responses["403"]).toBeDefined();
    expect(operation(doc, "get", "/users/me").responses["403"]).toBeDefined();
  });

  it("documents CSRF failures of cookie logins and cookie-authenticated changes", () => {
    const t = tessera();
    mountAll(t);
    const doc = t.openapi();
    const codes = (op: OpenAPIOperation) =>
      Object.keys(op.responses["403"]?.content?.["application/json"]?.examples ?? {});
    expect(codes(operation(doc, "post", "/auth/cookie/login"))).toEqual(["CSRF_FAILED"]);
    expect(codes(operation(doc, "post", "/auth/cookie/logout"))).toEqual(["CSRF_FAILED"]);
    expect(codes(operation(doc, "patch", "/users/me"))).toEqual(["CSRF_FAILED"]);
    expect(codes(operation(doc, "delete", "/users/{id}"))).toEqual(["Forbidden", "CSRF_FAILED"]);
    expect(operation(doc, "patch", "/users/me").parameters).toContainEqual(
      expect.objectContaining({ name: "x-csrf-token", in: "header", required: false }),
    );
    // Bearer tokens are not sent by browsers on their own; safe methods are not checked.
    expect(operation(doc, "post", "/auth/jwt/login").responses["403"]).toBeUndefined();
    expect(operation(doc, "post", "/auth/jwt/logout").responses["403"]).toBeUndefined();
    expect(operation(doc, "get", "/users/me").responses["403"]).toBeUndefined();

    const off = tessera({ csrf: false });
    mountAll(off);
    const plain = off.openapi();
    expect(operation(plain, "post", "/auth/cookie/login").responses["403"]).toBeUndefined();
    expect(operation(plain, "patch", "/users/me").parameters).toBeUndefined();
  });

  it("returns a fresh copy each time", () => {
    const t = tessera();
    mountAll(t);
    const first = t.openapi({ title: "First" });
    delete first.components.schemas.ErrorModel;
    expect(t.openapi().components.schemas.ErrorModel).toBeDefined();
    expect(t.openapi().info).toEqual({ title: "Tessera", version: "0.1.0" });
  });
});

describe("convertSchema", () => {
  it("states the email rule as the pattern the server validates with", () => {
    const { schema } = convertSchema(z.object({ email: emailSchema }), "input");
    const { email } = schema.properties as { email: { pattern: string; maxLength: number } };
    expect(email.maxLength).toBe(320);
    const pattern = new RegExp(email.pattern);
    // The schema accepts exactly what the server accepts, spaces around the address included.
    for (const value of [
      "ada@example.com",
      " ada@example.com\n",
      "a.b+c@sub.example.org",
      "ada@example",
      "ada@@example.com",
      ".ada@example.com",
      "ada example@example.com",
      "ädä@example.com",
      "",
    ]) {
      expect(pattern.test(value), value).toBe(emailSchema.safeParse(value).success);
    }
  });

  it("gives new passwords the policy's bounds, and current passwords none", () => {
    const facts = { passwordBounds: { minLength: 10, maxLength: 200 } };
    const { schema } = convertSchema(userUpdateSchema, "input", facts);
    const properties = schema.properties as Record<string, Record<string, unknown>>;
    expect(properties.password).toMatchObject({ minLength: 10, maxLength: 200 });
    expect(properties.current_password?.minLength).toBeUndefined();
    expect(schema.additionalProperties).toBe(true);
  });

  it("turns what JSON Schema cannot express into {}, not an error", () => {
    const { schema } = convertSchema(z.object({ at: z.date() }), "input");
    expect(schema).toMatchObject({ properties: { at: {} } });
  });

  it("hoists named schemas to components and points references there", () => {
    const address = z.object({ city: z.string() }).meta({ id: "TestAddress" });
    const { schema, defs } = convertSchema(z.object({ address }), "output");
    expect(schema).toMatchObject({
      properties: { address: { $ref: "#/components/schemas/TestAddress" } },
    });
    expect(defs.TestAddress).toMatchObject({ properties: { city: { type: "string" } } });
  });
});
