// ASVS 5.0 2.2.1, 16.5.1, 16.5.3: property-based fuzzing over HTTP. fast-check generates
// requests — methods, paths, headers, cookies and bodies, valid tokens mixed with garbage —
// for every route of the test app (all four backends), and a real server answers them over
// keep-alive connections. The property: never a 5xx, never a stack trace, never a hang.
import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type TestApp } from "../support/app.js";
import {
  type Answer,
  BACKENDS,
  Client,
  claimsFor,
  hs256,
  login,
  type Outgoing,
  PASSWORD,
  pool,
} from "./support.js";

/** Requests per run: at least 10,000, as the issue asks. */
const BATCH = 50;
const RUNS = 200;
/** Batches on the database stores, where what the adapters pass to queries matters. */
const STORE_RUNS = 60;
/** Batches against tight limits (no identity upkeep: logins soon get 429). */
const LIMITED_RUNS = 40;
const CONCURRENCY = 8;

interface Identity {
  id: string;
  email: string;
  tokens: Record<string, string>;
  csrf: string;
}

let app: TestApp;
let client: Client;
const identities: { user?: Identity; admin?: Identity } = {};
const errors: unknown[] = [];
let remade = 0;
let relogins = 0;

async function makeIdentity(superuser: boolean): Promise<Identity> {
  const email = `fuzz-${randomBytes(5).toString("hex")}@example.com`;
  const created = await client.json("/auth/register", { email, password: PASSWORD });
  if (created.status !== 201) throw new Error(`register: ${created.status} ${created.text}`);
  const id = (created.body as { id: string }).id;
  if (superuser) {
    const user = await app.userDb.get(id);
    if (user) await app.userDb.update(user, { isSuperuser: true });
  }
  const tokens: Record<string, string> = {};
  let csrf = "";
  for (const backend of BACKENDS) {
    const { token, headers } = await login(client, backend, email);
    tokens[backend.name] = token;
    if (backend.transport === "cookie") csrf = headers["x-csrf-token"] ?? "";
  }
  return { id, email, tokens, csrf };
}

