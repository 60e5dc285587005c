// Issue 17: login with a second factor over HTTP, on every transport, and the signed-in
// user's factor routes. TOTP codes are computed by the test's own RFC 6238 implementation
// (node:crypto HMAC-SHA1), never by otpauth, the library the server uses. In-memory store.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stepAt, totpAtStep } from "../../packages/mfa/src/test-utils/rfc6238.js";
import { startApp, type TestApp } from "../support/app.js";
import { type Reply, register, request } from "../support/client.js";

const PASSWORD = "correct horse battery";
// The TOTP clock of the apps: the middle of a step, moved by the tests.
let now = Math.floor(Date.now() / 30_000) * 30_000 + 15_000;
const clock = () => now;
const events: { email: string; type: string }[] = [];

let app: TestApp;
beforeAll(async () => {
  app = await startApp({
    mfa: { now: clock },
    refresh: {},
    hooks: {
      onSecurityEvent: (user, event) => void events.push({ email: user.email, type: event.type }),
    },
  });
});
afterAll(() => app.close());

const fresh = () => `mfa-${Math.random().toString(36).slice(2)}@example.com`;

async function passwordLogin(url: string, email: string, backend = "jwt"): Promise<Reply> {
  return request(`${url}/auth/${backend}/login`, { form: { username: email, password: PASSWORD } });
}

async function bearerOf(url: string, email: string, backend = "jwt"): Promise<string> {
  const res = await passwordLogin(url, email, backend);
  expect(res.status, res.text).toBe(200);
  return (res.body as { access_token: string }).access_token;
}

interface Enrolled {
  email: string;
  secret: string;
  token: string;
  recoveryCodes: string[];
  /** The code of the current step (plus `delta` steps), by the test's own RFC 6238. */
  code(delta?: number): string;
}

/** A user with TOTP on, enrolled over HTTP; the clock moved two steps past the confirmation. */
async function enrolled(target: TestApp = app, email = fresh()): Promise<Enrolled> {
  expect((await register(target.url, email, PASSWORD)).status).toBe(201);
  const token = await bearerOf(target.url, email);
  const enrol = await request(`${target.url}/users/me/mfa/totp`, { method: "POST", bearer: token });
  expect(enrol.status, enrol.text).toBe(200);
  const { secret, uri } = enrol.body as { secret: string; uri: string };
  expect(uri).toMatch(/^otpauth:\/\/totp\/Tessera%20Test:.+\?.*secret=/);
  expect(uri).toContain(`secret=${secret}`);
  // Secrets and recovery codes are never cached.
  expect(enrol.headers.get("cache-control")).toBe("no-store");
  const confirm = await request(`${target.url}/users/me/mfa/totp/confirm`, {
    json: { code: totpAtStep(secret, stepAt(now)) },
    bearer: token,
  });
  expect(confirm.status, confirm.text).toBe(200);
  const recoveryCodes = (confirm.body as { recovery_codes: string[] }).recovery_codes;
  expect(confirm.headers.get("cache-control")).toBe("no-store");
  expect(recoveryCodes).toHaveLength(10);
  now += 60_000;
  return {
    email,
    secret,
    token,
    recoveryCodes,
    code: (delta = 0) => totpAtStep(secret, stepAt(now) + delta),
  };
}

/** The password step of a user with a factor: 400 LOGIN_MFA_REQUIRED, no session. */
async function challenge(email: string, backend = "jwt", url = app.url): Promise<string> {
  const res = await passwordLogin(url, email, backend);
  expect(res.status, res.text).toBe(400);
  const body = res.body as { detail: string; mfa_token: string; expires_at: string };
  expect(body.detail).toBe("LOGIN_MFA_REQUIRED");
  expect(typeof body.mfa_token).toBe("string");
  expect(Date.parse(body.expires_at)).toBeGreaterThan(now);
  expect(res.headers.getSetCookie().filter((c) => !c.startsWith("tessera_csrf"))).toEqual([]);
  expect(body).not.toHaveProperty("access_token");
  return body.mfa_token;
}

function second(backend: string, body: Record<string, unknown>, url = app.url) {
  return request(`${url}/auth/${backend}/login/mfa`, { json: body });
}

describe("login without a factor", () => {
  it.each([
    ["jwt", 200],
    ["cookie", 204],
    ["db", 200],
    ["refresh", 200],
  ])("is exactly as before on %s (FastAPI Users clients unaffected)", async (backend, status) => {
    const email = fresh();
    await register(app.url, email, PASSWORD);
    const res = await passwordLogin(app.url, email, backend);
    expect(res.status, res.text).toBe(status);
  });
});

