import { createHash } from "node:crypto";
import { MemoryRateLimitStore, type RateLimitRule, type RateLimitStore } from "@tessera/core";
import { checkRateLimitRule } from "@tessera/core/internal";
import type { Context } from "koa";
import { HttpError } from "../http-error.js";
import { ClientAddress } from "./client-address.js";
import {
  DEFAULT_RATE_LIMITS,
  type RateLimitEvent,
  type RateLimitedRoute,
  type RateLimitOptions,
  type RouteRateLimit,
} from "./options.js";

const ROUTES = Object.keys(DEFAULT_RATE_LIMITS) as RateLimitedRoute[];

// Key names: the route's identity, never the raw path, so `/login/`, `/LOGIN` and every
// backend's login count in one bucket.
const KEY_NAMES: Record<RateLimitedRoute, string> = {
  login: "login",
  register: "register",
  forgotPassword: "forgot-password",
  requestVerifyToken: "request-verify-token",
  resetPassword: "reset-password",
  oauthCallback: "oauth-callback",
  mfa: "mfa",
  passkeyLogin: "passkey-login",
};

interface Counted {
  key: string;
  rule: RateLimitRule;
}

/** Hears of a refused attempt, with the account it was counted for (an email or a user id). */
export type RateLimitRefusalListener = (
  event: RateLimitEvent,
  account: string | null,
  ctx: Context,
) => void;

/** An attempt that was counted; a successful login gives it back. */
export interface RateLimitAttempt {
  refund(): Promise<void>;
}

const NOTHING_COUNTED: RateLimitAttempt = { refund: async () => {} };

/** Tessera's rate limiter: resolved options, and the check each limited route makes. */
export class RateLimiter {
  private readonly store: RateLimitStore;
  private readonly address: ClientAddress;
  private readonly routes: Record<RateLimitedRoute, Required<RouteRateLimit> | null>;
  private readonly failOpen: boolean;
  private readonly onLimited: RateLimitOptions["onLimited"];
  private readonly onRefused: RateLimitRefusalListener | undefined;

  /** `onRefused` hears of every refusal with its account (the audit stream's `rate_limited`). */
  constructor(options: RateLimitOptions = {}, onRefused?: RateLimitRefusalListener) {
    this.onRefused = onRefused;
    this.store = options.store ?? new MemoryRateLimitStore();
    if (typeof this.store?.consume !== "function" || typeof this.store.refund !== "function") {
      throw new TypeError("rateLimit.store must be a RateLimitStore (consume, refund)");
    }
    this.address = new ClientAddress(options.trustedProxies ?? []);
    this.failOpen = options.failOpen ?? false;
    this.onLimited = options.onLimited;
    const routes = {} as Record<RateLimitedRoute, Required<RouteRateLimit> | null>;
    for (const route of ROUTES) {
      const given = options.routes?.[route];
      if (given === false) {
        routes[route] = null;
        continue;
      }
      const merged = { ...DEFAULT_RATE_LIMITS[route], ...given };
      for (const scope of ["account", "client"] as const) {
        const rule = merged[scope];
        if (rule !== false) checkRateLimitRule(rule, `rateLimit.routes.${route}.${scope}`);
      }
      routes[route] = merged;
    }
    for (const route of Object.keys(options.routes ?? {})) {
      if (!ROUTES.includes(route as RateLimitedRoute)) {
        throw new TypeError(`rateLimit.routes: unknown route "${route}" (one of ${ROUTES})`);
      }
    }
    this.routes = routes;
  }

  /** True when `route` is limited at all (for the OpenAPI document's 429). */
  limits(route: RateLimitedRoute): boolean {
    const r = this.routes[route];
    return r !== null && (r.account !== false || r.client !== false);
  }

  /** The client key of `ctx` (an address or an IPv6 /64). */
  clientOf(ctx: Context): string {
    const forwarded = ctx.req.headers["x-forwarded-for"];
    return this.address.keyOf(
      ctx.req.socket.remoteAddress,
      Array.isArray(forwarded) ? forwarded.join(",") : forwarded,
    );
  }

  /**
   * Counts an attempt at `route` by this client and, when known, for `account` (a
   * normalized email or a user id). Refused: throws 429 with `Retry-After` and `detail`
   * (the body the route answers a failed attempt with, so only the status tells).
   * The client is counted first, and an account only once the client is within its limit,
   * so one address cannot fill the store with accounts.
   */
  async attempt(
    ctx: Context,
    route: RateLimitedRoute,
    account: string | null,
    detail: unknown,
  ): Promise<RateLimitAttempt> {
    const limits = this.routes[route];
    if (!limits) return NOTHING_COUNTED;
    const name = KEY_NAMES[route];
    const client = this.clientOf(ctx);
    const counted: Counted[] = [];
    const steps: [scope: "client" | "account", key: string, rule: RateLimitRule | false][] = [
      ["client", `${name}:client:${client}`, limits.client],
    ];
    if (account !== null) {
      steps.push(["account", `${name}:account:${digest(account)}`, limits.account]);
    }
    for (const [scope, key, rule] of steps) {
      if (rule === false) continue;
      let decision: Awaited<ReturnType<RateLimitStore["consume"]>>;
      try {
        decision = await this.store.consume(key, rule);
      } catch (error) {
        if (this.failOpen) {
          ctx.app.emit("error", error, ctx);
          return NOTHING_COUNTED;
        }
        throw error;
      }
      if (!decision.allowed) {
        const retryAfterSeconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
        this.onRefused?.({ route, scope, client, retryAfterSeconds }, account, ctx);
        this.onLimited?.({ route, scope, client, retryAfterSeconds }, ctx);
        throw new HttpError(429, detail, { "Retry-After": String(retryAfterSeconds) });
      }
      counted.push({ key, rule });
    }
    return {
      refund: async () => {
        await Promise.all(counted.map(({ key, rule }) => this.store.refund(key, rule)));
      },
    };
  }
}

/** Accounts are keyed by a hash: no email in the store, and keys of one bounded size. */
function digest(account: string): string {
  return createHash("sha256").update(account, "utf8").digest("base64url").slice(0, 22);
}
