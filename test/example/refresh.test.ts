// The example app's refresh-token backends over HTTP (issue 15), in-process as server.ts
// builds it: the access-token lifetime from ACCESS_TOKEN_LIFETIME_SECONDS, the JWKS route
// another service verifies the `refresh` backend's access tokens with (jose's
// createRemoteJWKSet, as a stranger to the app would), the signing key kept across a
// restart, and the theft mail when a rotated refresh token comes back.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, type ExampleApp } from "../../examples/koa-app/src/app.js";
import { type Config, loadConfig } from "../../examples/koa-app/src/config.js";
import { SIGNING_KEYS_FILE } from "../../examples/koa-app/src/signing-keys.js";
import { type Reply, register, request } from "../support/client.js";
import { freePort, readOutbox } from "./support.js";

const PASSWORD = "correct horse battery staple";
const LIFETIME = 120;
const quiet = { info() {}, warn() {}, error() {} };

interface Pair {
  access_token: string;
  token_type: string;
  refresh_token: string;
  expires_in: number;
}

interface Running {
  example: ExampleApp;
  server: Server;
  url: string;
  config: Config;
}

let dir: string;
const running: Running[] = [];

async function startApp(dataDir: string): Promise<Running> {
  const port = await freePort();
  const config = loadConfig({
    PORT: String(port),
    DATA_DIR: dataDir,
    ACCESS_TOKEN_LIFETIME_SECONDS: String(LIFETIME),
  });
  const example = await createApp(config, quiet);
  const server = example.app.listen(port);
  await new Promise((resolve) => server.once("listening", resolve));
  const app = { example, server, url: config.appUrl, config };
  running.push(app);
  return app;
}