describe("login with TOTP, through each backend's transport", () => {
  it.each(["jwt", "db", "refresh"])(
    "%s: the password step answers 400 LOGIN_MFA_REQUIRED, /login/mfa the token body",
    async (backend) => {
      const user = await enrolled();
      const mfaToken = await challenge(user.email, backend);
      const res = await second(backend, { mfa_token: mfaToken, code: user.code() });
      expect(res.status, res.text).toBe(200);
      const body = res.body as { access_token: string; token_type: string; refresh_token?: string };
      expect(body.token_type).toBe("bearer");
      if (backend === "refresh") expect(typeof body.refresh_token).toBe("string");
      const me = await request(`${app.url}/users/me`, { bearer: body.access_token });
      expect(me.status).toBe(200);
      expect((me.body as { email: string }).email).toBe(user.email);
    },
  );

  it.each(["cookie", "refresh-cookie"])(
    "%s: /login/mfa sets the session cookie (204)",
    async (backend) => {
      const user = await enrolled();
      const mfaToken = await challenge(user.email, backend);
      const res = await second(backend, { mfa_token: mfaToken, code: user.code() });
      expect(res.status, res.text).toBe(204);
      const cookies = res.headers.getSetCookie().map((c) => c.split(";")[0] ?? "");
      const name = backend === "cookie" ? "tessera_auth=" : "tessera_refresh_auth=";
      expect(cookies.some((c) => c.startsWith(name))).toBe(true);
      const me = await request(`${app.url}/users/me`, { headers: { cookie: cookies.join("; ") } });
      expect(me.status).toBe(200);
    },
  );

  it("ASVS 5.0 6.5.5: accepts the previous, current and next step's code, not two steps away", async () => {
    const user = await enrolled();
    for (const delta of [-2, 2]) {
      const res = await second("jwt", {
        mfa_token: await challenge(user.email),
        code: user.code(delta),
      });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ detail: "MFA_CODE_INVALID" });
    }
    // In increasing order: each accepted step is later than the last one used.
    for (const delta of [-1, 0, 1]) {
      const res = await second("jwt", {
        mfa_token: await challenge(user.email),
        code: user.code(delta),
      });
      expect(res.status, `step ${delta}: ${res.text}`).toBe(200);
    }
  });

  it("ASVS 5.0 6.5.1: a code is accepted once; a replay in its window is refused", async () => {
    const user = await enrolled();
    const code = user.code();
    expect((await second("jwt", { mfa_token: await challenge(user.email), code })).status).toBe(
      200,
    );
    const replay = await second("db", { mfa_token: await challenge(user.email, "db"), code });
    expect(replay.status).toBe(400);
    expect(replay.body).toEqual({ detail: "MFA_CODE_INVALID" });
    // An earlier step's code after a later one: refused too.
    const earlier = await second("jwt", {
      mfa_token: await challenge(user.email),
      code: user.code(-1),
    });
    expect(earlier.body).toEqual({ detail: "MFA_CODE_INVALID" });
  });

  it("ASVS 5.0 6.5.1, 6.6.2: the mfa_token is single-use and bound to its backend", async () => {
    const user = await enrolled();
    const mfaToken = await challenge(user.email);
    const other = await second("db", { mfa_token: mfaToken, code: user.code() });
    expect(other.body).toEqual({ detail: "MFA_TOKEN_INVALID" });
    expect((await second("jwt", { mfa_token: mfaToken, code: user.code() })).status).toBe(200);
    now += 30_000;
    const again = await second("jwt", { mfa_token: mfaToken, code: user.code() });
    expect(again.body).toEqual({ detail: "MFA_TOKEN_USED" });
    expect((await second("jwt", { mfa_token: "forged", code: user.code() })).body).toEqual({
      detail: "MFA_TOKEN_INVALID",
    });
  });

  it("ASVS 5.0 6.5.5: the mfa_token expires after 5 minutes", async () => {
    const user = await enrolled();
    const mfaToken = await challenge(user.email);
    now += 301_000;
    const res = await second("jwt", { mfa_token: mfaToken, code: user.code() });
    expect(res.body).toEqual({ detail: "MFA_TOKEN_EXPIRED" });
  });

  it("ASVS 5.0 6.5.1: a recovery code logs in once, and reaches the hook", async () => {
    const user = await enrolled();
    const [recovery = ""] = user.recoveryCodes;
    const res = await second("jwt", {
      mfa_token: await challenge(user.email),
      recovery_code: recovery,
    });
    expect(res.status, res.text).toBe(200);
    expect(events).toContainEqual({ email: user.email, type: "recovery_code_used" });
    const again = await second("jwt", {
      mfa_token: await challenge(user.email),
      recovery_code: recovery,
    });
    expect(again.body).toEqual({ detail: "MFA_CODE_INVALID" });
    const status = await request(`${app.url}/users/me/mfa`, { bearer: user.token });
    expect(status.body).toEqual({
      totp_enabled: true,
      totp_pending: false,
      recovery_codes_left: 9,
    });
  });
});

