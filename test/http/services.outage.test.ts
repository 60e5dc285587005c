import type { AddressInfo } from "node:net";
import { MikroORM } from "@mikro-orm/postgresql";
import { AuthenticationBackend, BearerTransport, UserManager } from "@tessera/core";
import {
  AccessToken,
  MikroOrmAccessTokenDatabase,
  MikroOrmUserDatabase,
  User,
} from "@tessera/db-mikroorm";
import { Tessera } from "@tessera/koa";
import { DatabaseStrategy } from "@tessera/strategy-database";
import { JwtKeySet, RefreshTokenStrategy } from "@tessera/strategy-jwt";
import { RedisSessionStore, RedisStrategy, recommendedRedisOptions } from "@tessera/strategy-redis";
import { Redis } from "ioredis";
import Koa, { type Context } from "koa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PrivateService, startPrivateService } from "../harness/control.js";
import { dbMode, register, request } from "../support/client.js";

// ARCHITECTURE.md: "an unreachable database or Redis gets 503 with a code, fast, and
// recovers by itself". Private servers are stopped and restarted in place, over HTTP.
type AppUser = {
  id: string;
  email: string;
  hashedPassword: string;
  isActive: boolean;
  isSuperuser: boolean;
  isVerified: boolean;
};
const SECRET = "outage-test-secret-of-at-least-32-bytes!!";
const PASSWORD = "correct horse battery";

let pg: PrivateService;
let redisServer: PrivateService;
let orm: MikroORM;
let redis: Redis;
let server: ReturnType<Koa["listen"]>;
let url: string;

beforeAll(async () => {
  [pg, redisServer] = await Promise.all([
    startPrivateService("postgres"),
    startPrivateService("redis"),
  ]);
  orm = await MikroORM.init({
    clientUrl: pg.url,
    entities: [User, AccessToken],
    // Fail fast while the server is down (503), instead of pg's default: wait forever.
    driverOptions: { connectionTimeoutMillis: 1000, statement_timeout: 5000 },
  });
  await orm.schema.create();
  redis = new Redis(redisServer.url, { ...recommendedRedisOptions });
  const redisStrategy = new RedisStrategy<AppUser>({ redis });
  const db = new AuthenticationBackend<AppUser, string, Context>({
    name: "db",
    transport: new BearerTransport({ tokenUrl: "auth/db/login" }),
    getStrategy: () =>
      new DatabaseStrategy<AppUser>({
        database: new MikroOrmAccessTokenDatabase(orm.em.fork(), AccessToken) as never,
      }),
  });
  const redisBackend = new AuthenticationBackend<AppUser, string, Context>({
    name: "redis",
    transport: new BearerTransport({ tokenUrl: "auth/redis/login" }),
    getStrategy: () => redisStrategy,
  });
  // Refresh-token sessions in Redis; users in PostgreSQL.
  const refreshStrategy = new RefreshTokenStrategy<AppUser>({
    sessions: new RedisSessionStore({
      redis,
      prefix: "outage:refresh:",
      userIndexPrefix: "outage:refresh-user:",
    }),
    keys: new JwtKeySet([{ secret: SECRET }]),
    refreshSecret: SECRET,
  });
  const refreshBackend = new AuthenticationBackend<AppUser, string, Context>({
    name: "refresh",
    transport: new BearerTransport({ tokenUrl: "auth/refresh/login" }),
    getStrategy: () => refreshStrategy,
  });
  const tessera = new Tessera<AppUser, string>({
    backends: [db, redisBackend, refreshBackend],
    getUserManager: () =>
      new UserManager<AppUser, string>({
        userDb: new MikroOrmUserDatabase(orm.em.fork(), User) as never,
        verificationTokenSecret: SECRET,
        resetPasswordTokenSecret: SECRET,
      }),
  });
  const app = new Koa();
  app.silent = true;
  app.use(tessera.authRouter(db, { prefix: "/auth/db" }).routes());
  app.use(tessera.authRouter(redisBackend, { prefix: "/auth/redis" }).routes());
  app.use(tessera.authRouter(refreshBackend, { prefix: "/auth/refresh" }).routes());
  app.use(tessera.registerRouter({ prefix: "/auth" }).routes());
  app.use(tessera.usersRouter({ prefix: "/users" }).routes());
  server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  server?.closeAllConnections();
  server?.close();
  redis?.disconnect();
  await orm?.close(true);
  await Promise.all([pg?.dispose(), redisServer?.dispose()]);
});

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - started };
}

