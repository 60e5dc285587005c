import type { RateLimitRule, RateLimitStore } from "@tessera/core";
import type { Context } from "koa";

/** The routes Tessera rate-limits, by name (the same bucket whatever path reaches them). */
export type RateLimitedRoute =
  | "login"
  | "register"
  | "forgotPassword"
  | "requestVerifyToken"
  | "resetPassword"
  | "oauthCallback"
  | "mfa"
  | "passkeyLogin";

/**
 * The limits of one route: per account (the normalized email, or a reset token's user)
 * and per client address (IPv6 by /64). `false` turns one off.
 */
export interface RouteRateLimit {
  account?: RateLimitRule | false;
  client?: RateLimitRule | false;
}

/** What {@link RateLimitOptions.onLimited} is told about a refused attempt. */
export interface RateLimitEvent {
  route: RateLimitedRoute;
  /** Which limit refused it. */
  scope: "account" | "client";
  /** The client key (address, or IPv6 /64) the attempt came from. */
  client: string;
  retryAfterSeconds: number;
}

/**
 * Rate limiting of the routes that guess or spend something: `/login` (password
 * guessing), `/register`, `/forgot-password`, `/request-verify-token` (mail, enumeration)
 * and `/reset-password`. A refused attempt answers 429 with `Retry-After`.
 *
 * @example
 * new Tessera({
 *   getUserManager, backends,
 *   rateLimit: {
 *     store: new RedisRateLimitStore({ redis }), // shared by every instance
 *     trustedProxies: ["10.0.0.0/8"],            // read X-Forwarded-For from these only
 *     routes: { register: { client: { limit: 3, windowSeconds: 3600 } } },
 *   },
 * });
 */
export interface RateLimitOptions {
  /**
   * Where counters live. The default counts per process; give a Redis store
   * (`@tessera/strategy-redis/rate-limit`) when several instances serve the app.
   * @default new MemoryRateLimitStore()
   */
  store?: RateLimitStore;
  /**
   * Addresses or CIDR ranges of your reverse proxies. Only a request whose TCP peer is one
   * of them has its `X-Forwarded-For` read; otherwise the peer is the client.
   * @default [] (X-Forwarded-For is ignored)
   */
  trustedProxies?: readonly string[];
  /**
   * Per-route limits, merged over {@link DEFAULT_RATE_LIMITS} scope by scope; `false` turns
   * a route's limiting off.
   */
  routes?: { [R in RateLimitedRoute]?: RouteRateLimit | false };
  /**
   * When the store fails (Redis down): `false` answers 503, so an outage cannot switch
   * the limits off; `true` lets the attempt through unlimited.
   * @default false
   */
  failOpen?: boolean;
  /** Called for every refused attempt (to log or alert; ASVS 5.0 6.3.1). */
  onLimited?: (event: RateLimitEvent, ctx: Context) => void;
}

/**
 * The default limits. Login: 5 attempts per account per minute (a refill every 12 s, no
 * lockout, so nobody can lock an account out for longer than that), 20 per client address
 * per minute with backoff up to 15 minutes for an address that keeps trying; a successful
 * login gives its attempt back. Mail-sending routes: 3 per account per 15 minutes. OAuth
 * callbacks: 20 per client address per minute, with the login's backoff. Second-factor
 * codes (`mfa`): 5 per account per minute, 20 per address. Passkey logins: 30 per address
 * per minute.
 */
export const DEFAULT_RATE_LIMITS: Readonly<Record<RateLimitedRoute, Required<RouteRateLimit>>> =
  Object.freeze({
    login: {
      account: { limit: 5, windowSeconds: 60 },
      client: { limit: 20, windowSeconds: 60, maxBlockSeconds: 900 },
    },
    register: {
      account: { limit: 5, windowSeconds: 600 },
      client: { limit: 10, windowSeconds: 60 },
    },
    forgotPassword: {
      account: { limit: 3, windowSeconds: 900 },
      client: { limit: 10, windowSeconds: 60 },
    },
    requestVerifyToken: {
      account: { limit: 3, windowSeconds: 900 },
      client: { limit: 10, windowSeconds: 60 },
    },
    resetPassword: {
      account: { limit: 5, windowSeconds: 900 },
      client: { limit: 10, windowSeconds: 60 },
    },
    // Every OAuth callback (login and associate, every provider) of one client address: a
    // person signs in a few times a minute at most; each callback costs a request to the
    // provider. No account scope: the account is known only after that request.
    oauthCallback: {
      account: false,
      client: { limit: 20, windowSeconds: 60, maxBlockSeconds: 900 },
    },
    // Every route taking a TOTP or recovery code (`/login/mfa`, the enrolment's confirmation,
    // and the account's confirm, disable and regenerate), per account whatever the address
    // (ASVS 5.0 6.3.1): 5 a minute, refilled every 12 s, so a 6-digit code cannot be guessed
    // (3 valid codes in 10^6 at a time); a correct code gives its attempt back. A new
    // password step does not reset it (the challenge's own 5-wrong-codes limit would).
    mfa: {
      account: { limit: 5, windowSeconds: 60 },
      client: { limit: 20, windowSeconds: 60, maxBlockSeconds: 900 },
    },
    // Passkey logins of one client address (each one verifies a signature): the account is
    // known only after verification, and a passkey cannot be guessed.
    passkeyLogin: {
      account: false,
      client: { limit: 30, windowSeconds: 60, maxBlockSeconds: 900 },
    },
  });