describe("ASVS 5.0 6.3.1: brute force of the second factor", () => {
  it("is limited per account: a new password step does not reset the count", async () => {
    const limited = await startApp({ mfa: { now: clock }, rateLimit: {} });
    try {
      const user = await enrolled(limited);
      const first = await challenge(user.email, "jwt", limited.url);
      // The challenge takes 5 wrong codes, then it is dead.
      for (let i = 0; i < 5; i++) {
        const res = await second("jwt", { mfa_token: first, code: "000000" }, limited.url);
        expect(res.body).toEqual({ detail: "MFA_CODE_INVALID" });
      }
      expect(
        (await second("jwt", { mfa_token: first, code: user.code() }, limited.url)).status,
      ).toBe(429);
      // A new challenge with the right code: the account's bucket is still empty.
      const next = await challenge(user.email, "jwt", limited.url);
      const res = await second("jwt", { mfa_token: next, code: user.code() }, limited.url);
      expect(res.status).toBe(429);
      expect(res.body).toEqual({ detail: "TOO_MANY_REQUESTS" });
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  });

  it("a dead challenge stays dead (5 wrong codes), whatever the code after", async () => {
    const limited = await startApp({ mfa: { now: clock, maxAttempts: 3 } });
    try {
      const user = await enrolled(limited);
      const mfaToken = await challenge(user.email, "jwt", limited.url);
      for (let i = 0; i < 3; i++)
        await second("jwt", { mfa_token: mfaToken, code: "123456" }, limited.url);
      const res = await second("jwt", { mfa_token: mfaToken, code: user.code() }, limited.url);
      expect(res.body).toEqual({ detail: "MFA_TOKEN_USED" });
    } finally {
      await limited.close();
    }
  });
});

describe("the signed-in user's factor: /users/me/mfa", () => {
  it("shows the status, pending then enabled", async () => {
    const email = fresh();
    await register(app.url, email, PASSWORD);
    const token = await bearerOf(app.url, email);
    const status = () => request(`${app.url}/users/me/mfa`, { bearer: token });
    expect((await status()).body).toEqual({
      totp_enabled: false,
      totp_pending: false,
      recovery_codes_left: 0,
    });
    await request(`${app.url}/users/me/mfa/totp`, { method: "POST", bearer: token });
    expect((await status()).body).toMatchObject({ totp_enabled: false, totp_pending: true });
    const confirm = await request(`${app.url}/users/me/mfa/totp/confirm`, {
      json: { code: "000000" },
      bearer: token,
    });
    expect(confirm.body).toEqual({ detail: "MFA_CODE_INVALID" });
  });

  it("refuses to enrol twice, and to confirm without an enrolment", async () => {
    const user = await enrolled();
    const again = await request(`${app.url}/users/me/mfa/totp`, {
      method: "POST",
      bearer: user.token,
    });
    expect(again.body).toEqual({ detail: "MFA_ALREADY_ENABLED" });
    const email = fresh();
    await register(app.url, email, PASSWORD);
    const confirm = await request(`${app.url}/users/me/mfa/totp/confirm`, {
      json: { code: "123456" },
      bearer: await bearerOf(app.url, email),
    });
    expect(confirm.body).toEqual({ detail: "MFA_NOT_ENROLLING" });
  });

  it("ASVS 5.0 6.5.6: disables with the password (a wrong one refused); logins are one step again", async () => {
    const user = await enrolled();
    const disable = (body: unknown) =>
      request(`${app.url}/users/me/mfa/totp/disable`, { json: body, bearer: user.token });
    const wrong = await disable({ password: "not the password" });
    expect(wrong.status).toBe(400);
    expect(wrong.body).toEqual({ detail: "MFA_INVALID_PASSWORD" });
    expect((await disable({ password: PASSWORD })).status).toBe(204);
    expect(events).toContainEqual({ email: user.email, type: "mfa_disabled" });
    expect((await passwordLogin(app.url, user.email)).status).toBe(200);
    expect((await disable({ password: PASSWORD })).body).toEqual({ detail: "MFA_NOT_ENABLED" });
  });

  it("disables with a current code", async () => {
    const user = await enrolled();
    const res = await request(`${app.url}/users/me/mfa/totp/disable`, {
      json: { code: user.code() },
      bearer: user.token,
    });
    expect(res.status, res.text).toBe(204);
  });

  it("regenerates the recovery codes after a code: the old set stops working", async () => {
    const user = await enrolled();
    const res = await request(`${app.url}/users/me/mfa/recovery-codes`, {
      json: { code: user.code() },
      bearer: user.token,
    });
    expect(res.status, res.text).toBe(200);
    const fresh = (res.body as { recovery_codes: string[] }).recovery_codes;
    expect(fresh).toHaveLength(10);
    const old = await second("jwt", {
      mfa_token: await challenge(user.email),
      recovery_code: user.recoveryCodes[0],
    });
    expect(old.body).toEqual({ detail: "MFA_CODE_INVALID" });
    const renewed = await second("jwt", {
      mfa_token: await challenge(user.email),
      recovery_code: fresh[0],
    });
    expect(renewed.status).toBe(200);
  });

  it("ASVS 5.0 7.4.3: a factor change ends the user's other sessions and keeps this one", async () => {
    const email = fresh();
    await register(app.url, email, PASSWORD);
    const current = await bearerOf(app.url, email, "db");
    const other = await bearerOf(app.url, email, "db");
    const enrol = await request(`${app.url}/users/me/mfa/totp`, {
      method: "POST",
      bearer: current,
    });
    const { secret } = enrol.body as { secret: string };
    const confirm = await request(`${app.url}/users/me/mfa/totp/confirm`, {
      json: { code: totpAtStep(secret, stepAt(now)) },
      bearer: current,
    });
    expect(confirm.status).toBe(200);
    expect(events).toContainEqual({ email, type: "mfa_enabled" });
    expect((await request(`${app.url}/users/me`, { bearer: current })).status).toBe(200);
    expect((await request(`${app.url}/users/me`, { bearer: other })).status).toBe(401);
    now += 60_000;
  });

  it("ASVS 5.0 7.4.3: a cookie session that turns TOTP off is kept; the user's JWT elsewhere ends", async () => {
    const user = await enrolled();
    // Both logins after the factor: password step, then a code each.
    const cookieLogin = await second("cookie", {
      mfa_token: await challenge(user.email, "cookie"),
      code: user.code(),
    });
    expect(cookieLogin.status).toBe(204);
    const jar = cookieLogin.headers.getSetCookie().map((c) => c.split(";")[0] ?? "");
    const csrf = jar.find((c) => c.startsWith("tessera_csrf="))?.slice("tessera_csrf=".length);
    const headers = { cookie: jar.join("; "), "x-csrf-token": csrf ?? "" };
    now += 30_000;
    const bearer = await second("jwt", {
      mfa_token: await challenge(user.email),
      code: user.code(),
    });
    const other = (bearer.body as { access_token: string }).access_token;
    expect((await request(`${app.url}/users/me`, { bearer: other })).status).toBe(200);
    const off = await request(`${app.url}/users/me/mfa/totp/disable`, {
      json: { password: PASSWORD },
      headers,
    });
    expect(off.status, off.text).toBe(204);
    expect((await request(`${app.url}/users/me`, { headers })).status).toBe(200);
    expect((await request(`${app.url}/users/me`, { bearer: other })).status).toBe(401);
  });

  it("is CSRF-checked for the cookie backend, as every user route", async () => {
    const email = fresh();
    await register(app.url, email, PASSWORD);
    const login = await passwordLogin(app.url, email, "cookie");
    const cookies = login.headers.getSetCookie().map((c) => c.split(";")[0] ?? "");
    const res = await request(`${app.url}/users/me/mfa/totp`, {
      method: "POST",
      headers: { cookie: cookies.join("; "), origin: "https://evil.example" },
    });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ detail: "CSRF_FAILED" });
  });
});