/** Fuzzed requests may change a password, deactivate or delete: start over when they did. */
async function ensureIdentities(): Promise<void> {
  for (const role of ["user", "admin"] as const) {
    let identity = identities[role];
    if (!identity) {
      identities[role] = await makeIdentity(role === "admin");
      remade += 1;
      continue;
    }
    for (const backend of BACKENDS) {
      const token = identity.tokens[backend.name] ?? "";
      const headers: Record<string, string> =
        backend.transport === "cookie"
          ? { cookie: `tessera_auth=${token}` }
          : { authorization: `Bearer ${token}` };
      if ((await client.send({ path: "/users/me", headers })).status === 200) continue;
      // Logged out: log in again. Password changed, deactivated or deleted: a new identity.
      const again = await login(client, backend, identity.email).catch(() => null);
      if (again) {
        identity.tokens[backend.name] = again.token;
        if (backend.transport === "cookie") identity.csrf = again.headers["x-csrf-token"] ?? "";
        relogins += 1;
      } else {
        identity = await makeIdentity(role === "admin");
        identities[role] = identity;
        remade += 1;
        break;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// Arbitraries. Values are drawn at generation time; tokens are looked up when sent
// (`{{user.db}}`), so a batch uses whatever identities are alive then.

/** A header value Node's client accepts: tab, printable ASCII and Latin-1. */
const headerText = (max = 60) =>
  fc.string({
    unit: fc
      .integer({ min: 0x20, max: 0xff })
      .filter((c) => c !== 0x7f)
      .map((c) => String.fromCharCode(c)),
    maxLength: max,
  });

const b64url = fc.base64String({ maxLength: 60 }).map((s) => s.replace(/[+/=]/g, "_"));

const tokenRef = fc.constantFrom(
  ...["user", "admin"].flatMap((who) => BACKENDS.map((b) => `{{${who}.${b.name}}}`)),
);

/** A token: a live one, one slightly broken, a JWT-shaped fake, or garbage. */
const tokenish = fc.oneof(
  { weight: 4, arbitrary: tokenRef },
  { weight: 1, arbitrary: fc.tuple(tokenRef, headerText(3)).map(([t, s]) => `${t}${s}`) },
  { weight: 1, arbitrary: tokenRef.map((t) => `${t}`.slice(0, -2)) },
  { weight: 2, arbitrary: fc.tuple(b64url, b64url, b64url).map((p) => p.join(".")) },
  {
    weight: 1,
    arbitrary: fc
      .record({ alg: fc.constantFrom("none", "HS256", "hs256", "RS256", "NONE"), sub: fc.string() })
      .map(({ alg, sub }) => hs256({ alg }, claimsFor(sub), randomBytes(4))),
  },
  { weight: 2, arbitrary: headerText(80) },
);

const authorization = fc.oneof(
  { weight: 5, arbitrary: tokenish.map((t) => `Bearer ${t}`) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom("bearer", "BEARER", "Basic", "Token", ""), tokenish)
      .map(([s, t]) => `${s} ${t}`),
  },
  { weight: 1, arbitrary: headerText(120) },
);

const cookie = fc.oneof(
  { weight: 4, arbitrary: tokenish.map((t) => `tessera_auth=${t}; tessera_csrf={{csrf}}`) },
  { weight: 2, arbitrary: tokenish.map((t) => `tessera_auth=${t}`) },
  {
    weight: 1,
    arbitrary: fc
      .array(
        fc.tuple(fc.constantFrom("tessera_auth", "tessera_csrf", "a", "", " "), headerText(30)),
        { maxLength: 4 },
      )
      .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join("; ")),
  },
  { weight: 1, arbitrary: headerText(100) },
);

const contentType = fc.constantFrom(
  "application/json",
  "application/json; charset=utf-8",
  "application/x-www-form-urlencoded",
  "application/merge-patch+json",
  "text/plain",
  "multipart/form-data; boundary=x",
  "application/JSON",
  "",
  "application/x-www-form-urlencoded; charset=latin1",
);

const headers = fc.record(
  {
    authorization,
    cookie,
    "x-csrf-token": fc.oneof(fc.constant("{{csrf}}"), headerText(40)),
    origin: fc.oneof(
      fc.constantFrom("{{origin}}", "https://evil.example", "null", "http://127.0.0.1", "x"),
      headerText(40),
    ),
    host: fc.oneof(
      fc.constantFrom("{{host}}", "evil.example", "127.0.0.1:1", "[::1]:80", "a b", "", ":::"),
      headerText(30),
    ),
    "sec-fetch-site": fc.constantFrom("same-origin", "cross-site", "same-site", "none", "??"),
    // The app trusts loopback as its proxy: these are parsed, hop by hop, from the right.
    "x-forwarded-for": fc
      .array(
        fc.oneof(
          fc.ipV4(),
          fc.ipV6(),
          fc.ipV4().map((ip) => `${ip}:${Math.floor(Math.random() * 65536)}`),
          fc.ipV6().map((ip) => `[${ip}]:443`),
          fc.constantFrom(
            "unknown",
            "::ffff:1.2.3.4",
            "fe80::1%eth0",
            "1:2:3:4:5:6::1.2.3.4",
            "",
            " ",
          ),
          headerText(20),
        ),
        { maxLength: 5 },
      )
      .map((hops) => hops.join(", ")),
    accept: fc.constantFrom("application/json", "*/*", "text/html", ""),
    "x-fuzz": headerText(200),
  },
  { requiredKeys: [] },
);

/** Strings that broke, or could break, something somewhere. */
const nasty = fc.constantFrom(
  "\u0000",
  "nul\u0000@example.com",
  "{{user.email}}\u0000",
  "{{user.email}}\r\nBcc: x@evil.test",
  "\ud800@example.com",
  "\ufeff{{user.email}}",
  "\u202e{{user.email}}",
  "%00",
  "' OR 1=1 --",
  "$\u007Bjndi:ldap://127.0.0.1/x}",
  "<script>alert(1)</script>",
  "\u0085\u2028\u2029",
  "\u01c5@EXAMPLE.COM",
);

const email = fc.oneof(
  { weight: 3, arbitrary: nasty },
  { weight: 3, arbitrary: fc.emailAddress() },
  { weight: 2, arbitrary: fc.stringMatching(/^[a-z0-9]{1,12}@fuzz\.test$/) },
  {
    weight: 3,
    arbitrary: fc.constantFrom("{{user.email}}", "{{admin.email}}", "nobody@example.com"),
  },
  { weight: 2, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 30 }) },
  // Control characters and NUL: what no email holds, and PostgreSQL text cannot.
  { weight: 1, arbitrary: fc.string({ unit: "binary-ascii", maxLength: 30 }) },
);
const password = fc.oneof(
  { weight: 2, arbitrary: fc.constant(PASSWORD) },
  { weight: 1, arbitrary: nasty },
  {
    weight: 1,
    arbitrary: fc.constantFrom("\ud800 lone surrogate", "pass\u0000word!", "\u{1F600}".repeat(4)),
  },
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary-ascii", maxLength: 40 }) },
);
/** Anything at all, in place of a field's usual type. */
const confusion = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom({ $ne: null }, { $gt: "" }, { $regex: ".*" }, [], null, true, 0, -1, 1e308),
);
const field = <T>(usual: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 5, arbitrary: usual }, { weight: 1, arbitrary: confusion });
const flag = field(fc.boolean());

