import type { AddressInfo } from "node:net";
import { Router } from "@koa/router";
import {
  AuthenticationBackend,
  BearerTransport,
  CookieTransport,
  type Strategy,
  type UserDatabase,
  UserManager,
  type UserManagerHooks,
} from "@tessera/core";
import {
  MemoryAccessTokenDatabase,
  type MemoryUser,
  MemoryUserDatabase,
} from "@tessera/core/testing";
import { Tessera, type UserSchemas } from "@tessera/koa";
import { DatabaseStrategy } from "@tessera/strategy-database";
import { JWTStrategy, MemoryJwtRevocationStore } from "@tessera/strategy-jwt";
import Koa, { type Context } from "koa";

export const SECRET = "test-secret-of-at-least-thirty-two-bytes!!";
export const VERIFY_SECRET = "verify-secret-of-at-least-thirty-two-bytes";
export const RESET_SECRET = "reset-secret-of-at-least-thirty-two-bytes!";

/** A mail the user manager "sent": what the hooks received. */
export interface SentToken {
  kind: "verify" | "reset";
  email: string;
  token: string;
}

/** Options of {@link startApp}. */
export interface AppOptions {
  userDb?: UserDatabase<MemoryUser, string>;
  schemas?: UserSchemas<MemoryUser>;
  requiresVerification?: boolean;
  bodyLimit?: number;
  hooks?: Partial<UserManagerHooks<MemoryUser>>;
  /** JWT strategy without a revocation store (logout "not supported"). */
  statelessJwt?: boolean;
}

/** A running test app and what it exposes to tests. */
export interface TestApp {
  url: string;
  userDb: UserDatabase<MemoryUser, string>;
  /** The `db` backend's token store (digests only). */
  tokenDb: MemoryAccessTokenDatabase;
  outbox: SentToken[];
  userManager: () => UserManager<MemoryUser, string>;
  close(): Promise<void>;
}

/**
 * Starts a real Koa server on a free loopback port with three backends — `jwt` (Bearer +
 * JWT), `cookie` (Cookie + JWT) and `db` (Bearer + database strategy) — and every router
 * mounted as FastAPI Users does.
 */
export async function startApp(options: AppOptions = {}): Promise<TestApp> {
  const userDb = options.userDb ?? new MemoryUserDatabase();
  const outbox: SentToken[] = [];
  const store = options.statelessJwt ? undefined : new MemoryJwtRevocationStore();
  const strategy = new JWTStrategy<MemoryUser, string>({
    secret: SECRET,
    lifetimeSeconds: 3600,
    ...(store ? { revocationStore: store } : {}),
  }) as Strategy<MemoryUser, string>;
  const jwt = new AuthenticationBackend<MemoryUser, string, Context>({
    name: "jwt",
    transport: new BearerTransport({ tokenUrl: "auth/jwt/login" }),
    getStrategy: () => strategy,
  });
  const cookie = new AuthenticationBackend<MemoryUser, string, Context>({
    name: "cookie",
    transport: new CookieTransport({ cookieMaxAge: 3600, cookieSecure: false }),
    getStrategy: () => strategy,
  });
  const tokenDb = new MemoryAccessTokenDatabase(
    userDb instanceof MemoryUserDatabase ? userDb : undefined,
  );
  const db = new AuthenticationBackend<MemoryUser, string, Context>({
    name: "db",
    transport: new BearerTransport({ tokenUrl: "auth/db/login" }),
    // Built per request, as request-scoped databases require.
    getStrategy: () =>
      new DatabaseStrategy<MemoryUser>({ database: tokenDb, lifetimeSeconds: 3600 }),
  });
  const userManager = () =>
    new UserManager<MemoryUser, string>({
      userDb,
      verificationTokenSecret: VERIFY_SECRET,
      resetPasswordTokenSecret: RESET_SECRET,
      hooks: {
        onAfterRequestVerify: (user, token) => {
          outbox.push({ kind: "verify", email: user.email, token });
        },
        onAfterForgotPassword: (user, token) => {
          outbox.push({ kind: "reset", email: user.email, token });
        },
        ...options.hooks,
      },
    });
  const tessera = new Tessera<MemoryUser, string>({
    getUserManager: userManager,
    backends: [jwt, cookie, db],
    ...(options.schemas ? { schemas: options.schemas } : {}),
    ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
  });
  const requiresVerification = options.requiresVerification ?? false;
  const app = new Koa();
  app.silent = true;
  app.use(tessera.authRouter(jwt, { prefix: "/auth/jwt", requiresVerification }).routes());
  app.use(tessera.authRouter(cookie, { prefix: "/auth/cookie", requiresVerification }).routes());
  app.use(tessera.authRouter(db, { prefix: "/auth/db", requiresVerification }).routes());
  app.use(tessera.registerRouter({ prefix: "/auth" }).routes());
  app.use(tessera.verifyRouter({ prefix: "/auth" }).routes());
  app.use(tessera.resetPasswordRouter({ prefix: "/auth" }).routes());
  app.use(tessera.usersRouter({ prefix: "/users", requiresVerification }).routes());
  const custom = new Router();
  for (const [path, requirements] of [
    ["/protected", {}],
    ["/protected/active", { active: true }],
    ["/protected/verified", { active: true, verified: true }],
    ["/protected/superuser", { active: true, superuser: true }],
    ["/protected/optional", { optional: true }],
  ] as const) {
    custom.get(path, tessera.currentUser(requirements), (ctx) => {
      ctx.body = {
        user: ctx.state.user?.email ?? null,
        backend: ctx.state.auth?.backend.name ?? null,
      };
    });
  }
  app.use(custom.routes());
  const server = app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    userDb,
    tokenDb,
    outbox,
    userManager,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