describe("the requireFor policy: enrolment within the login", () => {
  it("requireFor everyone: a user without a factor enrols TOTP and is logged in by its confirmation", async () => {
    const strict = await startApp({ mfa: { now: clock, requireFor: "everyone" } });
    try {
      const email = fresh();
      await register(strict.url, email, PASSWORD);
      const res = await passwordLogin(strict.url, email);
      expect(res.status).toBe(400);
      const { detail, mfa_token } = res.body as { detail: string; mfa_token: string };
      expect(detail).toBe("LOGIN_MFA_ENROLMENT_REQUIRED");
      // The enrolment token completes no code login.
      const wrongUse = await second("jwt", { mfa_token, code: "123456" }, strict.url);
      expect(wrongUse.body).toEqual({ detail: "MFA_TOKEN_INVALID" });
      const enrol = await request(`${strict.url}/auth/jwt/login/mfa/enrol`, {
        json: { mfa_token },
      });
      expect(enrol.status, enrol.text).toBe(200);
      const { secret } = enrol.body as { secret: string };
      const confirm = await request(`${strict.url}/auth/jwt/login/mfa/enrol/confirm`, {
        json: { mfa_token, code: totpAtStep(secret, stepAt(now)) },
      });
      expect(confirm.status, confirm.text).toBe(200);
      const body = confirm.body as { access_token: string; recovery_codes: string[] };
      expect(body.recovery_codes).toHaveLength(10);
      expect((await request(`${strict.url}/users/me`, { bearer: body.access_token })).status).toBe(
        200,
      );
      // From now on: the second step.
      now += 60_000;
      await challenge(email, "jwt", strict.url);
    } finally {
      await strict.close();
    }
  });

  it("ASVS 5.0 6.3.2: requireFor superusers stops a superuser without a factor, not a user", async () => {
    const strict = await startApp({ mfa: { now: clock, requireFor: "superusers" } });
    try {
      const plain = fresh();
      await register(strict.url, plain, PASSWORD);
      expect((await passwordLogin(strict.url, plain)).status).toBe(200);
      const admin = fresh();
      await register(strict.url, admin, PASSWORD);
      const stored = await strict.userDb.getByEmail(admin);
      await strict.userDb.update(
        stored as NonNullable<typeof stored>,
        {
          isSuperuser: true,
        } as never,
      );
      const res = await passwordLogin(strict.url, admin);
      expect(res.status).toBe(400);
      expect((res.body as { detail: string }).detail).toBe("LOGIN_MFA_ENROLMENT_REQUIRED");
    } finally {
      await strict.close();
    }
  });

  it("a cookie backend's enrolment confirmation answers 200 with the recovery codes and the cookie", async () => {
    const strict = await startApp({ mfa: { now: clock, requireFor: "everyone" } });
    try {
      const email = fresh();
      await register(strict.url, email, PASSWORD);
      const { mfa_token } = (await passwordLogin(strict.url, email, "cookie")).body as {
        mfa_token: string;
      };
      const enrol = await request(`${strict.url}/auth/cookie/login/mfa/enrol`, {
        json: { mfa_token },
      });
      const { secret } = enrol.body as { secret: string };
      const confirm = await request(`${strict.url}/auth/cookie/login/mfa/enrol/confirm`, {
        json: { mfa_token, code: totpAtStep(secret, stepAt(now)) },
      });
      expect(confirm.status, confirm.text).toBe(200);
      expect((confirm.body as { recovery_codes: string[] }).recovery_codes).toHaveLength(10);
      expect(confirm.headers.getSetCookie().some((c) => c.startsWith("tessera_auth="))).toBe(true);
      now += 60_000;
    } finally {
      await strict.close();
    }
  });
});

