import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Router } from "@koa/router";
import {
  type AccessTokenProtocol,
  AuthenticationBackend,
  BearerTransport,
  CookieTransport,
  type PasswordPolicyOptions,
  type RefreshSessionStore,
  type Strategy,
  type UserDatabase,
  UserManager,
  type UserManagerHooks,
} from "@tessera/core";
import {
  type AuthRouterOptions,
  type CsrfOptions,
  type DocsRouterOptions,
  type RateLimitOptions,
  Tessera,
  type TesseraOptions,
  type TesseraRouter,
  type TesseraState,
  type UserSchemas,
} from "@tessera/koa";
import {
  MemoryMfaChallengeStore,
  MfaChallenges,
  MfaKeyring,
  type MfaRequirement,
  TotpFactorService,
} from "@tessera/mfa";
import { MemoryChallengeStore, PasskeyService } from "@tessera/passkeys";
import { DatabaseSessionStore, DatabaseStrategy } from "@tessera/strategy-database";
import {
  JWTStrategy,
  JwtKeySet,
  type JwtKeySetInput,
  type JwtStrategyOptions,
  MemoryJwtRevocationStore,
  RefreshTokenStrategy,
} from "@tessera/strategy-jwt";
import {
  type RedisClient,
  RedisSessionStore,
  RedisStrategy,
  recommendedRedisOptions,
} from "@tessera/strategy-redis";
import { Redis } from "ioredis";
import Koa, { type Context } from "koa";
import { openStore, type StoreKind, type StoreUser } from "./stores.js";

export const SECRET = "test-secret-of-at-least-thirty-two-bytes!!";
export const VERIFY_SECRET = "verify-secret-of-at-least-thirty-two-bytes";
export const RESET_SECRET = "reset-secret-of-at-least-thirty-two-bytes!";
export const REFRESH_SECRET = "refresh-secret-of-at-least-thirty-two-bytes";

const UNREACHED = { limit: 100_000, windowSeconds: 60 };
/** Limits that no suite reaches: the limiter runs, nothing is refused. */
const UNREACHABLE_RATE_LIMITS: RateLimitOptions = {
  routes: Object.fromEntries(
    [
      "login",
      "register",
      "forgotPassword",
      "requestVerifyToken",
      "resetPassword",
      "oauthCallback",
      "mfa",
      "passkeyLogin",
    ].map((r) => [r, { account: UNREACHED, client: UNREACHED }]),
  ),
};

/** A mail the user manager "sent": what the hooks received. */
export interface SentToken {
  kind: "verify" | "reset";
  email: string;
  token: string;
}

