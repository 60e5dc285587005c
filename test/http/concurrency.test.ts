// Concurrency rules over HTTP: logins, logouts and reads racing each other leave no
// logged-out token valid, and of concurrent resets with one token at most one succeeds.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startApp, type TestApp } from "../support/app.js";
import { bearerMode, dbMode, register, request } from "../support/client.js";

const PASSWORD = "correct horse battery";
let app: TestApp;
beforeEach(async () => {
  app = await startApp();
  await register(app.url, "storm@example.com");
});
afterEach(async () => app.close());

const me = (headers: Record<string, string>) => request(`${app.url}/users/me`, { headers });

describe.each([bearerMode, dbMode])("login/logout storm over $name", (mode) => {
  it("ASVS 5.0 7.4.1, 15.4.2: no token that was logged out is valid afterwards, every other one is", async () => {
    const sessions = await Promise.all(
      Array.from({ length: 20 }, () => mode.login(app.url, "storm@example.com", PASSWORD)),
    );
    const leaving = sessions.filter((_, i) => i % 2 === 0);
    const staying = sessions.filter((_, i) => i % 2 === 1);
    // Logouts race reads of the same tokens (which may renew them) and new logins.
    const storm = await Promise.all([
      ...leaving.map((headers) =>
        request(`${app.url}/auth/${mode.name}/logout`, { method: "POST", headers }),
      ),
      ...leaving.flatMap((headers) => [me(headers), me(headers)]),
      ...staying.map((headers) => me(headers)),
      ...Array.from({ length: 10 }, () => mode.login(app.url, "storm@example.com", PASSWORD)),
    ]);
    for (const res of storm.slice(0, leaving.length)) {
      expect((res as { status: number }).status).toBe(204);
    }
    for (const headers of leaving) expect((await me(headers)).status).toBe(401);
    for (const headers of staying) expect((await me(headers)).status).toBe(200);
  });
});

describe("ASVS 5.0 15.4.2: concurrent resets with one token", () => {
  it("at most one of 10 concurrent resets with one token succeeds; the rest are RESET_PASSWORD_BAD_TOKEN", async () => {
    await request(`${app.url}/auth/forgot-password`, { json: { email: "storm@example.com" } });
    const token = app.outbox.find((m) => m.kind === "reset")?.token;
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        request(`${app.url}/auth/reset-password`, {
          json: { token, password: `new password number ${i}` },
        }),
      ),
    );
    const won = results.filter((r) => r.status === 200);
    expect(won.length).toBeLessThanOrEqual(1);
    for (const r of results.filter((x) => x.status !== 200)) {
      expect(r).toMatchObject({ status: 400, body: { detail: "RESET_PASSWORD_BAD_TOKEN" } });
    }
    // Exactly the winner's password logs in (when one won; the memory store guarantees it).
    const logins = await Promise.all(
      results.map((_, i) =>
        request(`${app.url}/auth/jwt/login`, {
          form: { username: "storm@example.com", password: `new password number ${i}` },
        }),
      ),
    );
    expect(logins.filter((r) => r.status === 200)).toHaveLength(won.length);
  });
});
