import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type AuthenticationBackend, UserManager, type UserProtocol } from "@tessera/core";
import { MemoryAccessTokenDatabase, MemoryUserDatabase } from "@tessera/core/testing";
import { Tessera } from "@tessera/koa";
import { DatabaseSessionStore } from "@tessera/strategy-database";
import { createRemoteJWKSet, jwtVerify } from "jose";
import Koa, { type Context } from "koa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { register, request } from "../support/client.js";

// docs/refresh-tokens.md sets up two refresh-token backends and the JWKS route; this runs
// the page's own code block, and verifies its tokens as "another service" does.
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const outDir = join(root, "test", "output", "docs");
const file = join(outDir, "refresh-backends.ts");
const SECRET = "docs-test-secret-of-at-least-thirty-two-bytes";

function docCode(): string {
  const md = readFileSync(join(root, "docs", "refresh-tokens.md"), "utf8");
  const block = [...md.matchAll(/```ts\n([\s\S]*?)```/g)]
    .map((m) => m[1] ?? "")
    .find((code) => code.includes("export function refreshBackends"));
  if (!block) throw new Error("no refreshBackends block in docs/refresh-tokens.md");
  return block;
}

type User = UserProtocol<string>;
type Built = {
  backends: AuthenticationBackend<User, string, Context>[];
  mount(app: Koa, tessera: Tessera<User, string>): void;
};

let server: Server;
let url: string;

beforeAll(async () => {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(file, docCode());
  writeFileSync(join(outDir, "package.json"), '{ "type": "module" }\n');
  const { refreshBackends } = (await import(pathToFileURL(file).href)) as {
    refreshBackends: (options: {
      sessions: DatabaseSessionStore<string>;
      jwks: string;
      refreshSecret: string;
    }) => Built;
  };
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwks = JSON.stringify({
    keys: [{ ...privateKey.export({ format: "jwk" }), alg: "ES256", kid: "docs-1" }],
  });
  const users = new MemoryUserDatabase();
  const built = refreshBackends({
    sessions: new DatabaseSessionStore<string>({ database: new MemoryAccessTokenDatabase(users) }),
    jwks,
    refreshSecret: SECRET,
  });
  const tessera = new Tessera<User, string>({
    backends: built.backends,
    getUserManager: () =>
      new UserManager<User, string>({
        userDb: users as never,
        verificationTokenSecret: SECRET,
        resetPasswordTokenSecret: SECRET,
      }),
  });
  const app = new Koa();
  app.silent = true;
  built.mount(app, tessera);
  app.use(tessera.registerRouter({ prefix: "/auth" }).routes());
  app.use(tessera.usersRouter({ prefix: "/users" }).routes());
  server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server?.closeAllConnections();
  server?.close();
});

describe("docs/refresh-tokens.md", () => {
  it("logs in, refreshes, and another service verifies the access token through the JWKS route", async () => {
    expect((await register(url, "docs@example.com")).status).toBe(201);
    const login = await request(`${url}/auth/refresh/login`, {
      form: { username: "docs@example.com", password: "correct horse battery" },
    });
    expect(login.status).toBe(200);
    const pair = login.body as { access_token: string; refresh_token: string };
    const refreshed = await request(`${url}/auth/refresh/refresh`, {
      form: { grant_type: "refresh_token", refresh_token: pair.refresh_token },
    });
    expect(refreshed.status).toBe(200);
    const next = refreshed.body as { access_token: string };
    // The page's snippet, as another service runs it.
    const jwks = createRemoteJWKSet(new URL(`${url}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(next.access_token, jwks, {
      audience: "tessera:access",
    });
    expect(protectedHeader).toMatchObject({ alg: "ES256", kid: "docs-1" });
    expect(payload.sid).toEqual(expect.any(String));
    expect((await request(`${url}/users/me`, { bearer: next.access_token })).status).toBe(200);
    // The cookie backend of the same block mounts its refresh route too.
    const cookie = await request(`${url}/auth/refresh-cookie/refresh`, {
      method: "POST",
      headers: { origin: url },
    });
    expect(cookie.body).toEqual({ detail: "REFRESH_TOKEN_INVALID" });
  });
});