/** Options of {@link startApp}. */
export interface AppOptions {
  schemas?: UserSchemas<StoreUser>;
  requiresVerification?: boolean;
  bodyLimit?: number;
  hooks?: Partial<UserManagerHooks<StoreUser>>;
  /** JWT strategy without a revocation store (logout "not supported"). */
  statelessJwt?: boolean;
  /** CSRF options of Tessera (default: on, same host only). */
  csrf?: CsrfOptions | false;
  /**
   * Tessera's rate limiting. By default the real limiter runs on every limited route, with
   * limits no suite reaches (100,000 a minute); `{}` gives Tessera's real defaults.
   */
  rateLimit?: RateLimitOptions | false;
  /** The user manager's password policy (e.g. `{ rejectCommonPasswords: true }`). */
  passwordPolicy?: PasswordPolicyOptions;
  /** Mounts `tessera.docsRouter()` (with these options), last. */
  docs?: DocsRouterOptions | true;
  /**
   * Adds a fourth backend, `redis` (Bearer + RedisStrategy on `REDIS_URL`, keys under a
   * prefix of this app's own), mounted at `/auth/redis`.
   */
  redis?: boolean;
  /**
   * Options of the JWT strategy of `jwt` and `cookie`, instead of HS256 with {@link SECRET}:
   * a key pair (`algorithm`, `privateKey`, `publicKey`), an `issuer`, an `audience`.
   */
  jwt?: Partial<JwtStrategyOptions<string>>;
  /**
   * Idle lifetime of the `db` and `redis` sessions in seconds (sliding renewal starts at
   * half of it). @default 3600
   */
  sessionLifetimeSeconds?: number;
  /** App-wide middleware mounted before Tessera's routers (a body parser, an error handler). */
  middleware?: readonly Koa.Middleware[];
  /** The users router's `requireCurrentPassword`. @default true */
  requireCurrentPassword?: boolean;
  /** Tessera's `passwordPolicy` (the bounds the document states). */
  documentedPasswordPolicy?: { minLength?: number; maxLength?: number };
  /**
   * Mounts routes that use `ctx.state.session` (issue 14): `GET /session` (handle, user id,
   * claims), `GET/PUT/PATCH /session/data`, `PATCH /session/claims`, `POST /session/revoke`.
   */
  sessionRoutes?: boolean;
  /** The cookie auth router's `formRedirect` (303 answers to HTML form posts). */
  formRedirect?: AuthRouterOptions["formRedirect"];
  /**
   * Adds `refresh` (Bearer) and `refresh-cookie` (cookie) backends on RefreshTokenStrategy
   * (issue 15), mounted at `/auth/refresh` and `/auth/refresh-cookie`, their sessions in the
   * app's store (`db`, the default) or in Redis (`redis`: `client` is the harness' single
   * server or Cluster, keys under a prefix of this app's own).
   */
  refresh?: RefreshOptions;
  /** Mounts `tessera.jwksRouter(jwks)`. */
  jwks?: readonly JwtKeySet[];
  /**
   * Mounts OAuth routers (issue 16): called once the app's URL is known (the flows' fixed
   * redirect URIs need it), with the instance and the backends by name; its routers are
   * mounted after the users router.
   */
  oauth?: (setup: OAuthSetup) => readonly TesseraRouter[];
  /**
   * Second factors (issue 17): Tessera's `mfa` (TOTP and recovery codes under {@link MFA_KEY},
   * challenges in memory) on every auth router, and `tessera.mfaRouter` at `/users`. `now`
   * is the TOTP and challenge clock.
   */
  mfa?: { requireFor?: MfaRequirement; now?: () => number; maxAttempts?: number };
  /**
   * Passkeys (issue 17): Tessera's `passkeys` (RP ID {@link PASSKEY_RP_ID}, origin
   * {@link PASSKEY_ORIGIN}) on every auth router, and `tessera.passkeysRouter` at `/users`.
   */
  passkeys?: { now?: () => Date };
  /** Tessera's audit sink (issue 18). */
  onAuditEvent?: TesseraOptions<StoreUser, string>["onAuditEvent"];
}

/** The MFA keyring's key of the test app. */
export const MFA_KEY = { id: "test", secret: "mfa-key-of-the-test-app-0123456789abcdef" };
/** The passkeys' RP ID and origin of the test app (the software authenticator's origin). */
export const PASSKEY_RP_ID = "example.test";
export const PASSKEY_ORIGIN = "https://example.test";

/** What {@link AppOptions.oauth} is given. */
export interface OAuthSetup {
  /** The app's base URL (`http://127.0.0.1:<port>`). */
  url: string;
  tessera: Tessera<StoreUser, string>;
  backends: Record<string, AuthenticationBackend<StoreUser, string, Context>>;
}

/** Options of the refresh-token backends of the test app. */
export interface RefreshOptions {
  store?: "db" | "redis";
  /** The Redis client for `store: "redis"` (single server or Cluster). */
  client?: RedisClient;
  accessTokenLifetimeSeconds?: number;
  /** Idle lifetime of a refresh token. @default 3600 */
  lifetimeSeconds?: number;
  /** Absolute lifetime of a session. @default 30 days */
  maxLifetimeSeconds?: number;
  checkDatabase?: boolean;
  /** The strategy's and the store's clock. */
  clock?: () => number;
  /**
   * Signing keys of the access tokens, or a getter read at every request (the database
   * store's strategy is built per request): a key rotation without a restart.
   * @default HS256 with {@link SECRET}
   */
  keys?: JwtKeySetInput | (() => JwtKeySet);
}

/** A running test app and what it exposes to tests. */
export interface TestApp {
  url: string;
  /** Which store the app runs on (`TESSERA_HTTP_STORE`). */
  store: StoreKind;
  /** A user database for one operation, as a request would get it. */
  readonly userDb: UserDatabase<StoreUser, string>;
  /** Every stored token digest of the `db` backend, read from the database. */
  tokenDigests(): Promise<string[]>;
  /** How many users the store holds, counted in the database. */
  userCount(): Promise<number>;
  /** The `redis` backend's client and key prefix (with `redis: true`). */
  redis?: { client: Redis; prefix: string };
  outbox: SentToken[];
  userManager: () => UserManager<StoreUser, string>;
  /** The Koa app, to read what is mounted. */
  koa: Koa;
  /** The refresh-token backends' session store (with `refresh`). */
  refreshSessions?: () => RefreshSessionStore<string>;
  close(): Promise<void>;
}