describe("bad input is a 4xx, never a 500", () => {
  // With a policy, so the enrolment routes are mounted too (superusers only: the test's
  // users enrol as usual).
  let fuzzed: TestApp;
  beforeAll(async () => {
    fuzzed = await startApp({ mfa: { now: clock, requireFor: "superusers" } });
  });
  afterAll(() => fuzzed.close());
  const bodies: unknown[] = [
    null,
    [],
    "text",
    42,
    {},
    { mfa_token: 1, code: "123456" },
    { mfa_token: "x".repeat(5000), code: "123456" },
    { mfa_token: "abc", code: { $gt: "" } },
    { mfa_token: "abc", code: "123456", recovery_code: "abcd" },
    { mfa_token: "abc" },
    { mfa_token: "abc", code: "１２３４５６" },
    { mfa_token: "abc", recovery_code: "\u0000\u0000" },
    { code: ["123456"] },
    { password: null },
    { code: "123456", password: "x" },
  ];
  it.each(bodies.map((b) => [JSON.stringify(b), b]))("%s", async (_name, body) => {
    const user = await enrolled(fuzzed);
    for (const path of [
      "/auth/jwt/login/mfa",
      "/auth/jwt/login/mfa/enrol",
      "/auth/jwt/login/mfa/enrol/confirm",
      "/users/me/mfa/totp/confirm",
      "/users/me/mfa/totp/disable",
      "/users/me/mfa/recovery-codes",
    ]) {
      const res = await request(`${fuzzed.url}${path}`, { json: body, bearer: user.token });
      expect([400, 422], `${path}: ${res.status} ${res.text}`).toContain(res.status);
    }
    const form = await request(`${fuzzed.url}/auth/jwt/login/mfa`, {
      form: { mfa_token: "a", code: "1" },
    });
    expect(form.status).toBe(422);
  });
});
