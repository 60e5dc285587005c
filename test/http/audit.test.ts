// Issue 18: the audit stream over real HTTP, on the memory test app. Each event type is
// triggered by the requests that cause it, and its fields are checked: who (user id, email),
// where (client address, user agent, method, path, operation, backend), when (UTC), what
// (type, reason). Events never hold a password, a token, a token digest or a code; a sink
// that throws, rejects or never settles fails and delays no request.
// ASVS 5.0 16.2.1 (metadata: when, where, who, what), 16.2.2 (UTC), 16.2.5 (no credentials
// or session tokens in logs), 16.3.1 (authentication operations, success and failure),
// 16.3.2 (failed authorization), 16.3.3 (bypass attempts: CSRF, anti-automation),
// 16.4.1 (encoding against log injection), 16.5.2 (operates on when a logging sink fails).
import { createHash } from "node:crypto";
import type { AuditEvent, AuditEventType } from "@tessera/core";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stepAt, totpAtStep } from "../../packages/mfa/src/test-utils/rfc6238.js";
import { startApp, type TestApp } from "../support/app.js";
import { cookieMode, type Reply, register, request } from "../support/client.js";

const PASSWORD = "correct horse battery";
const NEW_PASSWORD = "a brand new passphrase";
const AGENT = "audit-test/1.0 (+https://example.test)";
// The TOTP clock of the app: the middle of a step, moved by the tests.
let now = Math.floor(Date.now() / 30_000) * 30_000 + 15_000;

const events: AuditEvent[] = [];
/** Every secret a test handled: none may appear in any event. */
const secrets = new Set<string>();

let app: TestApp;
beforeAll(async () => {
  app = await startApp({
    mfa: { now: () => now },
    refresh: {},
    onAuditEvent: (event) => {
      events.push(event);
    },
  });
});
afterAll(() => app.close());

const fresh = (tag: string) => `audit-${tag}-${Math.random().toString(36).slice(2)}@example.com`;
const agent = { "user-agent": AGENT };

/** The events of `type` about `email` (or with this email tried). */
const about = <T extends AuditEventType>(type: T, email: string) =>
  events.filter((e): e is Extract<AuditEvent, { type: T }> => e.type === type && e.email === email);

/** The one event of `type` about `email`. */
function only<T extends AuditEventType>(type: T, email: string): Extract<AuditEvent, { type: T }> {
  const found = about(type, email);
  expect(found, JSON.stringify(events.slice(-5), null, 1)).toHaveLength(1);
  return found[0] as Extract<AuditEvent, { type: T }>;
}

async function signUp(tag: string): Promise<{ email: string; id: string }> {
  const email = fresh(tag);
  const res = await register(app.url, email, PASSWORD);
  expect(res.status, res.text).toBe(201);
  return { email, id: (res.body as { id: string }).id };
}

async function bearer(email: string, backend = "jwt", password = PASSWORD): Promise<string> {
  const res = await request(`${app.url}/auth/${backend}/login`, {
    form: { username: email, password },
    headers: agent,
  });
  expect(res.status, res.text).toBe(200);
  const token = (res.body as { access_token: string }).access_token;
  secrets.add(token);
  const refresh = (res.body as { refresh_token?: string }).refresh_token;
  if (refresh) secrets.add(refresh);
  return token;
}