/** Body fields: those the routes read (each present or not), plus strangers. */
const fields = fc
  .tuple(
    fc.record(
      {
        email: field(email),
        username: field(email),
        password: field(password),
        token: field(fc.oneof(tokenish, fc.constantFrom("{{outbox.verify}}", "{{outbox.reset}}"))),
        grant_type: field(fc.constantFrom("password", "", "client_credentials")),
        is_superuser: flag,
        is_active: flag,
        is_verified: flag,
        current_password: field(password),
        id: field(fc.constantFrom("{{user.id}}", "{{admin.id}}")),
      },
      { requiredKeys: [] },
    ),
    fc.dictionary(
      fc.oneof(
        fc.constantFrom("__proto__", "constructor", "prototype", "$where", "isSuperuser"),
        fc.string({ maxLength: 10 }),
      ),
      confusion,
      { maxKeys: 2 },
    ),
  )
  .map(([known, extra]) => ({ ...extra, ...known }) as Record<string, unknown>);

/** A content type: usually the one the body is written in, sometimes any. */
const typed = (type: string) =>
  fc.oneof({ weight: 4, arbitrary: fc.constant(type) }, { weight: 1, arbitrary: contentType });

/** A body and its content type. */
const payload: fc.Arbitrary<{ body?: string | Buffer; type?: string }> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record(
      { type: fc.option(contentType, { nil: undefined }) },
      { requiredKeys: [] },
    ),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      body: fields.map((f) => JSON.stringify(f)),
      type: typed("application/json"),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      body: fields.map((f) =>
        new URLSearchParams(
          Object.entries(f).map(([k, v]): [string, string] => [
            k,
            typeof v === "string" ? v : JSON.stringify(v),
          ]),
        ).toString(),
      ),
      type: typed("application/x-www-form-urlencoded"),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      body: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
      type: typed("application/json"),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      body: fc.string({ unit: "binary", maxLength: 200 }),
      type: contentType,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      body: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
      type: contentType,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      body: fc.constantFrom(
        '{"email":',
        "[[[[",
        "{}",
        "null",
        "\u0000",
        '{"a":1}x',
        "a=%ZZ&b=%",
        "=&&==",
      ),
      type: contentType,
    }),
  },
);

const id = fc.oneof(
  fc.constantFrom(
    "{{user.id}}",
    "{{admin.id}}",
    "me",
    "000000000000000000000000",
    "0",
    "-1",
    "%00",
    "..%2F",
  ),
  fc.uuid(),
  fc.string({ maxLength: 30 }).map(encodeURIComponent),
);

const BACKEND_NAMES = BACKENDS.map((b) => b.name);
const route = fc.oneof(
  fc
    .tuple(
      fc.constant("POST"),
      fc.constantFrom(...BACKEND_NAMES),
      fc.constantFrom("login", "logout", "logout-all"),
    )
    .map(([m, b, a]) => [m, `/auth/${b}/${a}`] as const),
  fc
    .tuple(
      fc.constant("POST"),
      fc.constantFrom(
        "register",
        "request-verify-token",
        "verify",
        "forgot-password",
        "reset-password",
      ),
    )
    .map(([m, a]) => [m, `/auth/${a}`] as const),
  fc.tuple(fc.constantFrom("GET", "PATCH"), fc.constant("/users/me")),
  fc.tuple(fc.constant("GET"), fc.constant("/users/me/sessions")),
  fc.tuple(fc.constant("DELETE"), id).map(([m, i]) => [m, `/users/me/sessions/${i}`] as const),
  fc
    .tuple(fc.constantFrom("GET", "PATCH", "DELETE"), id)
    .map(([m, i]) => [m, `/users/${i}`] as const),
  fc
    .tuple(
      fc.constant("GET"),
      fc.constantFrom("", "/active", "/verified", "/superuser", "/optional"),
    )
    .map(([m, p]) => [m, `/protected${p}`] as const),
  fc.tuple(
    fc.constantFrom("GET", "POST", "PUT", "OPTIONS", "HEAD", "TRACE"),
    fc.constantFrom(
      "//auth/jwt/login",
      "/auth/jwt/login/",
      "/AUTH/DB/LOGIN",
      "/users/me?x=1&x=2",
      "/users/%ff",
      "/users/..%2fme",
      "/auth/register%00",
      "/",
      "/nope",
    ),
  ),
);