/** Polls until `fn` answers `status`, for up to 10 s (the recovery must come by itself). */
async function eventually(fn: () => Promise<{ status: number }>, status: number): Promise<void> {
  let last = 0;
  for (let i = 0; i < 100; i++) {
    last = (await fn()).status;
    if (last === status) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`still ${last}, expected ${status}`);
}

describe("outages over HTTP: 503 with a code, fast; recovery without a restart", () => {
  it("PostgreSQL down: reads, logins and registrations answer 503 SERVICE_UNAVAILABLE; then recover", async () => {
    await register(url, "pg@example.com");
    const headers = await dbMode.login(url, "pg@example.com", PASSWORD);
    expect((await request(`${url}/users/me`, { headers })).status).toBe(200);

    // A graceful stop: the harness runs PostgreSQL with synchronous_commit=off for speed, so
    // a crash could drop the last commits (the login's token) and blur what is tested here.
    await pg.stop("graceful");
    for (const call of [
      () => request(`${url}/users/me`, { headers }),
      () =>
        request(`${url}/auth/db/login`, {
          form: { username: "pg@example.com", password: PASSWORD },
        }),
      () => register(url, "during-outage@example.com"),
    ]) {
      const { value, ms } = await timed(call);
      expect(value.status).toBe(503);
      expect(value.body).toEqual({ detail: "SERVICE_UNAVAILABLE" });
      expect(value.headers.get("retry-after")).toBe("1");
      expect(ms).toBeLessThan(2000); // "within a second" plus a loaded machine's margin
    }

    await pg.start();
    await eventually(() => request(`${url}/users/me`, { headers }), 200);
    expect((await register(url, "after-outage@example.com")).status).toBe(201);
  });

  it("Redis down: the Redis backend answers 503 SERVICE_UNAVAILABLE; then recovers", async () => {
    await register(url, "redis@example.com");
    const login = async () =>
      request(`${url}/auth/redis/login`, {
        form: { username: "redis@example.com", password: PASSWORD },
      });
    const token = ((await login()).body as { access_token: string }).access_token;
    const headers = { authorization: `Bearer ${token}` };
    expect((await request(`${url}/users/me`, { headers })).status).toBe(200);

    await redisServer.stop("crash");
    const { value, ms } = await timed(() => request(`${url}/users/me`, { headers }));
    expect(value).toMatchObject({ status: 503, body: { detail: "SERVICE_UNAVAILABLE" } });
    expect(ms).toBeLessThan(2000);
    expect((await login()).status).toBe(503);

    await redisServer.start();
    // This Redis keeps nothing on disk, so old sessions are gone; new logins work again.
    await eventually(login, 200);
  });

  it("Redis down: a refresh answers 503 fast while access tokens keep verifying with no store; then recovers", async () => {
    await register(url, "refresh@example.com");
    const login = () =>
      request(`${url}/auth/refresh/login`, {
        form: { username: "refresh@example.com", password: PASSWORD },
      });
    const pair = (await login()).body as { access_token: string; refresh_token: string };
    const refresh = (token: string) =>
      request(`${url}/auth/refresh/refresh`, {
        form: { grant_type: "refresh_token", refresh_token: token },
      });
    const headers = { authorization: `Bearer ${pair.access_token}` };

    await redisServer.stop("crash");
    // The access token is a JWT verified with keys in memory: the outage does not touch it.
    expect((await request(`${url}/users/me`, { headers })).status).toBe(200);
    const { value, ms } = await timed(() => refresh(pair.refresh_token));
    expect(value).toMatchObject({ status: 503, body: { detail: "SERVICE_UNAVAILABLE" } });
    expect(ms).toBeLessThan(2000);

    await redisServer.start();
    // This Redis keeps nothing on disk: the session is gone, so its refresh token is invalid
    // (never a theft alarm); a new login refreshes again.
    await eventually(login, 200);
    const lost = await refresh(pair.refresh_token);
    expect(lost).toMatchObject({ status: 401, body: { detail: "REFRESH_TOKEN_INVALID" } });
    const fresh = (await login()).body as { refresh_token: string };
    expect((await refresh(fresh.refresh_token)).status).toBe(200);
  });
});
