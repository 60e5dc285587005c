// Issue 17: the OpenAPI document tells the truth about the login's MFA answers. Each case
// gets a real answer from the test app and checks it against what the served document
// says of that operation and status: the body against the documented schema (a small
// JSON Schema check of the keywords the document uses, `$ref`s resolved), and the same
// keys as the documented example. On every transport: Bearer, cookie, and both
// refresh-token ones (the pair).
import type { OpenAPIDocument, OpenAPIMethod, OpenAPIResponse } from "@tessera/koa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stepAt, totpAtStep } from "../../packages/mfa/src/test-utils/rfc6238.js";
import { startApp, type TestApp } from "../support/app.js";
import { type Reply, register, request } from "../support/client.js";

const PASSWORD = "correct horse battery";
let now = Math.floor(Date.now() / 30_000) * 30_000 + 15_000;
const clock = () => now;

let app: TestApp;
let doc: OpenAPIDocument;
beforeAll(async () => {
  // requireFor "everyone": a new user's login answers LOGIN_MFA_ENROLMENT_REQUIRED, and
  // the enrolment routes are mounted.
  app = await startApp({ mfa: { now: clock, requireFor: "everyone" }, refresh: {}, docs: true });
  doc = (await request(`${app.url}/openapi.json`)).body as OpenAPIDocument;
});
afterAll(() => app.close());

const fresh = () => `mfa-doc-${Math.random().toString(36).slice(2)}@example.com`;

/** What the document says `route` answers with `status`. */
function documented(route: string, status: number): OpenAPIResponse {
  const [method = "", path = ""] = route.split(" ");
  const operation = doc.paths[path]?.[method.toLowerCase() as OpenAPIMethod];
  if (!operation) throw new Error(`${route} is not in the document`);
  const response = operation.responses[String(status)];
  if (!response) {
    throw new Error(
      `${route}: the document has no ${status} (it has ${Object.keys(operation.responses)})`,
    );
  }
  return response;
}

/** Where `value` breaks `schema` (JSON Schema 2020-12, the keywords the document uses). */
function violations(schema: Record<string, unknown>, value: unknown, at = "body"): string[] {
  if (typeof schema.$ref === "string") {
    const name = schema.$ref.replace("#/components/schemas/", "");
    const target = doc.components.schemas[name];
    if (!target) return [`${at}: unresolved ${schema.$ref}`];
    return violations(target, value, at);
  }
  const out: string[] = [];
  if (Array.isArray(schema.anyOf)) {
    const all = schema.anyOf.map((s) => violations(s as Record<string, unknown>, value, at));
    if (all.every((v) => v.length > 0)) out.push(`${at}: matches no anyOf (${all.flat()})`);
  }
  if (Array.isArray(schema.allOf)) {
    for (const s of schema.allOf) out.push(...violations(s as Record<string, unknown>, value, at));
  }
  const type = schema.type;
  const typeOf =
    value === null
      ? "null"
      : Array.isArray(value)
        ? "array"
        : Number.isInteger(value)
          ? "integer"
          : typeof value;
  if (typeof type === "string" && type !== typeOf && !(type === "number" && typeOf === "integer")) {
    return [...out, `${at}: ${typeOf}, not ${type}`];
  }
  if ("const" in schema && schema.const !== value) out.push(`${at}: not ${schema.const}`);
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) out.push(`${at}: not in enum`);
  if (schema.format === "date-time" && Number.isNaN(Date.parse(String(value)))) {
    out.push(`${at}: not a date-time`);
  }
  if (typeOf === "object") {
    const object = value as Record<string, unknown>;
    const properties = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
    for (const key of (schema.required ?? []) as string[]) {
      if (!(key in object)) out.push(`${at}.${key}: missing`);
    }
    for (const [key, v] of Object.entries(object)) {
      const property = properties[key];
      if (property) out.push(...violations(property, v, `${at}.${key}`));
      else if (schema.additionalProperties === false) out.push(`${at}.${key}: not allowed`);
    }
  }
  if (typeOf === "array" && schema.items) {
    for (const [i, v] of (value as unknown[]).entries()) {
      out.push(...violations(schema.items as Record<string, unknown>, v, `${at}[${i}]`));
    }
  }
  return out;
}

