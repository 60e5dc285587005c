// Another service verifies Tessera's access tokens through the JWKS route, over HTTP, with
// jose's createRemoteJWKSet; a key rotation logs nobody out, here or there (issue 15).
// ASVS 5.0 9.1.1 (tokens verified with a trusted key), 9.1.3 (keys from a trusted source).
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { AuthenticationBackend, BearerTransport, type Strategy, UserManager } from "@tessera/core";
import { type MemoryUser, MemoryUserDatabase } from "@tessera/core/testing";
import { JWKS_PATH, jwksRouter, Tessera } from "@tessera/koa";
import { JWTStrategy, type JwtKeySpec } from "@tessera/strategy-jwt";
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import Koa, { type Context } from "koa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const PASSWORD = "correct horse battery staple";
const EMAIL = "remote-verifier@example.com";

const keyA = generateKeyPairSync("ec", { namedCurve: "P-256" });
const keyB = generateKeyPairSync("ec", { namedCurve: "P-256" });
const signWith = (key: { privateKey: KeyObject }): JwtKeySpec => ({ privateKey: key.privateKey });
const verifyWith = (key: { publicKey: KeyObject }): JwtKeySpec => ({ publicKey: key.publicKey });

const db = new MemoryUserDatabase();
const manager = new UserManager<MemoryUser, string>({
  userDb: db,
  verificationTokenSecret: "verification-secret-verification-secret",
  resetPasswordTokenSecret: "reset-password-secret-reset-password-secret",
});

/** The auth service as deployed with `keys`: login, /users/me, and the JWKS route. */
function deploy(keys: JwtKeySpec[]) {
  const strategy = new JWTStrategy<MemoryUser, string>({ keys, lifetimeSeconds: 900 });
  const backend = new AuthenticationBackend<MemoryUser, string, Context>({
    name: "jwt",
    transport: new BearerTransport({ tokenUrl: "auth/jwt/login" }),
    getStrategy: () => strategy as Strategy<MemoryUser, string>,
  });
  const tessera = new Tessera<MemoryUser, string>({
    getUserManager: () => manager,
    backends: [backend],
  });
  const app = new Koa();
  app.use(tessera.authRouter(backend, { prefix: "/auth/jwt" }).routes());
  app.use(tessera.usersRouter({ prefix: "/users" }).routes());
  app.use(jwksRouter(strategy.keys).routes());
  return { strategy, handle: app.callback() };
}

// One address for every deployment, as behind a load balancer: a redeploy swaps the app.
let deployed: ReturnType<typeof deploy>;
let server: Server;
let base: string;

beforeAll(async () => {
  await manager.create({ email: EMAIL, password: PASSWORD });
  deployed = deploy([signWith(keyA)]);
  server = createServer((req: IncomingMessage, res: ServerResponse) => deployed.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

async function login(): Promise<string> {
  const response = await fetch(`${base}/auth/jwt/login`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ username: EMAIL, password: PASSWORD }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

async function me(token: string): Promise<number> {
  const response = await fetch(`${base}/users/me`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  await response.body?.cancel();
  return response.status;
}

/** Another service: only the JWKS URL is configured, as with any OIDC issuer. */
function otherService() {
  // No cooldown: a token with a kid not seen yet refetches at once (jose waits 30 s by default).
  const jwks = createRemoteJWKSet(new URL(`${base}${JWKS_PATH}`), { cooldownDuration: 0 });
  return async (token: string) => {
    try {
      const { payload } = await jwtVerify(token, jwks, {
        audience: "tessera:auth",
        algorithms: ["ES256"],
      });
      return payload.sub;
    } catch {
      return null;
    }
  };
}

describe("JWKS route and remote verification over HTTP", () => {
  it("another service verifies a login's access token with createRemoteJWKSet", async () => {
    const token = await login();
    const verify = otherService();
    const user = await manager.getByEmail(EMAIL);
    expect(decodeProtectedHeader(token)).toEqual({
      alg: "ES256",
      kid: deployed.strategy.keys.currentKid,
      typ: "JWT",
    });
    expect(await verify(token)).toBe(user.id);
    // A token of a key the route does not publish is refused by the other service.
    const stranger = new JWTStrategy<MemoryUser, string>({ keys: [signWith(keyB)] });
    expect(await verify(await stranger.writeToken(user))).toBeNull();
  });

  it("rotation logs nobody out: the old token verifies there and here, new tokens carry the new kid", async () => {
    const verify = otherService();
    const user = await manager.getByEmail(EMAIL);
    const oldToken = await login();
    const oldKid = deployed.strategy.keys.currentKid;
    expect(await verify(oldToken)).toBe(user.id); // the other service now caches [A]

    // Redeploy with B current and A kept to verify until its tokens have expired.
    deployed = deploy([signWith(keyB), verifyWith(keyA)]);
    const published = (await (await fetch(`${base}${JWKS_PATH}`)).json()) as {
      keys: { kid: string }[];
    };
    expect(published.keys.map((k) => k.kid)).toEqual([deployed.strategy.keys.currentKid, oldKid]);

    const newToken = await login();
    expect(decodeProtectedHeader(newToken).kid).toBe(deployed.strategy.keys.currentKid);
    expect(decodeProtectedHeader(newToken).kid).not.toBe(oldKid);
    // There: the old token from its cached keys, the new one after refetching on its new kid.
    expect(await verify(oldToken)).toBe(user.id);
    expect(await verify(newToken)).toBe(user.id);
    // Here: both still authenticate.
    expect(await me(oldToken)).toBe(200);
    expect(await me(newToken)).toBe(200);

    // Once A is dropped (its tokens have expired by then), its tokens are refused.
    deployed = deploy([signWith(keyB)]);
    const fresh = otherService();
    expect(await fresh(oldToken)).toBeNull();
    expect(await fresh(newToken)).toBe(user.id);
    expect(await me(oldToken)).toBe(401);
    expect(await me(newToken)).toBe(200);
  });

  it("answers 304 to a revalidation with the ETag, and says how long to cache", async () => {
    const first = await fetch(`${base}${JWKS_PATH}`);
    await first.body?.cancel();
    expect(first.headers.get("cache-control")).toBe("public, max-age=300");
    const etag = first.headers.get("etag") as string;
    const again = await fetch(`${base}${JWKS_PATH}`, { headers: { "If-None-Match": etag } });
    expect(again.status).toBe(304);
  });
});
