// The example app's logs over real HTTP (SQLite): pino JSON lines, one access line per
// request with the request id and the user, credentials' headers redacted, query secrets
// cut, and Tessera's audit events as {"event":"audit"} lines carrying the same request id.
// ASVS 5.0 16.2.1 (who, what, when, where), 16.2.2 (UTC), 16.2.4 (a common format: JSON
// lines), 16.2.5 (no credentials or session tokens in logs).
import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redactUrl } from "./access-log.js";
import { createApp, type ExampleApp } from "./app.js";
import { loadConfig } from "./config.js";
import { createLogger } from "./logger.js";

const EMAIL = "lou@example.com";
const PASSWORD = "correct horse battery staple";

interface Line {
  level: string;
  time: string;
  msg: string;
  reqId?: string;
  userId?: string;
  responseTime?: number;
  event?: string;
  type?: string;
  req?: { id: string; method: string; url: string; headers: Record<string, string> };
  res?: { statusCode: number; headers: Record<string, unknown> };
}

const output: string[] = [];
let dir: string;
let example: ExampleApp;
let server: Server;
let base: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "koa-app-logs-"));
  const log = createLogger({ destination: { write: (line: string) => void output.push(line) } });
  example = await createApp(loadConfig({ DATA_DIR: join(dir, "data"), RATE_LIMIT: "off" }), log);
  server = example.app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await example?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const lines = (): Line[] => output.map((line) => JSON.parse(line) as Line);
/** The access line of the request with this id (written when the answer is sent). */
async function accessLine(reqId: string): Promise<Line> {
  await expect.poll(() => lines().some((l) => l.req?.id === reqId)).toBe(true);
  return lines().find((l) => l.req?.id === reqId) as Line;
}

describe("the access log", () => {
  it("one JSON line per request: method, URL, status, duration, request id, user; credentials redacted", async () => {
    const registered = await fetch(`${base}/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "reg-1" },
      body: JSON.stringify({ email: EMAIL, password: PASSWORD }),
    });
    expect(registered.status).toBe(201);
    const register = await accessLine("reg-1");
    expect(register).toMatchObject({
      level: "info",
      reqId: "reg-1",
      req: { method: "POST", url: "/auth/register" },
      res: { statusCode: 201 },
      msg: "POST /auth/register 201",
    });
    expect(register.responseTime).toEqual(expect.any(Number));
    expect(register.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(register).not.toHaveProperty("userId");

    // A cookie login: its Set-Cookie carries the session, and is redacted.
    const login = await fetch(`${base}/auth/cookie/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-request-id": "login-1" },
      body: new URLSearchParams({ username: EMAIL, password: PASSWORD }),
    });
    expect(login.status).toBe(204);
    const cookies = login.headers.getSetCookie().map((c) => c.split(";")[0] ?? "");
    expect((await accessLine("login-1")).res?.headers["set-cookie"]).toBe("[Redacted]");

    const bearer = await fetch(`${base}/auth/jwt/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ username: EMAIL, password: PASSWORD }),
    });
    const token = ((await bearer.json()) as { access_token: string }).access_token;
    const me = await fetch(`${base}/users/me?token=abc123secret&page=2`, {
      headers: {
        authorization: `Bearer ${token}`,
        cookie: cookies.join("; "),
        "x-request-id": "me-1",
      },
    });
    expect(me.status).toBe(200);
    const { id } = (await me.json()) as { id: string };
    const line = await accessLine("me-1");
    expect(line).toMatchObject({
      userId: id,
      req: {
        url: "/users/me?token=[Redacted]&page=2",
        headers: { authorization: "[Redacted]", cookie: "[Redacted]" },
      },
      res: { statusCode: 200 },
    });

    // Nothing that authenticates appears anywhere in the log.
    const text = output.join("");
    expect(text).not.toContain(token);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain("abc123secret");
    for (const cookie of cookies) expect(text).not.toContain(cookie.split("=")[1]);
  });

  it("a request id the client sends is kept only when it is a plain token", async () => {
    await fetch(`${base}/openapi.json`, { headers: { "x-request-id": 'a b"c' } });
    await expect.poll(() => lines().filter((l) => l.req?.url === "/openapi.json").length).toBe(1);
    const line = lines().find((l) => l.req?.url === "/openapi.json") as Line;
    expect(line.reqId).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("the audit lines", () => {
  it("a failed login is an audit line with the access line's request id (ASVS 5.0 16.3.1)", async () => {
    const res = await fetch(`${base}/auth/jwt/login`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-request-id": "bad-1",
        "user-agent": "logs-test",
      },
      body: new URLSearchParams({ username: EMAIL, password: "not the password" }),
    });
    expect(res.status).toBe(400);
    await accessLine("bad-1");
    const audit = lines().find((l) => l.event === "audit" && l.reqId === "bad-1");
    expect(audit).toMatchObject({
      level: "warn",
      type: "login_failed",
      reason: "bad_credentials",
      email: EMAIL,
      ip: "127.0.0.1",
      userAgent: "logs-test",
      route: "/auth/jwt/login",
      backend: "jwt",
      msg: "audit: login_failed (bad_credentials)",
    });
    expect(JSON.stringify(audit)).not.toContain("not the password");
  });
});

describe("redactUrl", () => {
  it.each([
    ["/users/me", "/users/me"],
    [
      "/auth/google/callback?code=xyz&state=abc",
      "/auth/google/callback?code=[Redacted]&state=[Redacted]",
    ],
    ["/verify?token=t&lang=en", "/verify?token=[Redacted]&lang=en"],
    ["/x?refresh_token=r&api_key=k&q=1", "/x?refresh_token=[Redacted]&api_key=[Redacted]&q=1"],
    ["/x?", "/x"],
  ])("%s -> %s", (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });
});