/** The request context every HTTP event carries. */
function expectRequest(event: AuditEvent, method: string, route: string): void {
  expect(event.ip).toBe("127.0.0.1");
  expect(event.method).toBe(method);
  expect(event.route).toBe(route);
  // ISO 8601 in UTC, now (ASVS 5.0 16.2.2).
  expect(event.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  expect(Math.abs(Date.parse(event.timestamp) - Date.now())).toBeLessThan(60_000);
}

describe("authentication operations are audited, success and failure (ASVS 5.0 16.3.1)", () => {
  it("login_succeeded: a password login, with who, where and which backend", async () => {
    const { email, id } = await signUp("login");
    await bearer(email);
    const event = only("login_succeeded", email);
    expect(event).toMatchObject({
      reason: "password",
      userId: id,
      userAgent: AGENT,
      operation: "auth:jwt.login",
      backend: "jwt",
    });
    expectRequest(event, "POST", "/auth/jwt/login");
  });

  it("login_failed: a wrong password, an unknown email (both bad_credentials), an inactive account", async () => {
    const { email, id } = await signUp("failed");
    const wrong = await request(`${app.url}/auth/db/login`, {
      form: { username: email.toUpperCase(), password: "not the password" },
      headers: agent,
    });
    expect(wrong.status).toBe(400);
    const event = only("login_failed", email);
    expect(event).toMatchObject({
      reason: "bad_credentials",
      authMethod: "password",
      // The email tried, normalized; the account is not looked up for the event.
      userId: null,
      backend: "db",
      operation: "auth:db.login",
      userAgent: AGENT,
    });
    expectRequest(event, "POST", "/auth/db/login");

    const unknown = fresh("unknown");
    await request(`${app.url}/auth/jwt/login`, { form: { username: unknown, password: PASSWORD } });
    expect(only("login_failed", unknown)).toMatchObject({ reason: "bad_credentials" });

    // Deactivated behind Tessera's back: the answer is bad credentials, the event says why.
    const user = await app.userDb.get(id);
    await app.userDb.update(user as never, { isActive: false });
    const inactive = await request(`${app.url}/auth/jwt/login`, {
      form: { username: email, password: PASSWORD },
    });
    expect(inactive.body).toEqual({ detail: "LOGIN_BAD_CREDENTIALS" });
    expect(about("login_failed", email).map((e) => e.reason)).toEqual([
      "bad_credentials",
      "user_inactive",
    ]);
  });

  it("the second factor: a wrong code is login_failed (method mfa), a right one login_succeeded (mfa); enabling it is a security_change and ends the other sessions", async () => {
    const { email, id } = await signUp("mfa");
    const other = await bearer(email, "db");
    const token = await bearer(email);
    const enrol = await request(`${app.url}/users/me/mfa/totp`, { method: "POST", bearer: token });
    const { secret } = enrol.body as { secret: string };
    secrets.add(secret);
    const code = totpAtStep(secret, stepAt(now));
    secrets.add(code);
    const confirm = await request(`${app.url}/users/me/mfa/totp/confirm`, {
      json: { code },
      bearer: token,
    });
    expect(confirm.status, confirm.text).toBe(200);
    for (const recovery of (confirm.body as { recovery_codes: string[] }).recovery_codes) {
      secrets.add(recovery);
    }
    expect(only("security_change", email)).toMatchObject({
      reason: "mfa_enabled",
      detail: { type: "mfa_enabled", factor: "totp" },
      userId: id,
      backend: "jwt",
      operation: "mfa:confirm_totp",
    });
    // The factor change ended the user's other sessions, the one that made it stays.
    expect(only("session_revoked", email)).toMatchObject({
      reason: "factor_changed",
      scope: "others",
    });
    expect((await request(`${app.url}/users/me`, { bearer: other })).status).toBe(401);
    now += 60_000;

    const step = await request(`${app.url}/auth/jwt/login`, {
      form: { username: email, password: PASSWORD },
    });
    expect((step.body as { detail: string }).detail).toBe("LOGIN_MFA_REQUIRED");
    const mfaToken = (step.body as { mfa_token: string }).mfa_token;
    secrets.add(mfaToken);
    const bad = await request(`${app.url}/auth/jwt/login/mfa`, {
      json: { mfa_token: mfaToken, code: "000000" === code ? "111111" : "000000" },
      headers: agent,
    });
    expect(bad.status).toBe(400);
    const failed = events.filter(
      (e) => e.type === "login_failed" && e.route === "/auth/jwt/login/mfa",
    );
    expect(failed.at(-1)).toMatchObject({
      reason: "mfa_code_invalid",
      authMethod: "mfa",
      backend: "jwt",
      operation: "auth:jwt.login_mfa",
      userAgent: AGENT,
    });
    const good = totpAtStep(secret, stepAt(now));
    secrets.add(good);
    const ok = await request(`${app.url}/auth/jwt/login/mfa`, {
      json: { mfa_token: mfaToken, code: good },
    });
    expect(ok.status, ok.text).toBe(200);
    secrets.add((ok.body as { access_token: string }).access_token);
    expect(about("login_succeeded", email).map((e) => e.reason)).toEqual([
      "password",
      "password",
      "mfa",
    ]);

    // Managing the factor with a wrong password: a failed re-authentication.
    const disable = await request(`${app.url}/users/me/mfa/totp/disable`, {
      json: { password: "not the password" },
      bearer: token,
    });
    expect(disable.status).toBe(400);
    expect(only("reauthentication_failed", email)).toMatchObject({
      reason: "mfa_invalid_password",
      userId: id,
      backend: "jwt",
    });
  });

  it("reauthentication_failed: PATCH /users/me with a wrong current password", async () => {
    const { email, id } = await signUp("reauth");
    const token = await bearer(email);
    const res = await request(`${app.url}/users/me`, {
      method: "PATCH",
      json: { password: NEW_PASSWORD, current_password: "wrong current password" },
      bearer: token,
      headers: agent,
    });
    expect(res.status).toBe(400);
    const event = only("reauthentication_failed", email);
    expect(event).toMatchObject({
      reason: "invalid_current_password",
      userId: id,
      backend: "jwt",
      operation: "users:patch_current_user",
      userAgent: AGENT,
    });
    expectRequest(event, "PATCH", "/users/me");
  });
});

describe("refused tokens and failed authorization (ASVS 5.0 16.3.1, 16.3.2)", () => {
  it("token_refused: a forged bearer token, on a router's route and on currentUser()", async () => {
    const before = events.length;
    const forged = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.forged-signature";
    secrets.add(forged);
    expect((await request(`${app.url}/users/me`, { bearer: forged })).status).toBe(401);
    expect((await request(`${app.url}/protected`, { bearer: forged })).status).toBe(401);
    const refused = events.slice(before).filter((e) => e.type === "token_refused");
    expect(refused.map((e) => [e.reason, e.backend, e.route, e.userId])).toEqual([
      ["token_invalid", "jwt", "/users/me", null],
      ["token_invalid", "jwt", "/protected", null],
    ]);
    // No token at all is no event: anonymous requests are not refusals of a token.
    const quiet = events.length;
    expect((await request(`${app.url}/users/me`)).status).toBe(401);
    expect(events.length).toBe(quiet);
  });

  it("token_refused: a valid token of a deactivated user (user_inactive)", async () => {
    const { email, id } = await signUp("inactive");
    const token = await bearer(email);
    // Deactivated without ending sessions (the raw user database), so the token stays valid.
    await app.userDb.update((await app.userDb.get(id)) as never, { isActive: false });
    expect((await request(`${app.url}/protected/active`, { bearer: token })).status).toBe(401);
    const event = events.findLast((e) => e.type === "token_refused");
    expect(event).toMatchObject({ reason: "user_inactive", userId: id, backend: "jwt" });
    expectRequest(event as AuditEvent, "GET", "/protected/active");
  });

  it("access_denied: a user at a superuser route (not_superuser)", async () => {
    const { email, id } = await signUp("denied");
    const token = await bearer(email);
    const res = await request(`${app.url}/users/${id}`, { bearer: token, headers: agent });
    expect(res.status).toBe(403);
    const event = events.findLast((e) => e.type === "access_denied");
    expect(event).toMatchObject({
      reason: "not_superuser",
      userId: id,
      backend: "jwt",
      operation: "users:user",
      userAgent: AGENT,
    });
    expect((await request(`${app.url}/protected/superuser`, { bearer: token })).status).toBe(403);
    expect(events.findLast((e) => e.type === "access_denied")).toMatchObject({
      route: "/protected/superuser",
      userId: id,
    });
  });

  it("token_refused: an unknown refresh token at POST /refresh (refresh_token_invalid)", async () => {
    const res = await request(`${app.url}/auth/refresh/refresh`, {
      form: { grant_type: "refresh_token", refresh_token: "not-a-refresh-token" },
    });
    expect(res.status).toBe(401);
    expect(events.findLast((e) => e.type === "token_refused")).toMatchObject({
      reason: "refresh_token_invalid",
      backend: "refresh",
      route: "/auth/refresh/refresh",
      operation: "auth:refresh.refresh",
    });
  });

  it("token_theft: a rotated refresh token used again ends its session", async () => {
    const { email, id } = await signUp("theft");
    const login = await request(`${app.url}/auth/refresh/login`, {
      form: { username: email, password: PASSWORD },
    });
    const first = login.body as { access_token: string; refresh_token: string };
    secrets.add(first.access_token);
    secrets.add(first.refresh_token);
    const rotate = (token: string) =>
      request(`${app.url}/auth/refresh/refresh`, {
        form: { grant_type: "refresh_token", refresh_token: token },
        headers: agent,
      });
    const second = (await rotate(first.refresh_token)).body as { refresh_token: string };
    secrets.add(second.refresh_token);
    expect((await rotate(second.refresh_token)).status).toBe(200);
    const stolen = await rotate(first.refresh_token);
    expect((stolen.body as { detail: string }).detail).toBe("REFRESH_TOKEN_REUSED");
    const event = only("token_theft", email);
    expect(event).toMatchObject({
      reason: "refresh_token_reused",
      userId: id,
      sessionId: decodeJwt(first.access_token).sid,
      operation: "auth:refresh.refresh",
      userAgent: AGENT,
    });
    expectRequest(event, "POST", "/auth/refresh/refresh");
  });
});

describe("ended sessions are audited (ASVS 5.0 16.3.1)", () => {
  it("logout (current), logout-all (all), DELETE /users/me/sessions/{id} (one)", async () => {
    const { email, id } = await signUp("logout");
    const refresh = await bearer(email, "refresh");
    const sid = decodeJwt(refresh).sid as string;
    expect(
      (await request(`${app.url}/auth/refresh/logout`, { method: "POST", bearer: refresh })).status,
    ).toBe(204);
    const jwt = await bearer(email);
    const db = await bearer(email, "db");
    const listed = await request(`${app.url}/users/me/sessions`, { bearer: jwt });
    const dbSession = (listed.body as { id: string; current: boolean }[]).find((s) => !s.current);
    expect(dbSession).toBeDefined();
    secrets.add(db);
    const ended = await request(`${app.url}/users/me/sessions/${dbSession?.id}`, {
      method: "DELETE",
      bearer: jwt,
    });
    expect(ended.status, ended.text).toBe(204);
    expect(
      (await request(`${app.url}/auth/jwt/logout-all`, { method: "POST", bearer: jwt })).status,
    ).toBe(204);
    const revoked = about("session_revoked", email);
    expect(revoked.map((e) => [e.reason, e.scope, e.backend, e.operation])).toEqual([
      ["logout", "current", "refresh", "auth:refresh.logout"],
      ["session_ended", "one", "jwt", "users:delete_current_user_session"],
      ["logout_all", "all", "jwt", "auth:jwt.logout_all"],
    ]);
    expect(revoked.map((e) => e.sessionId)).toEqual([sid, dbSession?.id, null]);
    for (const event of revoked) expect(event.userId).toBe(id);
  });

  it("a password change (others), a reset (all), a deactivation and a deletion by a superuser (all)", async () => {
    const { email, id } = await signUp("change");
    const token = await bearer(email);
    const changed = await request(`${app.url}/users/me`, {
      method: "PATCH",
      json: { password: NEW_PASSWORD, current_password: PASSWORD },
      bearer: token,
    });
    expect(changed.status, changed.text).toBe(200);
    secrets.add(NEW_PASSWORD);
    expect(only("session_revoked", email)).toMatchObject({
      reason: "password_changed",
      scope: "others",
      userId: id,
      operation: "users:patch_current_user",
    });

    await request(`${app.url}/auth/forgot-password`, { json: { email } });
    const mail = app.outbox.findLast((m) => m.kind === "reset" && m.email === email);
    secrets.add(mail?.token ?? "");
    const reset = await request(`${app.url}/auth/reset-password`, {
      json: { token: mail?.token, password: PASSWORD },
      headers: agent,
    });
    expect(reset.status, reset.text).toBe(200);
    expect(about("session_revoked", email).at(-1)).toMatchObject({
      reason: "password_reset",
      scope: "all",
      userId: id,
      route: "/auth/reset-password",
      userAgent: AGENT,
    });

    const admin = await signUp("admin");
    await app.userDb.update((await app.userDb.get(admin.id)) as never, { isSuperuser: true });
    const adminToken = await bearer(admin.email);
    const deactivate = await request(`${app.url}/users/${id}`, {
      method: "PATCH",
      json: { is_active: false },
      bearer: adminToken,
    });
    expect(deactivate.status, deactivate.text).toBe(200);
    const removed = await request(`${app.url}/users/${id}`, {
      method: "DELETE",
      bearer: adminToken,
    });
    expect(removed.status).toBe(204);
    expect(about("session_revoked", email).map((e) => [e.reason, e.scope])).toEqual([
      ["password_changed", "others"],
      ["password_reset", "all"],
      ["user_deactivated", "all"],
      ["user_deleted", "all"],
    ]);
    // The event names the user whose sessions ended; the superuser's request made it.
    expect(about("session_revoked", email).at(-1)).toMatchObject({
      userId: id,
      backend: "jwt",
      operation: "users:delete_user",
    });
  });
});

describe("bypass attempts are audited (ASVS 5.0 16.3.3)", () => {
  it("csrf_refused: cross-site, a foreign Origin, no token — each with its reason", async () => {
    const { email, id } = await signUp("csrf");
    const session = await cookieMode.login(app.url, email, PASSWORD);
    for (const value of Object.values(session)) secrets.add(value);
    const cookie = session.cookie ?? "";
    const attempts: Record<string, string>[] = [
      { "sec-fetch-site": "cross-site", origin: "https://evil.example" },
      { origin: "https://evil.example" },
      {},
    ];
    for (const headers of attempts) {
      const res = await request(`${app.url}/users/me`, {
        method: "PATCH",
        json: { password: NEW_PASSWORD, current_password: PASSWORD },
        headers: { cookie, ...headers, ...agent },
      });
      expect(res).toMatchObject({ status: 403, body: { detail: "CSRF_FAILED" } });
    }
    const refused = about("csrf_refused", email);
    expect(refused.map((e) => [e.reason, e.origin, e.fetchSite])).toEqual([
      ["cross_site", "https://evil.example", "cross-site"],
      ["untrusted_origin", "https://evil.example", null],
      ["csrf_token_invalid", null, null],
    ]);
    for (const event of refused) {
      expect(event).toMatchObject({ userId: id, backend: "cookie", userAgent: AGENT });
      expectRequest(event, "PATCH", "/users/me");
    }
    // A cross-site cookie login (login CSRF) is refused and audited too.
    const login = await request(`${app.url}/auth/cookie/login`, {
      form: { username: email, password: PASSWORD },
      headers: { origin: "https://evil.example" },
    });
    expect(login.status).toBe(403);
    expect(events.findLast((e) => e.type === "csrf_refused")).toMatchObject({
      reason: "untrusted_origin",
      route: "/auth/cookie/login",
      operation: "auth:cookie.login",
      backend: "cookie",
    });
  });

  it("rate_limited: the account's login limit, with the limit that refused it (anti-automation)", async () => {
    const seen: AuditEvent[] = [];
    const limited = await startApp({
      rateLimit: { routes: { login: { account: { limit: 2, windowSeconds: 60 }, client: false } } },
      onAuditEvent: (event) => void seen.push(event),
    });
    try {
      const email = fresh("limited");
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await request(`${limited.url}/auth/jwt/login`, {
          form: { username: email, password: "wrong password" },
          headers: agent,
        });
        statuses.push(res.status);
      }
      expect(statuses).toEqual([400, 400, 429]);
      const event = seen.find((e) => e.type === "rate_limited");
      expect(event).toMatchObject({
        reason: "too_many_attempts",
        limiter: "login",
        scope: "account",
        email,
        retryAfterSeconds: expect.any(Number),
        operation: "auth:jwt.login",
        userAgent: AGENT,
      });
      expectRequest(event as AuditEvent, "POST", "/auth/jwt/login");
      // The throttled attempt is no failed login of its own: it was never checked.
      expect(seen.filter((e) => e.type === "login_failed")).toHaveLength(2);
    } finally {
      await limited.close();
    }
  });
});

