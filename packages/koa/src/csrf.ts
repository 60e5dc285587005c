import { createHmac, randomBytes } from "node:crypto";
import {
  type CookieSpec,
  CookieTransport,
  type CsrfRefusalReason,
  type Secret,
  type Transport,
} from "@tessera/core";
import { safeEqual, secretKey } from "@tessera/core/internal";
import type { Context } from "koa";
import { HttpErrorCode } from "./error-codes.js";
import { HttpError } from "./http-error.js";

/** Options of the CSRF protection of cookie backends. */
export interface CsrfOptions {
  /**
   * Other origins allowed to send cookie-authenticated requests, e.g. a front-end on
   * `https://app.example.com` calling an API on `https://api.example.com`.
   * @default [] (same host only)
   */
  trustedOrigins?: readonly string[];
  /**
   * Key signing double-submit tokens (≥ 32 bytes). Without one, a random key per process:
   * tokens then stop working at a restart, and differ between instances.
   * @default a random key
   */
  secret?: Secret;
  /** Cookie carrying the double-submit token (readable by the page's JS). @default "tessera_csrf" */
  cookieName?: string;
  /** Header the client echoes the token in. @default "x-csrf-token" */
  headerName?: string;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * CSRF protection for cookie transports (ASVS 5.0 3.5.1): a state-changing request
 * authenticated by a cookie, and a cookie login, must be same-origin. Browsers say so in
 * `Sec-Fetch-Site`, else in `Origin`; a client that sends neither (not a browser, or a
 * very old one) must echo the signed double-submit token of the `tessera_csrf` cookie in
 * the `x-csrf-token` header. Anything else is `403 CSRF_FAILED`.
 */
export class CsrfProtection {
  readonly cookieName: string;
  readonly headerName: string;
  private readonly trusted: Set<string>;
  private readonly key: Uint8Array;
  private readonly onRefused: ((ctx: Context, reason: CsrfRefusalReason) => void) | undefined;

  /** `onRefused` hears of every refusal (the audit stream's `csrf_refused`). */
  constructor(
    options: CsrfOptions = {},
    onRefused?: (ctx: Context, reason: CsrfRefusalReason) => void,
  ) {
    this.onRefused = onRefused;
    this.cookieName = options.cookieName ?? "tessera_csrf";
    this.headerName = (options.headerName ?? "x-csrf-token").toLowerCase();
    this.trusted = new Set((options.trustedOrigins ?? []).map((o) => new URL(o).origin));
    this.key = options.secret ? secretKey(options.secret, "csrf.secret") : randomBytes(32);
  }

  /** True for the transports this protects: cookies are sent by browsers on their own. */
  applies(transport: Transport): boolean {
    return transport instanceof CookieTransport;
  }

  /**
   * Throws `403 CSRF_FAILED` unless `ctx` is a safe method or provably same-origin.
   * `login`: no session exists yet, so there is no token to echo; a request without
   * Fetch metadata or Origin is then let through (every current browser sends Origin on
   * a cross-origin POST, so only a non-browser client sends neither).
   */
  check(ctx: Context, options: { login?: boolean } = {}): void {
    if (SAFE_METHODS.has(ctx.method)) return;
    const site = ctx.get("sec-fetch-site");
    const origin = ctx.get("origin");
    if (site) {
      // "none": the user typed or bookmarked it. "same-site" is not enough: a sibling
      // subdomain is another origin and may be hostile.
      if (site === "same-origin" || site === "none") return;
      if (origin && this.trusted.has(origin)) return;
      this.refuse(ctx, "cross_site");
    }
    if (origin) {
      if (this.trusted.has(origin) || this.isOwnHost(origin, ctx)) return;
      this.refuse(ctx, "untrusted_origin");
    }
    if (options.login) return;
    const header = ctx.get(this.headerName);
    const cookie = ctx.cookies.get(this.cookieName, { signed: false }) ?? "";
    if (header && safeEqual(header, cookie) && this.verify(header)) return;
    this.refuse(ctx, "csrf_token_invalid");
  }

  private refuse(ctx: Context, reason: CsrfRefusalReason): never {
    this.onRefused?.(ctx, reason);
    throw new HttpError(403, HttpErrorCode.CSRF_FAILED);
  }

  // Host only, not scheme: behind a TLS-terminating proxy Koa may see http while the
  // browser says https; the host is what a cross-site attacker cannot forge.
  private isOwnHost(origin: string, ctx: Context): boolean {
    try {
      return new URL(origin).host === ctx.host;
    } catch {
      return false;
    }
  }

  /** A new double-submit token: random, signed so that a tossed cookie must be one of ours. */
  issue(): string {
    const nonce = randomBytes(18).toString("base64url");
    return `${nonce}.${this.sign(nonce)}`;
  }

  /** The cookie carrying a new token, with the auth cookie's scope but readable by JS. */
  cookieFor(transport: CookieTransport): CookieSpec {
    const spec: CookieSpec = {
      name: this.cookieName,
      value: this.issue(),
      path: transport.cookiePath,
      secure: transport.cookieSecure,
      httpOnly: false,
      sameSite: transport.cookieSameSite,
    };
    if (transport.cookieMaxAge !== undefined) spec.maxAge = transport.cookieMaxAge;
    if (transport.cookieDomain !== undefined) spec.domain = transport.cookieDomain;
    return spec;
  }

  private sign(nonce: string): string {
    return createHmac("sha256", this.key).update(nonce).digest("base64url");
  }

  private verify(token: string): boolean {
    const [nonce, mac, ...rest] = token.split(".");
    return !!nonce && !!mac && rest.length === 0 && safeEqual(mac, this.sign(nonce));
  }
}