/**
 * Starts a real Koa server on a free loopback port with three backends — `jwt` (Bearer +
 * JWT), `cookie` (Cookie + JWT) and `db` (Bearer + database strategy) — and every router
 * mounted as FastAPI Users does, on the store `TESSERA_HTTP_STORE` names (in memory by
 * default; MikroORM on PostgreSQL, or the native driver on the MongoDB-protocol server).
 */
export async function startApp(options: AppOptions = {}): Promise<TestApp> {
  const store = await openStore();
  const outbox: SentToken[] = [];
  const revocationStore = options.statelessJwt ? undefined : new MemoryJwtRevocationStore();
  const strategy = new JWTStrategy<StoreUser, string>({
    ...(options.jwt?.algorithm && options.jwt.algorithm !== "HS256" ? {} : { secret: SECRET }),
    lifetimeSeconds: 3600,
    ...(revocationStore ? { revocationStore } : {}),
    ...options.jwt,
  } as JwtStrategyOptions<string>) as Strategy<StoreUser, string>;
  const jwt = new AuthenticationBackend<StoreUser, string, Context>({
    name: "jwt",
    transport: new BearerTransport({ tokenUrl: "auth/jwt/login" }),
    getStrategy: () => strategy,
  });
  const cookie = new AuthenticationBackend<StoreUser, string, Context>({
    name: "cookie",
    transport: new CookieTransport({ cookieMaxAge: 3600, cookieSecure: false }),
    getStrategy: () => strategy,
  });
  const db = new AuthenticationBackend<StoreUser, string, Context>({
    name: "db",
    transport: new BearerTransport({ tokenUrl: "auth/db/login" }),
    // Built per request, as request-scoped databases require.
    getStrategy: () =>
      new DatabaseStrategy<StoreUser>({
        database: store.tokens(),
        lifetimeSeconds: options.sessionLifetimeSeconds ?? 3600,
      }),
  });
  const userManager = () =>
    new UserManager<StoreUser, string>({
      userDb: store.users(),
      idParser: store.idParser,
      verificationTokenSecret: VERIFY_SECRET,
      resetPasswordTokenSecret: RESET_SECRET,
      ...(options.passwordPolicy ? { passwordPolicy: options.passwordPolicy } : {}),
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
  let redis: TestApp["redis"];
  const backends = [jwt, cookie, db];
  if (options.redis) {
    const url = process.env.REDIS_URL;
    if (!url) throw new Error("REDIS_URL is not set: run the tests through vitest (test/harness)");
    const client = new Redis(url, { ...recommendedRedisOptions, lazyConnect: true });
    client.on("error", () => {});
    await client.connect();
    // Apps of parallel test files share the server: each keeps to its own keys.
    const prefix = `tessera-test:${randomBytes(6).toString("hex")}:`;
    const redisStrategy = new RedisStrategy<StoreUser>({
      redis: client,
      prefix: `${prefix}token:`,
      userIndexPrefix: `${prefix}user-tokens:`,
      lifetimeSeconds: options.sessionLifetimeSeconds ?? 3600,
    }) as unknown as Strategy<StoreUser, string>;
    redis = { client, prefix };
    backends.push(
      new AuthenticationBackend<StoreUser, string, Context>({
        name: "redis",
        transport: new BearerTransport({ tokenUrl: "auth/redis/login" }),
        getStrategy: () => redisStrategy,
      }),
    );
  }
  let refreshSessions: (() => RefreshSessionStore<string>) | undefined;
  if (options.refresh) {
    refreshSessions = refreshStore(options.refresh, store);
    const refresh = options.refresh;
    const given = refresh.keys;
    const fixed =
      typeof given === "function" ? null : JwtKeySet.from(given ?? [{ secret: SECRET }]);
    const make = () =>
      new RefreshTokenStrategy<StoreUser, string>({
        sessions: (refreshSessions as () => RefreshSessionStore<string>)(),
        keys: fixed ?? (given as () => JwtKeySet)(),
        refreshSecret: REFRESH_SECRET,
        ...(refresh.accessTokenLifetimeSeconds === undefined
          ? {}
          : { accessTokenLifetimeSeconds: refresh.accessTokenLifetimeSeconds }),
        ...(refresh.checkDatabase === undefined ? {} : { checkDatabase: refresh.checkDatabase }),
        ...(refresh.clock === undefined ? {} : { clock: refresh.clock }),
      }) as unknown as Strategy<StoreUser, string>;
    // Redis clients are shared: one strategy. A database store is per request (an ORM fork).
    const shared = refresh.store === "redis" ? make() : undefined;
    const getStrategy = () => shared ?? make();
    backends.push(
      new AuthenticationBackend<StoreUser, string, Context>({
        name: "refresh",
        transport: new BearerTransport({ tokenUrl: "auth/refresh/login" }),
        getStrategy,
      }),
      new AuthenticationBackend<StoreUser, string, Context>({
        name: "refresh-cookie",
        transport: new CookieTransport({
          cookieName: "tessera_refresh_auth",
          cookieSecure: false,
        }),
        getStrategy,
      }),
    );
  }
  const mfa = options.mfa;
  const keyring = new MfaKeyring([MFA_KEY]);
  const mfaChallengeStore = new MemoryMfaChallengeStore(mfa?.now ? { now: mfa.now } : {});
  const passkeyChallenges = new MemoryChallengeStore();
  const tessera = new Tessera<StoreUser, string>({
    getUserManager: userManager,
    backends,
    ...(mfa
      ? {
          mfa: {
            factors: (manager) =>
              new TotpFactorService({
                userManager: manager,
                keyring,
                issuer: "Tessera Test",
                ...(mfa.now ? { now: mfa.now } : {}),
              }),
            challenges: (manager, factors) =>
              new MfaChallenges({
                userManager: manager,
                factors: factors as TotpFactorService<StoreUser, string>,
                keyring,
                store: mfaChallengeStore,
                ...(mfa.now ? { now: mfa.now } : {}),
                ...(mfa.maxAttempts ? { maxAttempts: mfa.maxAttempts } : {}),
              }),
            ...(mfa.requireFor ? { requireFor: mfa.requireFor } : {}),
          },
        }
      : {}),
    ...(options.passkeys
      ? {
          passkeys: (manager) =>
            new PasskeyService<string>({
              database: manager.userDb as never,
              rpId: PASSKEY_RP_ID,
              rpName: "Tessera Test",
              origins: PASSKEY_ORIGIN,
              userHandleSecret: "passkey-user-handle-secret-of-the-test-app",
              challengeStore: passkeyChallenges,
              ...(options.passkeys?.now ? { now: options.passkeys.now } : {}),
            }),
        }
      : {}),
    ...(options.schemas ? { schemas: options.schemas } : {}),
    ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
    ...(options.csrf !== undefined ? { csrf: options.csrf } : {}),
    rateLimit: options.rateLimit ?? UNREACHABLE_RATE_LIMITS,
    ...(options.onAuditEvent ? { onAuditEvent: options.onAuditEvent } : {}),
    ...(options.documentedPasswordPolicy
      ? { passwordPolicy: options.documentedPasswordPolicy }
      : {}),
  });
  const requiresVerification = options.requiresVerification ?? false;
  const app = new Koa();
  app.silent = true;
  for (const middleware of options.middleware ?? []) app.use(middleware);
  app.use(tessera.authRouter(jwt, { prefix: "/auth/jwt", requiresVerification }).routes());
  app.use(
    tessera
      .authRouter(cookie, {
        prefix: "/auth/cookie",
        requiresVerification,
        ...(options.formRedirect ? { formRedirect: options.formRedirect } : {}),
      })
      .routes(),
  );
  app.use(tessera.authRouter(db, { prefix: "/auth/db", requiresVerification }).routes());
  for (const backend of backends.slice(3)) {
    app.use(
      tessera
        .authRouter(backend, { prefix: `/auth/${backend.name}`, requiresVerification })
        .routes(),
    );
  }
  app.use(tessera.registerRouter({ prefix: "/auth" }).routes());
  app.use(tessera.verifyRouter({ prefix: "/auth" }).routes());
  app.use(tessera.resetPasswordRouter({ prefix: "/auth" }).routes());
  app.use(
    tessera
      .usersRouter({
        prefix: "/users",
        requiresVerification,
        ...(options.requireCurrentPassword === undefined
          ? {}
          : { requireCurrentPassword: options.requireCurrentPassword }),
      })
      .routes(),
  );
  if (options.mfa) app.use(tessera.mfaRouter({ prefix: "/users", requiresVerification }).routes());
  if (options.passkeys) {
    app.use(tessera.passkeysRouter({ prefix: "/users", requiresVerification }).routes());
  }
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
  if (options.sessionRoutes) app.use(sessionRouter(tessera).routes());
  if (options.jwks) app.use(tessera.jwksRouter(options.jwks).routes());
  // Listening before the app is complete: OAuth flows need the app's URL (their redirect
  // URIs are fixed by configuration); requests are served once the app is attached.
  const server = createServer();
  // Idle keep-alive sockets are closed by the client first: a server closing one as the
  // client reuses it resets a request, which under load tests looks like a server failure.
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  if (options.oauth) {
    const byName = Object.fromEntries(backends.map((b) => [b.name, b]));
    for (const router of options.oauth({ url, tessera, backends: byName }))
      app.use(router.routes());
  }
  if (options.docs) app.use(tessera.docsRouter(options.docs === true ? {} : options.docs).routes());
  server.on("request", app.callback());
  return {
    url,
    store: store.kind,
    get userDb() {
      return store.users();
    },
    tokenDigests: () => store.tokenDigests(),
    userCount: () => store.userCount(),
    ...(redis ? { redis } : {}),
    ...(refreshSessions ? { refreshSessions } : {}),
    outbox,
    userManager,
    koa: app,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }).finally(() => redis?.client.disconnect()),
  };
}

