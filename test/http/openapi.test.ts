import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Router } from "@koa/router";
import { Validator } from "@seriousme/openapi-schema-validator";
import {
  HttpErrorCode,
  type OpenAPIDocument,
  type OpenAPIMethod,
  type OpenAPIOperation,
  readUser,
  userCreateSchema,
  userUpdateSchema,
} from "@tessera/koa";
import { OAuthFlow } from "@tessera/oauth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { cipher, oidcOf, STATE_SECRET } from "../oauth/support.js";
import { startApp, type TestApp } from "../support/app.js";
import { bearerMode, register, request } from "../support/client.js";
import type { StoreUser } from "../support/stores.js";

// Two apps: the default one, and one with every option that changes the document
// (requiresVerification, the app's own user fields, the docs router under a prefix).
let plain: TestApp;
let custom: TestApp;
let doc: OpenAPIDocument;
let customDoc: OpenAPIDocument;

beforeAll(async () => {
  plain = await startApp({ docs: true });
  custom = await startApp({
    requiresVerification: true,
    refresh: {},
    // Second factors and passkeys (issue 17): the login's MFA routes, the enrolment the
    // policy adds, passkey login, and the signed-in user's routes.
    mfa: { requireFor: "superusers" },
    passkeys: {},
    // Sign in with a provider (issue 16): a cookie backend's router with redirectTo, the
    // associate router and the linked-accounts routes.
    oauth: ({ url, tessera, backends }) => {
      const flow = new OAuthFlow({
        provider: oidcOf(),
        redirectUri: `${url}/auth/idp/callback`,
        associateRedirectUri: `${url}/auth/associate/idp/callback`,
        stateSecret: STATE_SECRET,
        tokenCipher: cipher,
      });
      return [
        tessera.oauthRouter(flow, backends.cookie as NonNullable<typeof backends.cookie>, {
          prefix: "/auth/idp",
          redirectTo: "/welcome",
        }),
        tessera.oauthAssociateRouter(flow, { prefix: "/auth/associate/idp" }),
        tessera.oauthAccountsRouter({ prefix: "/users" }),
      ];
    },
    docs: { prefix: "/api", docsPath: "/reference", title: "Custom <API>", version: "2.0.0" },
    schemas: {
      create: userCreateSchema.extend({ first_name: z.string().max(100) }),
      update: userUpdateSchema.extend({ first_name: z.string().max(100).optional() }),
      read: (user: StoreUser) => ({ ...readUser(user), first_name: "Ada" }),
      readSchema: z.object({ id: z.string(), email: z.email(), first_name: z.string() }),
    },
  });
  doc = (await request(`${plain.url}/openapi.json`)).body as OpenAPIDocument;
  customDoc = (await request(`${custom.url}/api/openapi.json`)).body as OpenAPIDocument;
});
afterAll(async () => {
  await plain.close();
  await custom.close();
});

function operations(document: OpenAPIDocument): [string, OpenAPIOperation][] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]): [string, OpenAPIOperation] => [
      `${method.toUpperCase()} ${path}`,
      op,
    ]),
  );
}

function op(document: OpenAPIDocument, route: string): OpenAPIOperation {
  const [method = "", path = ""] = route.split(" ");
  const found = document.paths[path]?.[method.toLowerCase() as OpenAPIMethod];
  if (!found) throw new Error(`${route} is not in the document`);
  return found;
}

/** Every `detail` code of every example of `operation`. */
function codes(operation: OpenAPIOperation): Set<string> {
  const out = new Set<string>();
  for (const response of Object.values(operation.responses)) {
    for (const example of Object.values(response.content?.["application/json"]?.examples ?? {})) {
      const detail = (example.value as { detail: unknown }).detail;
      out.add(typeof detail === "string" ? detail : (detail as { code: string }).code);
    }
  }
  return out;
}

const BODY = ["413", "422"];
const ALWAYS = ["500", "503"];
const auth = (name: string, login: string, csrf: string[]) => ({
  [`POST /auth/${name}/login`]: [login, "400", ...csrf, "429", ...BODY],
  [`POST /auth/${name}/logout`]: ["204", "401", ...csrf],
  [`POST /auth/${name}/logout-all`]: ["204", "401", ...csrf, "501"],
});
// Every route of the default app and every status its handler can answer (docs/http-api.md;
// 403 CSRF_FAILED on cookie logins and cookie-authenticated changes; 429 where rate limited).
const EXPECTED: Record<string, string[]> = {
  ...auth("jwt", "200", []),
  ...auth("cookie", "204", ["403"]),
  ...auth("db", "200", []),
  "POST /auth/register": ["201", "400", "429", ...BODY],
  "POST /auth/request-verify-token": ["202", "429", ...BODY],
  "POST /auth/verify": ["200", "400", ...BODY],
  "POST /auth/forgot-password": ["202", "429", ...BODY],
  "POST /auth/reset-password": ["200", "400", "429", ...BODY],
  "GET /users/me": ["200", "401"],
  "PATCH /users/me": ["200", "400", "401", "403", "404", "429", ...BODY],
  "GET /users/me/sessions": ["200", "401"],
  "DELETE /users/me/sessions/{sessionId}": ["204", "401", "403", "404"],
  "GET /users/{id}": ["200", "401", "403", "404"],
  "PATCH /users/{id}": ["200", "400", "401", "403", "404", ...BODY],
  "DELETE /users/{id}": ["204", "401", "403", "404"],
  "GET /users/{id}/sessions": ["200", "401", "403", "404"],
  "DELETE /users/{id}/sessions/{sessionId}": ["204", "401", "403", "404"],
};