/** The real answer `res` of `route` is what the document says: status, body, example's keys. */
function expectDocumented(route: string, res: Reply, example?: string) {
  const response = documented(route, res.status);
  const media = response.content?.["application/json"];
  if (res.text === "") {
    expect(media, `${route} ${res.status}: documented with a body, answered none`).toBeUndefined();
    return;
  }
  expect(media?.schema, `${route} ${res.status}: answered a body, documented none`).toBeDefined();
  expect(violations(media?.schema as Record<string, unknown>, res.body)).toEqual([]);
  if (example !== undefined) {
    const value = media?.examples?.[example]?.value as Record<string, unknown> | undefined;
    expect(value, `${route} ${res.status}: no example ${example}`).toBeDefined();
    expect(Object.keys(value ?? {}).sort()).toEqual(
      Object.keys(res.body as Record<string, unknown>).sort(),
    );
    expect(violations(media?.schema as Record<string, unknown>, value)).toEqual([]);
  }
}

const login = (backend: string, email: string) =>
  request(`${app.url}/auth/${backend}/login`, { form: { username: email, password: PASSWORD } });

describe.each(["jwt", "cookie", "refresh", "refresh-cookie"])(
  "the document of %s's MFA login answers",
  (backend) => {
    it("400 LOGIN_MFA_ENROLMENT_REQUIRED, the enrolment, its confirmation, then 400 LOGIN_MFA_REQUIRED and /login/mfa", async () => {
      const email = fresh();
      expect((await register(app.url, email, PASSWORD)).status).toBe(201);
      const base = `POST /auth/${backend}`;

      const enrolment = await login(backend, email);
      expect(enrolment.status, enrolment.text).toBe(400);
      expect((enrolment.body as { detail: string }).detail).toBe("LOGIN_MFA_ENROLMENT_REQUIRED");
      expectDocumented(`${base}/login`, enrolment, "LOGIN_MFA_ENROLMENT_REQUIRED");
      const { mfa_token } = enrolment.body as { mfa_token: string };

      const enrol = await request(`${app.url}/auth/${backend}/login/mfa/enrol`, {
        json: { mfa_token },
      });
      expect(enrol.status, enrol.text).toBe(200);
      expectDocumented(`${base}/login/mfa/enrol`, enrol);
      const { secret } = enrol.body as { secret: string };

      const confirm = await request(`${app.url}/auth/${backend}/login/mfa/enrol/confirm`, {
        json: { mfa_token, code: totpAtStep(secret, stepAt(now)) },
      });
      expect(confirm.status, confirm.text).toBe(200);
      expect((confirm.body as { recovery_codes: string[] }).recovery_codes).toHaveLength(10);
      expectDocumented(`${base}/login/mfa/enrol/confirm`, confirm);
      // The documented 200 of the confirmation names the recovery codes, on every transport.
      const confirmSchema = JSON.stringify(
        documented(`${base}/login/mfa/enrol/confirm`, 200).content?.["application/json"]?.schema,
      );
      expect(confirmSchema).toContain("recovery_codes");
      expect(documented(`${base}/login/mfa/enrol/confirm`, 200)).toBeDefined();
      now += 60_000;

      const challenge = await login(backend, email);
      expect(challenge.status, challenge.text).toBe(400);
      expect((challenge.body as { detail: string }).detail).toBe("LOGIN_MFA_REQUIRED");
      expectDocumented(`${base}/login`, challenge, "LOGIN_MFA_REQUIRED");

      const done = await request(`${app.url}/auth/${backend}/login/mfa`, {
        json: {
          mfa_token: (challenge.body as { mfa_token: string }).mfa_token,
          code: totpAtStep(secret, stepAt(now)),
        },
      });
      expect(done.status, done.text).toBe(backend.includes("cookie") ? 204 : 200);
      expectDocumented(`${base}/login/mfa`, done);
      now += 60_000;
    });
  },
);

it("a cookie backend's confirmation is documented as 200 with recovery_codes, not 204", () => {
  const responses = doc.paths["/auth/cookie/login/mfa/enrol/confirm"]?.post?.responses ?? {};
  expect(responses).not.toHaveProperty("204");
  expect(responses["200"]?.content?.["application/json"]?.schema).toMatchObject({
    required: ["recovery_codes"],
  });
});

it("the checker is not a rubber stamp", () => {
  const schema = { $ref: "#/components/schemas/LoginMfaChallenge" };
  expect(violations(schema, { detail: "LOGIN_MFA_REQUIRED" })).not.toEqual([]);
  expect(
    violations(schema, {
      detail: "LOGIN_MFA_REQUIRED",
      mfa_token: "t",
      expires_at: "2026-12-06T09:05:10.000Z",
    }),
  ).toEqual([]);
  expect(violations({ type: "object", additionalProperties: false }, { a: 1 })).not.toEqual([]);
});