/** The session store of the refresh-token backends, per request for a database. */
function refreshStore(
  options: RefreshOptions,
  store: Awaited<ReturnType<typeof openStore>>,
): () => RefreshSessionStore<string> {
  const lifetimes = {
    lifetimeSeconds: options.lifetimeSeconds ?? 3600,
    ...(options.maxLifetimeSeconds === undefined
      ? {}
      : { maxLifetimeSeconds: options.maxLifetimeSeconds }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  };
  if (options.store === "redis") {
    if (!options.client) throw new Error("refresh.store redis needs refresh.client");
    const prefix = `tessera-test:${randomBytes(6).toString("hex")}:`;
    const sessions = new RedisSessionStore<string>({
      redis: options.client,
      prefix: `${prefix}refresh:`,
      userIndexPrefix: `${prefix}refresh-user:`,
      ...lifetimes,
    });
    return () => sessions;
  }
  return () =>
    new DatabaseSessionStore<string, AccessTokenProtocol<string>>({
      database: store.tokens(),
      ...lifetimes,
    });
}

/** The routes of `sessionRoutes`: what an app does with `ctx.state.session`. */
function sessionRouter(tessera: Tessera<StoreUser, string>): Router<TesseraState<StoreUser>> {
  const router = new Router<TesseraState<StoreUser>>();
  const signedIn = tessera.currentUser({ active: true });
  type Ctx = Parameters<Parameters<typeof router.get>[1]>[0];
  const session = (ctx: Ctx) => {
    const found = ctx.state.session;
    if (!found) ctx.throw(404, "no session");
    return found;
  };
  const json = async (ctx: Ctx) => {
    let text = "";
    for await (const chunk of ctx.req) text += chunk;
    return JSON.parse(text);
  };
  router.get("/session", signedIn, (ctx) => {
    const { handle, userId, claims } = session(ctx);
    ctx.body = { handle, user_id: userId, claims };
  });
  router.get("/session/data", signedIn, async (ctx) => {
    ctx.body = await session(ctx).getData();
  });
  router.put("/session/data", signedIn, async (ctx) => {
    await session(ctx).updateData(await json(ctx));
    ctx.status = 204;
  });
  router.patch("/session/data", signedIn, async (ctx) => {
    ctx.body = await session(ctx).mergeData(await json(ctx));
  });
  router.patch("/session/claims", signedIn, async (ctx) => {
    ctx.body = await session(ctx).mergeClaims(await json(ctx));
  });
  router.post("/session/revoke", signedIn, async (ctx) => {
    await session(ctx).revoke();
    ctx.status = 204;
  });
  return router;
}