describe("GET /openapi.json", () => {
  it("is a valid OpenAPI 3.1 document whose references all resolve", async () => {
    const res = await request(`${plain.url}/openapi.json`);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(doc.openapi).toBe("3.1.0");
    for (const document of [doc, customDoc]) {
      const validator = new Validator();
      // Through JSON and back: the document must be plain JSON.
      const result = await validator.validate(JSON.parse(JSON.stringify(document)));
      expect(result.errors ?? []).toEqual([]);
      expect(result.valid).toBe(true);
      expect(validator.version).toBe("3.1");
      expect(() => validator.resolveRefs()).not.toThrow();
    }
    // The validator is not a rubber stamp.
    const broken = { ...JSON.parse(JSON.stringify(doc)), info: { title: "no version" } };
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });

  it("lists every route with every status its handler can answer", () => {
    const actual = Object.fromEntries(
      operations(doc).map(([route, o]) => [route, Object.keys(o.responses).sort()]),
    );
    const expected = Object.fromEntries(
      Object.entries(EXPECTED).map(([route, s]) => [route, [...s, ...ALWAYS].sort()]),
    );
    expect(actual).toEqual(expected);
  });

  it("has every route of the Koa routers' tables, and nothing else", () => {
    const mounted = new Set<string>();
    for (const middleware of plain.koa.middleware) {
      const router = (middleware as { router?: Router }).router;
      for (const layer of router?.stack ?? []) {
        const path = String(layer.path).replace(/:(\w+)/g, "{$1}");
        // The app's own currentUser routes and the docs router are not Tessera's API.
        if (/^\/(protected|openapi\.json|docs)/.test(path)) continue;
        for (const method of layer.methods.filter((m) => m !== "HEAD")) {
          mounted.add(`${method} ${path}`);
        }
      }
    }
    expect(mounted.size).toBe(Object.keys(EXPECTED).length);
    expect(new Set(operations(doc).map(([route]) => route))).toEqual(mounted);
  });

  it("answers only documented statuses when each route is called", async () => {
    await register(plain.url, "olga@example.com");
    const headers = await bearerMode.login(plain.url, "olga@example.com", "correct horse battery");
    const id = "0b6f4c1e-5f2a-4d7b-9a38-1c2d3e4f5a6b";
    // Logouts last: they end the session the other calls use.
    const all = operations(doc);
    const isLogout = ([route]: [string, OpenAPIOperation]) => route.includes("/logout");
    const routes = [...all.filter((r) => !isLogout(r)), ...all.filter(isLogout)];
    for (const [route, operation] of routes) {
      const [method = "", path = ""] = route.split(" ");
      const url = `${plain.url}${path.replace("{id}", id).replace("{sessionId}", "unknown")}`;
      const form = operation.requestBody?.content["application/x-www-form-urlencoded"];
      for (const auth of [{}, headers]) {
        const res = await request(url, {
          method,
          headers: auth,
          ...(form ? { form: {} } : operation.requestBody ? { json: {} } : {}),
        });
        expect(Object.keys(operation.responses), `${route} answered ${res.status}`).toContain(
          String(res.status),
        );
      }
    }
  });

  it("shows every status and code docs/http-api.md promises", () => {
    const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
    const markdown = readFileSync(join(root, "docs", "http-api.md"), "utf8");
    const prefixes: Record<string, string[]> = {
      authRouter: ["/auth/jwt", "/auth/cookie", "/auth/db"],
      registerRouter: ["/auth"],
      verifyRouter: ["/auth"],
      resetPasswordRouter: ["/auth"],
      usersRouter: ["/users"],
      oauthRouter: ["/auth/idp"],
      oauthAssociateRouter: ["/auth/associate/idp"],
      oauthAccountsRouter: ["/users"],
      mfaRouter: ["/users"],
      passkeysRouter: ["/users"],
    };
    const known = new Set<string>(Object.values(HttpErrorCode));
    let rows = 0;
    for (const section of markdown.split(/^## /m)) {
      const router = /`tessera\.(\w+)\(/.exec(section)?.[1];
      if (!router) continue;
      // The refresh-token sections describe the test app's refresh backends.
      const refresh = /^Refresh-token backends, (Bearer|cookie)/.exec(section)?.[1];
      const sectionPrefixes =
        refresh === "Bearer"
          ? ["/auth/refresh"]
          : refresh === "cookie"
            ? ["/auth/refresh-cookie"]
            : (prefixes[router] ?? []);
      for (const row of section.matchAll(/^\| `(GET|POST|PATCH|DELETE) ([^`]+)` \|(.*)$/gm)) {
        const [, method, path = "", rest = ""] = row;
        const statuses = new Set(rest.match(/\b[1-5]\d\d\b/g));
        const rowCodes = (rest.match(/\b[A-Z][A-Z_]+[A-Z]\b/g) ?? []).filter((c) => known.has(c));
        for (const prefix of sectionPrefixes) {
          // The doc names the session parameter `{id}`; the route names it `{sessionId}`.
          const template = `${prefix}${path}`.replace(
            "/me/sessions/{id}",
            "/me/sessions/{sessionId}",
          );
          const operation = op(customDoc, `${method} ${template}`);
          // A success status per transport ("Bearer: 200; Cookie: 204"): one of them is this one's.
          const successes = [...statuses].filter((status) => status < "300");
          if (successes.length > 0) {
            expect(
              successes.some((status) => status in operation.responses),
              template,
            ).toBe(true);
          }
          for (const status of statuses) {
            if (status >= "300") expect(operation.responses).toHaveProperty(status);
          }
          for (const code of rowCodes) expect(codes(operation)).toContain(code);
          rows++;
        }
      }
    }
    // 3 auth routes x 3 backends, register, 2 verify, 2 reset, 9 users routes, login +
    // refresh of the two refresh-token backends, 2 routes of each OAuth router; with MFA
    // and passkeys (issue 17), 4 MFA login and 2 passkey login routes x 3 backends, 5 MFA
    // and 4 passkey routes of the signed-in user.
    expect(rows).toBe(60);
  });

  it("shows the app's own user fields, as the wire carries them", async () => {
    const { schemas } = customDoc.components;
    expect(schemas.UserCreate?.properties).toHaveProperty("first_name");
    expect(schemas.UserCreate?.required).toContain("first_name");
    expect(schemas.UserUpdate?.properties).toHaveProperty("first_name");
    expect(schemas.UserRead?.properties).toHaveProperty("first_name");
    expect(doc.components.schemas.UserCreate?.properties).not.toHaveProperty("first_name");
    const res = await register(custom.url, "fay@example.com", undefined, { first_name: "Fay" });
    expect(res.body).toHaveProperty("first_name");
  });

  it("declares the Bearer and cookie schemes and protects routes with them", () => {
    expect(doc.components.securitySchemes).toMatchObject({
      OAuth2PasswordBearer: {
        type: "oauth2",
        flows: { password: { tokenUrl: "auth/jwt/login", scopes: {} } },
      },
      APIKeyCookie_tessera_auth: { type: "apiKey", in: "cookie", name: "tessera_auth" },
      OAuth2PasswordBearer_db: { flows: { password: { tokenUrl: "auth/db/login" } } },
    });
    const schemes = Object.keys(doc.components.securitySchemes).map((s) => ({ [s]: [] }));
    for (const [route, operation] of operations(doc)) {
      if (route.startsWith("POST /auth/") && !/logout/.test(route)) {
        expect(operation.security, route).toBeUndefined();
      } else if (route.startsWith("POST /auth/cookie/")) {
        expect(operation.security).toEqual([{ APIKeyCookie_tessera_auth: [] }]);
      } else if (!route.startsWith("POST /auth/")) {
        expect(operation.security, route).toEqual(schemes);
      }
    }
    expect(op(doc, "POST /auth/jwt/login").requestBody?.content).toHaveProperty(
      "application/x-www-form-urlencoded",
    );
    expect(op(customDoc, "POST /auth/jwt/login").responses["400"]).toBeDefined();
    expect(codes(op(customDoc, "POST /auth/jwt/login"))).toContain("LOGIN_USER_NOT_VERIFIED");
  });

  it("answers 422 with FastAPI's HTTPValidationError", () => {
    const schema = op(doc, "POST /auth/register").responses["422"]?.content?.["application/json"];
    expect(schema?.schema).toEqual({ $ref: "#/components/schemas/HTTPValidationError" });
    expect(doc.components.schemas.ValidationError).toMatchObject({
      required: ["loc", "msg", "type"],
    });
  });
});