async function stop(app: Running) {
  running.splice(running.indexOf(app), 1);
  app.server.closeAllConnections();
  await new Promise((resolve) => app.server.close(resolve));
  await app.example.close();
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "koa-app-refresh-"));
});
afterAll(async () => {
  for (const app of [...running]) await stop(app);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const detail = (res: Reply) => (res.body as { detail?: unknown }).detail;

async function signUp(url: string, email: string) {
  const res = await register(url, email, PASSWORD);
  expect(res.status, res.text).toBe(201);
  return (res.body as { id: string }).id;
}

async function login(url: string, email: string): Promise<Pair> {
  const res = await request(`${url}/auth/refresh/login`, {
    form: { username: email, password: PASSWORD },
    headers: { "user-agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0" },
  });
  expect(res.status, res.text).toBe(200);
  return res.body as Pair;
}

const refresh = (url: string, token: string) =>
  request(`${url}/auth/refresh/refresh`, {
    form: { grant_type: "refresh_token", refresh_token: token },
  });

describe("examples/koa-app's refresh-token backends", () => {
  it("logs in on /auth/refresh with an access token of ACCESS_TOKEN_LIFETIME_SECONDS, ES256-signed with a kid", async () => {
    const app = await startApp(join(dir, "a"));
    const email = "lin@example.com";
    const id = await signUp(app.url, email);
    const pair = await login(app.url, email);
    expect(pair.token_type).toBe("bearer");
    expect(pair.expires_in).toBe(LIFETIME);
    const claims = decodeJwt(pair.access_token);
    expect(claims.sub).toBe(id);
    expect(claims.exp).toBe((claims.iat as number) + LIFETIME);
    expect(decodeProtectedHeader(pair.access_token)).toMatchObject({
      alg: "ES256",
      kid: expect.any(String),
    });
    const me = await request(`${app.url}/users/me`, { bearer: pair.access_token });
    expect([me.status, (me.body as { email: string }).email]).toEqual([200, email]);
    // The refresh session is in the app's one session list, under the token's `sid`.
    const sessions = await request(`${app.url}/users/me/sessions`, { bearer: pair.access_token });
    expect(sessions.body).toContainEqual(
      expect.objectContaining({ id: claims.sid, current: true }),
    );
    await stop(app);
  });

  it("publishes the public key at /.well-known/jwks.json; jose's createRemoteJWKSet verifies a `refresh` access token with it (ASVS 5.0 9.1.1)", async () => {
    const app = await startApp(join(dir, "b"));
    const jwks = await request(`${app.url}/.well-known/jwks.json`);
    expect(jwks.status).toBe(200);
    expect(jwks.headers.get("content-type")).toMatch(/^application\/json/);
    expect(jwks.headers.get("cache-control")).toMatch(/^public, max-age=\d+$/);
    const { keys } = jwks.body as { keys: Record<string, unknown>[] };
    const stored = JSON.parse(
      readFileSync(join(app.config.dataDir, SIGNING_KEYS_FILE), "utf8"),
    ) as { keys: Record<string, unknown>[] };
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
    expect(keys[0]?.kid).toBe(stored.keys[0]?.kid);
    // The private key never leaves the data directory.
    expect(keys[0]).not.toHaveProperty("d");
    expect(jwks.text).not.toContain(String(stored.keys[0]?.d));

    const email = "mo@example.com";
    const id = await signUp(app.url, email);
    const pair = await login(app.url, email);
    // Another service: only the app's URL, no shared secret.
    const remote = createRemoteJWKSet(new URL(`${app.url}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(pair.access_token, remote, {
      audience: "tessera:access",
      algorithms: ["ES256"],
    });
    expect(payload.sub).toBe(id);
    expect(payload.sid).toEqual(expect.any(String));
    expect(protectedHeader.kid).toBe(keys[0]?.kid);
    // The refresh token is no JWT: the verifier refuses it.
    await expect(jwtVerify(pair.refresh_token, remote)).rejects.toThrow();
    // Nor does a token of the HS256 `jwt` backend verify there: its secret is never published.
    const hs = await request(`${app.url}/auth/jwt/login`, {
      form: { username: email, password: PASSWORD },
    });
    expect(hs.status).toBe(200);
    await expect(
      jwtVerify((hs.body as { access_token: string }).access_token, remote),
    ).rejects.toThrow();
    await stop(app);
  });

  it("keeps its signing key across a restart: a token signed before still verifies after", async () => {
    const dataDir = join(dir, "c");
    const first = await startApp(dataDir);
    expect(first.example.signingKeys.source).toBe("generated");
    const email = "kim@example.com";
    await signUp(first.url, email);
    const pair = await login(first.url, email);
    await stop(first);

    const second = await startApp(dataDir);
    expect(second.example.signingKeys.source).toBe("file");
    expect((await request(`${second.url}/users/me`, { bearer: pair.access_token })).status).toBe(
      200,
    );
    const rotated = await refresh(second.url, pair.refresh_token);
    expect(rotated.status, rotated.text).toBe(200);
    await stop(second);
  });

  it("ends the session and mails its owner when a rotated refresh token comes back (ASVS 5.0 6.3.5, 7.4.1)", async () => {
    const app = await startApp(join(dir, "d"));
    const email = "theo@example.com";
    await signUp(app.url, email);
    const first = await login(app.url, email);
    const child = (await refresh(app.url, first.refresh_token)).body as Pair;
    const grandchild = await refresh(app.url, child.refresh_token);
    expect(grandchild.status, grandchild.text).toBe(200);
    // `first` again, after its child was used: it was copied.
    const stolen = await refresh(app.url, first.refresh_token);
    expect([stolen.status, detail(stolen)]).toEqual([401, "REFRESH_TOKEN_REUSED"]);
    // The whole session is gone: the newest refresh token is refused too.
    const after = await refresh(app.url, (grandchild.body as Pair).refresh_token);
    expect([after.status, detail(after)]).toEqual([401, "REFRESH_TOKEN_INVALID"]);

    await app.example.auth.flushMail();
    const mails = readOutbox(app.config.mail.outboxDir).filter(
      (m) => m.to === email && m.subject === "Someone used an old sign-in token of yours",
    );
    expect(mails).toHaveLength(1);
    const body = mails[0]?.body ?? "";
    expect(body).toContain("someone used an old sign-in token of yours; that session was ended");
    expect(body).toMatch(/From the address: (::1|127\.0\.0\.1|::ffff:127\.0\.0\.1)/);
    expect(body).toContain(
      "With the browser or app: Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
    );
    await stop(app);
  });
});