const request: fc.Arbitrary<Outgoing & { method: string }> = fc
  .record({
    route,
    otherMethod: fc.oneof(
      { weight: 9, arbitrary: fc.constant(null) },
      {
        weight: 1,
        arbitrary: fc.constantFrom("GET", "POST", "PATCH", "DELETE", "PUT", "HEAD", "OPTIONS"),
      },
    ),
    headers,
    payload,
  })
  .map(({ route: [method, path], otherMethod, headers: h, payload: { body, type } }) => ({
    method: otherMethod ?? method,
    path,
    headers: {
      ...(h as Record<string, string>),
      ...(type !== undefined ? { "content-type": type } : {}),
    },
    ...(body !== undefined ? { body } : {}),
  }));

/** Fills in `{{user.db}}`-style references with what is alive now. */
function resolve(req: Outgoing & { method: string }): Outgoing & { method: string } {
  const fill = (s: string) =>
    s.replace(/\{\{(\w+)(?:\.([\w-]+))?\}\}/g, (_, who: string, what?: string) => {
      if (who === "origin") return app.url;
      if (who === "host") return new URL(app.url).host;
      if (who === "csrf") return identities.user?.csrf ?? "";
      if (who === "outbox") {
        return app.outbox.findLast((m) => m.kind === what)?.token ?? "";
      }
      const identity = identities[who as "user" | "admin"];
      if (!identity) return "";
      if (what === "email") return identity.email;
      if (what === "id") return identity.id;
      return identity.tokens[what ?? ""] ?? "";
    });
  const headers = Object.fromEntries(
    Object.entries(req.headers ?? {}).map(([k, v]) => [k, fill(String(v))]),
  );
  const body = typeof req.body === "string" ? fill(req.body) : req.body;
  return { ...req, path: fill(req.path), headers, ...(body !== undefined ? { body } : {}) };
}

const UNREACHED = { limit: 100_000, windowSeconds: 60 };
const ROUTES = ["login", "register", "forgotPassword", "requestVerifyToken", "resetPassword"];

/**
 * Sends `runs` batches of generated requests and checks every answer. With `upkeep`, the
 * identities whose tokens the requests use are kept alive between batches.
 */
async function fuzz(runs: number, upkeep: boolean): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  const succeeded = new Map<string, number>();
  let sent = 0;
  const started = performance.now();
  await fc.assert(
    fc.asyncProperty(fc.array(request, { minLength: BATCH, maxLength: BATCH }), async (batch) => {
      const resolved = batch.map(resolve);
      const answers = await pool(resolved.length, CONCURRENCY, (i) =>
        client.send(resolved[i] as Outgoing, 10_000).catch(
          (error: Error): Answer => ({
            status: -1,
            headers: {},
            text: error.message,
            body: undefined,
            ms: 0,
          }),
        ),
      );
      sent += answers.length;
      const bad: string[] = [];
      answers.forEach((answer, i) => {
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        const req = resolved[i] as Outgoing & { method: string };
        if (answer.status < 300) {
          const key = `${req.method} ${req.path.replace(/\/users\/(?!me\b)[^/?]+/, "/users/{id}").replace(/sessions\/.*/, "sessions/{id}")}`;
          succeeded.set(key, (succeeded.get(key) ?? 0) + 1);
        }
        const leak = /\bat \S+ \(|node_modules|\.ts:\d+/.test(answer.text);
        if (answer.status >= 500 || answer.status < 100 || leak) {
          bad.push(
            `${answer.status} ${req.method} ${req.path} headers=${JSON.stringify(req.headers)} ` +
              `body=${JSON.stringify(String(req.body ?? "").slice(0, 300))} -> ${answer.text.slice(0, 300)}`,
          );
        }
      });
      if (errors.length > 0) bad.push(`app error events: ${errors.map(String).join("; ")}`);
      if (bad.length > 0) throw new Error(`${bad.length} bad answers:\n${bad.join("\n")}`);
      if (upkeep) await ensureIdentities();
    }),
    { numRuns: runs, endOnFailure: true },
  );
  const seconds = (performance.now() - started) / 1000;
  const summary = [...statuses.entries()]
    .sort(([a], [b]) => a - b)
    .map(([s, n]) => `${s}: ${n}`)
    .join(", ");
  console.log(
    `fuzz: ${sent} requests in ${seconds.toFixed(1)} s (${Math.round(sent / seconds)}/s); statuses ${summary}` +
      (upkeep ? `; identities remade ${remade} times, ${relogins} logins again` : ""),
  );
  console.log(
    `fuzz: 2xx by route: ${[...succeeded.entries()]
      .sort()
      .map(([k, n]) => `${k} ${n}`)
      .join(", ")}`,
  );
  expect(sent).toBe(runs * BATCH);
  expect([...statuses.keys()].filter((s) => s >= 500 || s < 100)).toEqual([]);
  return statuses;
}

