import { isIP } from "node:net";
import {
  AuthenticationBackend,
  BearerTransport,
  CookieTransport,
  type Strategy,
  UserManager,
} from "@tessera/core";
import { Tessera } from "@tessera/koa";
import {
  MemoryMfaChallengeStore,
  MfaChallenges,
  MfaKeyring,
  TotpFactorService,
} from "@tessera/mfa";
import { MemoryChallengeStore, PasskeyService } from "@tessera/passkeys";
import { DatabaseSessionStore, DatabaseStrategy } from "@tessera/strategy-database";
import {
  AccessTokenCodec,
  JWTStrategy,
  type JwtKeySet,
  MemoryJwtRevocationStore,
  RefreshTokenStrategy,
} from "@tessera/strategy-jwt";
import {
  RedisChallengeStore,
  RedisMfaChallengeStore,
  RedisStrategy,
} from "@tessera/strategy-redis";
import { RedisJwtRevocationStore } from "@tessera/strategy-redis/jwt";
import { RedisRateLimitStore } from "@tessera/strategy-redis/rate-limit";
import type { Redis } from "ioredis";
import type { Context } from "koa";
import { PASSWORD_POLICY } from "./admin.js";
import type { Config } from "./config.js";
import type { Store, User } from "./db/index.js";
import { auditSink, type Logger } from "./logger.js";
import { type Mailer, type Message, resetMessage, theftMessage, verifyMessage } from "./mail.js";
import type { Secrets } from "./secrets.js";

/** Opaque sessions (database, Redis, cookie): idle and absolute lifetimes. */
export const SESSION_LIFETIME = {
  /** Unused for a day: logged out. Each use slides it. */
  lifetimeSeconds: 24 * 3600,
  /** However active, a session ends 30 days after the login. */
  maxLifetimeSeconds: 30 * 24 * 3600,
};

/** JWTs cannot be looked up, so they stay short-lived; logout works through a denylist. */
export const JWT_LIFETIME_SECONDS = 15 * 60;

type Backend = AuthenticationBackend<User, string, Context>;

/** What {@link createAuth} builds: Tessera, its backends by route, and a user manager. */
export interface Auth {
  tessera: Tessera<User, string>;
  /**
   * Mounted at `/auth/{name}`: cookie, jwt, db, refresh, refresh-cookie, and redis when
   * Redis is configured.
   */
  backends: Backend[];
  /** A user manager for a request (`ctx`) or for a start-up task. */
  userManager(ctx?: Context): UserManager<User, string>;
  /** Resolves once every mail queued so far is sent (or has failed and been logged). */
  flushMail(): Promise<void>;
  /**
   * Whether passkeys are on: WebAuthn needs `APP_URL` on https, or on plain http at
   * `localhost` (never an IP address); otherwise Tessera has no `passkeys` and the page hides them.
   */
  passkeys: boolean;
}

/** True when browsers allow WebAuthn at `appUrl`: https, or http at localhost; a domain, not an IP. */
export function passkeysAvailable(appUrl: string): boolean {
  const { protocol, hostname } = new URL(appUrl);
  if (isIP(hostname.replace(/^\[|\]$/g, "")) !== 0) return false;
  return protocol === "https:" || (protocol === "http:" && hostname === "localhost");
}

/** The refresh-token backends' cookies: the access token, and the refresh token. */
export const REFRESH_COOKIES = { access: "tessera_access", refresh: "tessera_refresh" };

/**
 * The authentication of the app: six backends over four strategies, and the user rules
 * with mail hooks.
 *
 * | backend          | transport                          | strategy                                        |
 * | ---------------- | ---------------------------------- | ----------------------------------------------- |
 * | `cookie`         | `tessera_auth` cookie              | database                                        |
 * | `jwt`            | `Authorization: Bearer`            | JWT, revocable (Redis denylist, else in memory) |
 * | `db`             | `Authorization: Bearer`            | database                                        |
 * | `refresh`        | `Authorization: Bearer`            | refresh-token sessions (access JWT + refresh)   |
 * | `refresh-cookie` | `tessera_access` + `tessera_refresh` cookies | refresh-token sessions (the page at `/` uses it) |
 * | `redis`          | `Authorization: Bearer`            | Redis (only with `REDIS_URL`)                   |
 *
 * `keys` sign the refresh-token backends' access tokens (the first one signs, all verify).
 */