describe("what events hold (ASVS 5.0 16.2.5, 16.4.1)", () => {
  it("a client-chosen value cannot start a new log line: control characters are escaped", async () => {
    const forged = 'mallory@example.com\n{"type":"login_succeeded"}\r\u2028x';
    await request(`${app.url}/auth/jwt/login`, { form: { username: forged, password: PASSWORD } });
    const event = events.findLast((e) => e.type === "login_failed");
    expect(event?.email).toBe(
      'mallory@example.com\\u000a{"type":"login_succeeded"}\\u000d\\u2028x',
    );
  });

  it("no event holds a password, a token, a token digest, a TOTP or recovery code", async () => {
    // Every test above ran first (vitest runs a file's tests in order).
    expect(events.length).toBeGreaterThan(30);
    const text = JSON.stringify(events);
    for (const secret of [PASSWORD, NEW_PASSWORD, ...secrets]) {
      if (secret.length < 6) continue;
      expect(text).not.toContain(secret);
      // Nor its SHA-256 (how stores keep tokens), in hex or base64url.
      const digest = createHash("sha256").update(secret).digest();
      expect(text).not.toContain(digest.toString("hex"));
      expect(text).not.toContain(digest.toString("base64url"));
    }
    for (const stored of await app.tokenDigests()) expect(text).not.toContain(stored);
    // And no field is named like one.
    const keys = new Set(events.flatMap((e) => Object.keys(e)));
    for (const key of keys) expect(key).not.toMatch(/password|token|secret|code|digest/i);
  });
});

