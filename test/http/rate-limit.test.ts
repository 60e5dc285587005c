// Rate limiting over HTTP. The first suite runs with Tessera's real defaults (startApp
// otherwise sets limits no test reaches); the others with small limits of their own.
import { afterEach, describe, expect, it } from "vitest";
import { type AppOptions, startApp, type TestApp } from "../support/app.js";
import { bearerMode, register, request } from "../support/client.js";

const PASSWORD = "correct horse battery";
let app: TestApp;
afterEach(async () => app?.close());

const login = (username: string, password: string, path = "/auth/jwt/login", headers = {}) =>
  request(`${app.url}${path}`, { form: { username, password }, headers });
const from = (ip: string) => ({ "x-forwarded-for": ip });

async function start(options: AppOptions) {
  app = await startApp(options);
  await register(app.url, "ada@example.com");
}

describe("with the real defaults (rateLimit: {})", () => {
  it("ASVS 5.0 6.3.1: the 6th failed login for one account in a minute -> 429 with Retry-After, else exactly a failed login", async () => {
    await start({ rateLimit: {} });
    const failed = [];
    for (let i = 0; i < 5; i++) failed.push(await login("ada@example.com", "wrong password"));
    for (const res of failed) expect(res.status).toBe(400);
    const throttled = await login("ada@example.com", "wrong password");
    expect(throttled.status).toBe(429);
    expect(throttled.text).toBe(failed[0]?.text);
    expect(throttled.body).toEqual({ detail: "LOGIN_BAD_CREDENTIALS" });
    expect(Number(throttled.headers.get("retry-after"))).toBe(12);
    // Same headers as a failed login but the date and Retry-After: nothing else tells.
    const names = (h: Headers) =>
      [...h.keys()].filter((k) => !["date", "retry-after"].includes(k)).sort();
    expect(names(throttled.headers)).toEqual(names(failed[0]?.headers ?? new Headers()));
    expect(throttled.headers.get("content-type")).toBe(failed[0]?.headers.get("content-type"));
    // Throttled, the right password gets the same answer: nothing is checked.
    expect((await login("ada@example.com", PASSWORD)).status).toBe(429);
  });

  it("ASVS 5.0 6.3.8: an unknown email is throttled exactly like a known one", async () => {
    await start({ rateLimit: {} });
    const statuses = async (email: string) => {
      const out: number[] = [];
      for (let i = 0; i < 7; i++) out.push((await login(email, "wrong password")).status);
      return out;
    };
    const known = await statuses("ada@example.com");
    const unknown = await statuses("nobody@example.com");
    expect(unknown).toEqual(known);
    expect(known).toEqual([400, 400, 400, 400, 400, 429, 429]);
  });

  it("a successful login gives its attempt back: a user logging in often is never throttled", async () => {
    await start({ rateLimit: {} });
    for (let i = 0; i < 4; i++) await login("ada@example.com", "wrong password");
    for (let i = 0; i < 12; i++) {
      expect((await login("ada@example.com", PASSWORD)).status).toBe(200);
    }
    expect((await login("ada@example.com", "wrong password")).status).toBe(400);
    expect((await login("ada@example.com", "wrong password")).status).toBe(429);
  });

  it("path variants and every backend's login share one bucket per account", async () => {
    await start({ rateLimit: {} });
    const paths = [
      "/auth/jwt/login",
      "/auth/jwt/login/",
      "/auth/JWT/LOGIN",
      "/auth/cookie/login",
      "/auth/db/login",
    ];
    for (const path of paths) {
      expect((await login("ada@example.com", "wrong password", path)).status, path).toBe(400);
    }
    for (const path of [...paths, "//auth/jwt/login", "/auth/jwt//login"]) {
      // Either the same throttled route, or no route at all: never a fresh bucket.
      expect([404, 429], path).toContain((await login("ada@example.com", PASSWORD, path)).status);
    }
  });

  it("ASVS 5.0 2.4.1: forgot-password: 3 per account per 15 minutes, then 429 TOO_MANY_REQUESTS and no mail", async () => {
    await start({ rateLimit: {} });
    const forgot = () =>
      request(`${app.url}/auth/forgot-password`, { json: { email: "ADA@example.com" } });
    for (let i = 0; i < 3; i++) expect((await forgot()).status).toBe(202);
    const throttled = await forgot();
    expect(throttled.status).toBe(429);
    expect(throttled.body).toEqual({ detail: "TOO_MANY_REQUESTS" });
    expect(Number(throttled.headers.get("retry-after"))).toBe(300);
    expect(app.outbox.filter((m) => m.kind === "reset")).toHaveLength(3);
  });

  it("X-Forwarded-For is ignored without a trusted proxy: a client cannot pick its bucket", async () => {
    await start({ rateLimit: {} });
    let last = 0;
    for (let i = 0; i < 21; i++) {
      last = (
        await login(
          `user${i}@example.com`,
          "wrong password",
          "/auth/jwt/login",
          from(`198.51.100.${i}`),
        )
      ).status;
    }
    expect(last).toBe(429);
  });
});