describe.each([
  ["memory", RUNS],
  ["mikroorm-postgresql", STORE_RUNS],
  ["mongo", STORE_RUNS],
] as const)(
  "[%s] ASVS 5.0 2.2.1, 16.5.1, 16.5.3: fuzzed requests to every route never get a 5xx",
  (store, runs) => {
    beforeAll(async () => {
      process.env.TESSERA_HTTP_STORE = store;
      identities.user = undefined;
      identities.admin = undefined;
      errors.length = 0;
      app = await startApp({
        redis: true,
        // Limits no run reaches, and loopback trusted as a proxy, so X-Forwarded-For is parsed.
        rateLimit: {
          trustedProxies: ["127.0.0.0/8", "::1"],
          routes: Object.fromEntries(
            ROUTES.map((r) => [r, { account: UNREACHED, client: UNREACHED }]),
          ),
        },
      });
      app.koa.on("error", (error) => errors.push(error));
      client = new Client(app.url, CONCURRENCY);
      await ensureIdentities();
    }, 60_000);
    afterAll(async () => {
      client?.close();
      await app?.close();
    });

    it(`${BATCH * runs} generated requests: no 5xx, no stack trace, no hang`, async () => {
      await fuzz(runs, true);
    }, 120_000);
  },
);

describe("ASVS 5.0 2.4.1, 16.5.3: fuzzed requests under tight rate limits never get a 5xx", () => {
  beforeAll(async () => {
    process.env.TESSERA_HTTP_STORE = "memory";
    identities.user = undefined;
    identities.admin = undefined;
    errors.length = 0;
    // Tight limits, so that 429s come soon, for accounts and (forwarded) client addresses.
    const tight = {
      account: { limit: 2, windowSeconds: 60 },
      client: { limit: 3, windowSeconds: 60, maxBlockSeconds: 120 },
    };
    app = await startApp({
      redis: true,
      rateLimit: {
        trustedProxies: ["127.0.0.0/8", "::1"],
        routes: Object.fromEntries(ROUTES.map((r) => [r, tight])),
      },
    });
    app.koa.on("error", (error) => errors.push(error));
    client = new Client(app.url, CONCURRENCY);
    await ensureIdentities();
  }, 60_000);
  afterAll(async () => {
    client?.close();
    await app?.close();
  });

  it(`${BATCH * LIMITED_RUNS} generated requests with the limits already reached: no 5xx`, async () => {
    // Reach the limits first: the loopback client's, and the known accounts'.
    const email = identities.user?.email ?? "";
    const answers = [];
    for (let i = 0; i < 4; i++) {
      answers.push(await client.form("/auth/db/login", { username: email, password: "wrong" }));
      answers.push(
        await client.json("/auth/register", { email: `x${i}@fuzz.test`, password: PASSWORD }),
      );
      answers.push(await client.json("/auth/forgot-password", { email }));
    }
    expect(answers.filter((a) => a.status === 429).length).toBeGreaterThan(0);
    await fuzz(LIMITED_RUNS, false);
  }, 120_000);
});