export function createAuth(deps: {
  config: Config;
  secrets: Secrets;
  keys: JwtKeySet;
  store: Store;
  redis: Redis | undefined;
  mailer: Mailer;
  log: Logger;
}): Auth {
  const { config, secrets, keys, store, redis, mailer, log } = deps;

  const jwt = new JWTStrategy<User, string>({
    secret: secrets.jwt,
    lifetimeSeconds: JWT_LIFETIME_SECONDS,
    // In memory, a logout is forgotten at a restart and unknown to other processes.
    revocationStore: redis
      ? new RedisJwtRevocationStore({ redis })
      : new MemoryJwtRevocationStore(),
  }) as Strategy<User, string>;
  // Per request: the token database is bound to the request's EntityManager.
  const database = (ctx: Context) =>
    new DatabaseStrategy<User>({ database: store.tokens(ctx), ...SESSION_LIFETIME });

  // Refresh-token sessions (SuperTokens' model): a short-lived access JWT checked with no
  // database read, and a refresh token rotated on every use, kept as a digest in the same
  // access-token table as the database sessions (so one session list shows them all).
  // The refresh token's lifetimes are the opaque sessions': a day idle, 30 days at most.
  // Built once: the strategy below is per request (its store is), the verified-token cache not.
  const codec = new AccessTokenCodec({ keys, audience: "tessera:access", name: "refresh" });
  const refresh = (ctx: Context) =>
    new RefreshTokenStrategy<User, string>({
      codec,
      sessions: new DatabaseSessionStore<string>({
        database: store.tokens(ctx),
        ...SESSION_LIFETIME,
      }),
      keys,
      refreshSecret: secrets.refresh,
      accessTokenLifetimeSeconds: config.accessTokenLifetimeSeconds,
    }) as unknown as Strategy<User, string>;

  const backends: Backend[] = [
    new AuthenticationBackend({
      name: "cookie",
      transport: new CookieTransport({
        cookieMaxAge: SESSION_LIFETIME.maxLifetimeSeconds,
        cookieSecure: config.cookieSecure,
      }),
      getStrategy: database,
    }),
    new AuthenticationBackend({ name: "jwt", transport: bearer("jwt"), getStrategy: () => jwt }),
    new AuthenticationBackend({ name: "db", transport: bearer("db"), getStrategy: database }),
    new AuthenticationBackend({
      name: "refresh",
      transport: bearer("refresh"),
      getStrategy: refresh,
    }),
    new AuthenticationBackend({
      name: "refresh-cookie",
      transport: new CookieTransport({
        cookieName: REFRESH_COOKIES.access,
        refreshCookieName: REFRESH_COOKIES.refresh,
        // The browser drops the access cookie when its token expires; the page then
        // refreshes (the refresh cookie's own lifetime is the session's).
        cookieMaxAge: config.accessTokenLifetimeSeconds,
        cookieSecure: config.cookieSecure,
      }),
      getStrategy: refresh,
    }),
  ];
  if (redis) {
    const strategy = new RedisStrategy<User, string>({ redis, ...SESSION_LIFETIME });
    backends.push(
      new AuthenticationBackend({
        name: "redis",
        transport: bearer("redis"),
        getStrategy: () => strategy,
      }),
    );
  }

  // Mail goes out in the background: a slow SMTP server must neither slow down nor fail
  // the request, and forgot-password must take as long for unknown emails as for known ones.
  const pending = new Set<Promise<void>>();
  const send = (message: Message) => {
    const sending = mailer
      .send(message)
      .catch((error: unknown) => log.error(`mail to ${message.to} failed:`, error))
      .finally(() => pending.delete(sending));
    pending.add(sending);
  };

  const userManager = (ctx?: Context): UserManager<User, string> => {
    const manager: UserManager<User, string> = new UserManager<User, string>({
      userDb: store.users(ctx),
      idParser: store.idParser,
      verificationTokenSecret: secrets.verify,
      resetPasswordTokenSecret: secrets.reset,
      // The 10,000 most common passwords are refused, with a reason the page shows; the same
      // rules as `tessera users create-superuser` (one definition, in admin.ts).
      passwordPolicy: PASSWORD_POLICY,
      hooks: {
        // FastAPI Users' recipe: ask for verification right after registering.
        onAfterRegister: async (user, context) => {
          if (!user.isVerified) await manager.requestVerify(user, context);
        },
        // Links are built from APP_URL, never from the request's Host header, which a
        // client chooses (a forged Host would mail the victim a link to the attacker).
        onAfterRequestVerify: (user, token) =>
          send(verifyMessage(config.appUrl, user.email, token)),
        onAfterForgotPassword: (user, token) =>
          send(resetMessage(config.appUrl, user.email, token)),
        // A rotated refresh token came back: it was copied. The session is already ended
        // (and audited as token_theft); tell its owner, with the device it was signed in from.
        onTokenTheftDetected: (user, session) => {
          send(theftMessage(config.appUrl, user.email, session));
        },
      },
    });
    return manager;
  };

  // Second factors: TOTP secrets encrypted at rest and mfa_tokens sealed under a key
  // derived from the master secret. The mfa_tokens' single use and wrong-code counts are
  // kept in Redis when there is one (any instance completes a login another one began, and
  // wrong codes count across all of them), else in this process (one instance).
  const keyring = new MfaKeyring([{ id: "example-1", secret: secrets.mfa }]);
  const mfaChallenges = redis
    ? new RedisMfaChallengeStore({ redis })
    : new MemoryMfaChallengeStore();
  // Passkeys: the RP ID and origin come from APP_URL (WebAuthn runs on https, or on plain
  // http at localhost only); registration and login challenges in Redis when there is one,
  // so any instance can finish a ceremony another one began.
  const { hostname, origin } = new URL(config.appUrl);
  const passkeys = passkeysAvailable(config.appUrl);
  if (!passkeys) {
    log.warn(`passkeys off: WebAuthn needs APP_URL on https or http://localhost (${origin})`);
  }
  const passkeyChallenges = redis ? new RedisChallengeStore({ redis }) : new MemoryChallengeStore();

  const tessera = new Tessera<User, string>({
    getUserManager: (ctx) => userManager(ctx),
    backends,
    mfa: {
      factors: (manager) =>
        new TotpFactorService({ userManager: manager, keyring, issuer: "Tessera example" }),
      challenges: (manager, factors) =>
        new MfaChallenges({
          userManager: manager,
          factors: factors as TotpFactorService<User, string>,
          keyring,
          store: mfaChallenges,
        }),
    },
    ...(passkeys
      ? {
          passkeys: (manager: UserManager<User, string>) =>
            new PasskeyService<string>({
              database: manager.userDb as ReturnType<Store["users"]>,
              rpId: hostname,
              rpName: "Tessera example",
              origins: origin,
              userHandleSecret: secrets.passkeyUserHandle,
              challengeStore: passkeyChallenges,
            }),
        }
      : {}),
    // CSRF protection of the cookie backend is on by default; a stable key keeps the
    // double-submit tokens valid across restarts and between instances.
    csrf: { secret: secrets.csrf },
    // Tessera's default limits on login, register and the mail routes; counted in Redis
    // when there is one, so every instance of the app shares them.
    rateLimit: config.rateLimit
      ? {
          ...(redis ? { store: new RedisRateLimitStore({ redis }) } : {}),
          trustedProxies: config.trustedProxies,
        }
      : false,
    // Security events (failed logins, rate limits, CSRF refusals, refused tokens, token
    // theft, ended sessions…) as JSON lines `{"event":"audit",…}`: see docs/audit.md.
    onAuditEvent: auditSink(log),
  });

  return {
    tessera,
    backends,
    userManager,
    passkeys,
    flushMail: async () => {
      while (pending.size > 0) await Promise.all(pending);
    },
  };
}

function bearer(name: string): BearerTransport {
  return new BearerTransport({ tokenUrl: `auth/${name}/login` });
}