describe("per client address", () => {
  const proxied: AppOptions = {
    rateLimit: {
      trustedProxies: ["127.0.0.1", "::1"],
      routes: { login: { client: { limit: 3, windowSeconds: 60 } } },
    },
  };

  it("ASVS 5.0 6.3.1, 15.3.4: a client is limited across accounts; another client is not", async () => {
    await start(proxied);
    for (let i = 0; i < 3; i++) {
      const res = await login(`u${i}@example.com`, "x", "/auth/jwt/login", from("198.51.100.7"));
      expect(res.status).toBe(400);
    }
    expect(
      (await login("u9@example.com", "x", "/auth/jwt/login", from("198.51.100.7"))).status,
    ).toBe(429);
    expect(
      (await login("u9@example.com", "x", "/auth/jwt/login", from("198.51.100.8"))).status,
    ).toBe(400);
  });

  it("IPv6 clients are grouped by /64", async () => {
    await start(proxied);
    for (const ip of ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::9"]) {
      expect((await login("u@example.com", "x", "/auth/jwt/login", from(ip))).status).toBe(400);
    }
    expect(
      (await login("v@example.com", "x", "/auth/jwt/login", from("2001:db8:1:2::3"))).status,
    ).toBe(429);
    expect(
      (await login("v@example.com", "x", "/auth/jwt/login", from("2001:db8:1:3::1"))).status,
    ).toBe(400);
  });

  it("backoff: a client that keeps trying while throttled waits longer each time", async () => {
    await start({
      rateLimit: {
        routes: { login: { client: { limit: 2, windowSeconds: 60, maxBlockSeconds: 600 } } },
      },
    });
    for (let i = 0; i < 2; i++) await login("a@example.com", "x");
    const waits: number[] = [];
    for (let i = 0; i < 5; i++)
      waits.push(Number((await login("a@example.com", "x")).headers.get("retry-after")));
    expect(waits).toEqual([60, 90, 120, 150, 180]);
  });
});

describe("the other limited routes", () => {
  const one = { limit: 1, windowSeconds: 60 };

  it("register, request-verify-token and reset-password answer 429 TOO_MANY_REQUESTS with Retry-After", async () => {
    await start({
      rateLimit: {
        routes: {
          register: { client: one },
          requestVerifyToken: { client: one },
          resetPassword: { client: one },
        },
      },
    });
    // The app's own registration in start() used register's one attempt.
    const reg = await register(app.url, "bob@example.com");
    const verify = [1, 2].map(() =>
      request(`${app.url}/auth/request-verify-token`, { json: { email: "ada@example.com" } }),
    );
    const reset = [1, 2].map(() =>
      request(`${app.url}/auth/reset-password`, { json: { token: "x", password: "long enough" } }),
    );
    const [v1, v2, r1, r2] = await Promise.all([...verify, ...reset]);
    for (const res of [reg, v2, r2]) {
      expect(res?.status).toBe(429);
      expect(res?.body).toEqual({ detail: "TOO_MANY_REQUESTS" });
      expect(Number(res?.headers.get("retry-after"))).toBeGreaterThan(0);
    }
    expect(v1?.status).toBe(202);
    expect(r1?.status).toBe(400);
  });

  it("reset-password counts per account by the token's verified user: forged tokens spend nobody's attempts", async () => {
    await start({
      rateLimit: { routes: { resetPassword: { account: { limit: 2, windowSeconds: 60 } } } },
    });
    const ada = await app.userDb.getByEmail("ada@example.com");
    const forged = `${Buffer.from('{"alg":"HS256"}').toString("base64url")}.${Buffer.from(
      JSON.stringify({ sub: ada?.id, aud: "tessera:reset", exp: 9e9 }),
    ).toString("base64url")}.AAAA`;
    for (let i = 0; i < 5; i++) {
      const res = await request(`${app.url}/auth/reset-password`, {
        json: { token: forged, password: "long enough" },
      });
      expect(res.status).toBe(400);
    }
    await request(`${app.url}/auth/forgot-password`, { json: { email: "ada@example.com" } });
    const token = app.outbox.at(-1)?.token;
    const short = await request(`${app.url}/auth/reset-password`, {
      json: { token, password: "short" },
    });
    expect(short.status).toBe(400);
    const ok = await request(`${app.url}/auth/reset-password`, {
      json: { token, password: "a brand new password" },
    });
    expect(ok.status).toBe(200);
    const third = await request(`${app.url}/auth/reset-password`, {
      json: { token, password: "a brand new password" },
    });
    expect(third.status).toBe(429);
  });

  it("ASVS 5.0 6.3.1: wrong current_password guesses on PATCH /users/me count like failed logins", async () => {
    await start({ rateLimit: { routes: { login: { account: { limit: 3, windowSeconds: 60 } } } } });
    const headers = await bearerMode.login(app.url, "ada@example.com", PASSWORD);
    const patch = (current_password: string) =>
      request(`${app.url}/users/me`, {
        method: "PATCH",
        headers,
        json: { password: "a new password", current_password },
      });
    for (let i = 0; i < 3; i++) expect((await patch("guess")).status).toBe(400);
    const throttled = await patch(PASSWORD);
    expect(throttled.status).toBe(429);
    expect(throttled.body).toEqual({ detail: "UPDATE_USER_INVALID_CURRENT_PASSWORD" });
    expect((await login("ada@example.com", PASSWORD)).status).toBe(429);
  });
});

describe("turning it off", () => {
  it("rateLimit: false, or a route set to false, never answers 429", async () => {
    for (const rateLimit of [false, { routes: { login: false } }] as const) {
      await start({ rateLimit });
      for (let i = 0; i < 30; i++) {
        expect((await login("ada@example.com", "wrong password")).status).toBe(400);
      }
      await app.close();
    }
    app = await startApp();
  });

  it("invalid options fail at construction", async () => {
    for (const rateLimit of [
      { routes: { login: { account: { limit: 0, windowSeconds: 60 } } } },
      { routes: { nope: {} } },
      { trustedProxies: ["10.0.0.0/99"] },
    ]) {
      await expect(startApp({ rateLimit } as AppOptions)).rejects.toThrow();
    }
    app = await startApp();
  });
});