describe("a failing or slow sink fails and delays no request (ASVS 5.0 16.5.2)", () => {
  it.each([
    [
      "throws",
      () => {
        throw new Error("sink down");
      },
    ],
    ["rejects", () => Promise.reject(new Error("sink down"))],
    ["never settles", () => new Promise<void>(() => {})],
  ])("a sink that %s: every request answers as without one", async (how, sink) => {
    const failing = await startApp({ onAuditEvent: sink });
    const errors: unknown[] = [];
    failing.koa.on("error", (error) => errors.push(error));
    try {
      const email = fresh("sink");
      expect((await register(failing.url, email, PASSWORD)).status).toBe(201);
      const ok = await request(`${failing.url}/auth/jwt/login`, {
        form: { username: email, password: PASSWORD },
      });
      expect(ok.status).toBe(200);
      const token = (ok.body as { access_token: string }).access_token;
      const bad: Reply = await request(`${failing.url}/auth/jwt/login`, {
        form: { username: email, password: "wrong password" },
      });
      expect(bad).toMatchObject({ status: 400, body: { detail: "LOGIN_BAD_CREDENTIALS" } });
      expect((await request(`${failing.url}/users/me`, { bearer: "forged" })).status).toBe(401);
      expect(
        (await request(`${failing.url}/auth/jwt/logout`, { method: "POST", bearer: token })).status,
      ).toBe(204);
      // A throw or a rejection reaches the app's error event, once per event.
      if (how === "never settles") expect(errors).toEqual([]);
      else {
        await expect.poll(() => errors.length).toBe(4);
        expect(errors.every((e) => (e as Error).message === "sink down")).toBe(true);
      }
    } finally {
      await failing.close();
    }
  });
});
