import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, type ExampleApp } from "./app.js";
import { loadConfig } from "./config.js";

const quiet = { info() {}, warn() {}, error() {} };
const EMAIL = "lin@example.com";
const PASSWORD = "correct horse battery staple";

let dir: string;
let example: ExampleApp;
let server: Server;
let base: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "koa-app-preferences-"));
  example = await createApp(loadConfig({ DATA_DIR: join(dir, "data"), RATE_LIMIT: "off" }), quiet);
  server = example.app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const registered = await fetch(`${base}/auth/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: EMAIL, password: PASSWORD }),
  });
  expect(registered.status).toBe(201);
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await example?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A new session on a Bearer backend (`db`: the database strategy, `jwt`). */
async function login(backend: "db" | "jwt"): Promise<string> {
  const res = await fetch(`${base}/auth/${backend}/login`, {
    method: "POST",
    body: new URLSearchParams({ username: EMAIL, password: PASSWORD }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

async function preferences(
  token: string | null,
  put?: { body: string; type?: string },
): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (put) headers["content-type"] = put.type ?? "application/json";
  const res = await fetch(`${base}/app/preferences`, {
    method: put ? "PUT" : "GET",
    headers,
    ...(put ? { body: put.body } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const theme = (value: string) => ({ body: JSON.stringify({ theme: value }) });

describe("/app/preferences: the page's theme in the session's data", () => {
  it("answers 401 without a session", async () => {
    expect((await preferences(null)).status).toBe(401);
    expect((await preferences(null, theme("dark"))).status).toBe(401);
  });

  it("starts at system, keeps what is saved, per session: another login starts afresh", async () => {
    const first = await login("db");
    expect(await preferences(first)).toEqual({ status: 200, body: { theme: "system" } });
    expect(await preferences(first, theme("dark"))).toEqual({
      status: 200,
      body: { theme: "dark" },
    });
    expect(await preferences(first)).toEqual({ status: 200, body: { theme: "dark" } });
    const second = await login("db");
    expect(await preferences(second)).toEqual({ status: 200, body: { theme: "system" } });
    expect((await preferences(first)).body).toEqual({ theme: "dark" });
  });

  it("refuses a theme it does not know (422), another type (415) and a large body (413)", async () => {
    const token = await login("db");
    const unknown = await preferences(token, theme("blue"));
    expect(unknown.status).toBe(422);
    expect(unknown.body).toMatchObject({ detail: [{ loc: ["body", "theme"] }] });
    expect((await preferences(token, { body: "not json" })).status).toBe(422);
    expect((await preferences(token, { body: "theme=dark", type: "text/plain" })).status).toBe(415);
    const large = JSON.stringify({ theme: "dark", pad: "x".repeat(2048) });
    expect((await preferences(token, { body: large })).status).toBe(413);
    expect((await preferences(token)).body).toEqual({ theme: "system" });
  });

  it("answers 501 on the JWT backend, which keeps no session data", async () => {
    const res = await preferences(await login("jwt"));
    expect(res.status).toBe(501);
  });
});
