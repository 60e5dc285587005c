import { ConfigurationError } from "../errors.js";
import {
  type AuthRequest,
  type AuthResponse,
  type CookieSpec,
  MAX_TOKEN_LENGTH,
  NO_STORE_HEADERS,
  type RefreshGrant,
  type Transport,
  type TransportOpenAPI,
} from "./base.js";

/** Options of {@link CookieTransport}. */
export interface CookieTransportOptions {
  /** @default "tessera_auth" */
  cookieName?: string;
  /** Cookie lifetime in seconds; omitted: a session cookie. @default undefined */
  cookieMaxAge?: number;
  /** @default "/" */
  cookiePath?: string;
  /** @default undefined (host-only cookie) */
  cookieDomain?: string;
  /** @default true */
  cookieSecure?: boolean;
  /** @default true */
  cookieHttpOnly?: boolean;
  /** @default "lax" */
  cookieSameSite?: "lax" | "strict" | "none";
  /**
   * Name of the refresh-token cookie (refresh-token strategies only). It is always
   * `HttpOnly`, `SameSite=Strict`, `Secure` as `cookieSecure`, and scoped by `Path` to the
   * refresh route, so no other request carries it.
   * @default cookieName + "_refresh" (a `__Host-` prefix becomes `__Secure-`: a `__Host-`
   * cookie must have `Path=/`)
   */
  refreshCookieName?: string;
}

// RFC 6265 §4.1.1: cookie-name is an RFC 2616 token.
const COOKIE_NAME_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// path-value: any CHAR except CTLs or ";".
const COOKIE_PATH_RE = /^\/[\x21-\x3a\x3c-\x7e]*$/;
const COOKIE_DOMAIN_RE =
  /^\.?(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
// cookie-value characters (RFC 6265 §4.1.1), what our tokens are made of.
const COOKIE_VALUE_RE = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]+$/;

/**
 * Largest cookie name plus value, in bytes: browsers drop a larger cookie silently
 * (RFC 6265bis §5.7; ASVS 5.0 3.3.5). Names and values here are ASCII, so bytes = length.
 */
export const MAX_COOKIE_BYTES = 4096;
/** Largest attribute value (Path, Domain) a browser keeps (RFC 6265bis §5.7). */
export const MAX_COOKIE_ATTRIBUTE_BYTES = 1024;
// Room a cookie name must leave for the token: a JWT with a few claims is 300–600 bytes.
const TOKEN_ROOM_BYTES = 1024;

/**
 * Token in a cookie; login answers `204` with `Set-Cookie`, logout `204` with an
 * expiring cookie. Invalid names, paths, domains or prefix rules fail at construction.
 *
 * @example
 * const transport = new CookieTransport({ cookieMaxAge: 3600 });
 */
export class CookieTransport implements Transport {
  readonly cookieName: string;
  readonly cookieMaxAge: number | undefined;
  readonly cookiePath: string;
  readonly cookieDomain: string | undefined;
  readonly cookieSecure: boolean;
  readonly cookieHttpOnly: boolean;
  readonly cookieSameSite: "lax" | "strict" | "none";
  /** Name of the refresh-token cookie (refresh-token strategies only). */
  readonly refreshCookieName: string;
  readonly openapi: TransportOpenAPI;

  constructor(options: CookieTransportOptions = {}) {
    this.cookieName = options.cookieName ?? "tessera_auth";
    this.cookieMaxAge = options.cookieMaxAge;
    this.cookiePath = options.cookiePath ?? "/";
    this.cookieDomain = options.cookieDomain;
    this.cookieSecure = options.cookieSecure ?? true;
    this.cookieHttpOnly = options.cookieHttpOnly ?? true;
    this.cookieSameSite = options.cookieSameSite ?? "lax";
    this.refreshCookieName =
      options.refreshCookieName ?? `${this.cookieName.replace(/^__host-/i, "__Secure-")}_refresh`;
    this.validate();
    this.openapi = {
      schemeName: `APIKeyCookie_${this.cookieName}`,
      securityScheme: { type: "apiKey", in: "cookie", name: this.cookieName },
      loginResponses: { "204": { description: "Logged in; the cookie is set" } },
      logoutResponses: { "204": { description: "Logged out; the cookie is cleared" } },
    };
  }

  private validate(): void {
    const fail = (why: string) => {
      throw new ConfigurationError(`CookieTransport: ${why}`);
    };
    if (!COOKIE_NAME_RE.test(this.cookieName))
      fail(`invalid cookie name ${JSON.stringify(this.cookieName)}`);
    if (!COOKIE_NAME_RE.test(this.refreshCookieName))
      fail(`invalid refresh cookie name ${JSON.stringify(this.refreshCookieName)}`);
    if (this.refreshCookieName === this.cookieName)
      fail("refreshCookieName must differ from cookieName");
    const refreshName = this.refreshCookieName.toLowerCase();
    if (refreshName.startsWith("__host-"))
      fail("the refresh cookie cannot be a __Host- cookie: it is scoped to the refresh path");
    if (refreshName.startsWith("__secure-") && !this.cookieSecure)
      fail("__Secure- cookies require cookieSecure");
    if (this.cookieName.length > MAX_COOKIE_BYTES - TOKEN_ROOM_BYTES)
      fail(`the cookie name leaves no room for a token in ${MAX_COOKIE_BYTES} bytes`);
    for (const [what, value] of [
      ["cookiePath", this.cookiePath],
      ["cookieDomain", this.cookieDomain ?? ""],
    ] as const) {
      if (value.length > MAX_COOKIE_ATTRIBUTE_BYTES)
        fail(`${what} is longer than the ${MAX_COOKIE_ATTRIBUTE_BYTES} bytes browsers keep`);
    }
    if (!COOKIE_PATH_RE.test(this.cookiePath))
      fail(`invalid cookie path ${JSON.stringify(this.cookiePath)}`);
    if (this.cookieDomain !== undefined && !COOKIE_DOMAIN_RE.test(this.cookieDomain)) {
      fail(`invalid cookie domain ${JSON.stringify(this.cookieDomain)}`);
    }
    if (
      this.cookieMaxAge !== undefined &&
      !(Number.isInteger(this.cookieMaxAge) && this.cookieMaxAge > 0)
    ) {
      fail("cookieMaxAge must be a positive integer number of seconds");
    }
    if (!["lax", "strict", "none"].includes(this.cookieSameSite))
      fail("cookieSameSite must be lax, strict or none");
    // Browsers reject SameSite=None without Secure, and the prefixes' rules (RFC 6265bis §4.1.3).
    if (this.cookieSameSite === "none" && !this.cookieSecure)
      fail("SameSite=None requires cookieSecure");
    // RFC 6265bis (draft 14 on) and current browsers match the prefixes case-insensitively.
    const name = this.cookieName.toLowerCase();
    if (name.startsWith("__secure-") && !this.cookieSecure)
      fail("__Secure- cookies require cookieSecure");
    if (name.startsWith("__host-")) {
      if (!this.cookieSecure || this.cookiePath !== "/" || this.cookieDomain !== undefined) {
        fail("__Host- cookies require cookieSecure, cookiePath '/' and no cookieDomain");
      }
    }
  }

  /** The token in the cookie; null when absent, malformed, or larger than a cookie can be. */
  readToken(request: AuthRequest): string | null {
    const value = request.cookie(this.cookieName);
    if (!value || value.length > this.maxValueBytes() || !COOKIE_VALUE_RE.test(value)) return null;
    return value;
  }

  /** The refresh token in the refresh cookie; null when absent or malformed. */
  readRefreshToken(request: AuthRequest): string | null {
    const value = request.cookie(this.refreshCookieName);
    if (!value || value.length > MAX_TOKEN_LENGTH || !COOKIE_VALUE_RE.test(value)) return null;
    return value;
  }

  // No browser sends more; a larger value was not set by us (and a token is bounded anyway).
  private maxValueBytes(): number {
    return Math.min(MAX_TOKEN_LENGTH, MAX_COOKIE_BYTES - this.cookieName.length);
  }

  private cookie(value: string, maxAge: number | undefined): CookieSpec {
    const spec: CookieSpec = {
      name: this.cookieName,
      value,
      path: this.cookiePath,
      secure: this.cookieSecure,
      httpOnly: this.cookieHttpOnly,
      sameSite: this.cookieSameSite,
    };
    if (maxAge !== undefined) spec.maxAge = maxAge;
    if (this.cookieDomain !== undefined) spec.domain = this.cookieDomain;
    return spec;
  }

  /**
   * 204 with the token cookie. A token too large for a cookie throws `ConfigurationError`
   * (a strategy whose tokens grew past 4 KiB): a browser would drop it silently.
   */
  loginResponse(token: string, refresh?: RefreshGrant): AuthResponse {
    if (token.length > this.maxValueBytes()) {
      throw new ConfigurationError(
        `CookieTransport: a ${token.length}-byte token does not fit in a ${MAX_COOKIE_BYTES}-byte cookie named ${this.cookieName}`,
      );
    }
    const cookies = [this.cookie(token, this.cookieMaxAge)];
    if (refresh !== undefined) {
      cookies.push(
        this.refreshCookie(refresh.refreshToken, refresh.refreshPath, refresh.refreshExpiresIn),
      );
    }
    return { status: 204, headers: { ...NO_STORE_HEADERS }, cookies };
  }

  /** 204 clearing the cookie, and the refresh cookie at `refreshPath` when given. */
  logoutResponse(options: { refreshPath?: string } = {}): AuthResponse {
    const cookies = [this.cookie("", 0)];
    if (options.refreshPath !== undefined) {
      cookies.push(this.refreshCookie("", options.refreshPath, 0));
    }
    return { status: 204, headers: { ...NO_STORE_HEADERS }, cookies };
  }

  /**
   * The refresh cookie: `HttpOnly` and `SameSite=Strict` whatever the access cookie's
   * settings, and only the refresh route's path (ASVS 5.0 7.2.4: the long-lived secret is
   * sent nowhere else, and never to scripts).
   */
  private refreshCookie(value: string, path: string, maxAge: number): CookieSpec {
    if (!COOKIE_PATH_RE.test(path) || path.length > MAX_COOKIE_ATTRIBUTE_BYTES) {
      throw new ConfigurationError(`CookieTransport: invalid refresh path ${JSON.stringify(path)}`);
    }
    const spec: CookieSpec = {
      name: this.refreshCookieName,
      value,
      path,
      maxAge: Math.max(0, Math.floor(maxAge)),
      secure: this.cookieSecure,
      httpOnly: true,
      sameSite: "strict",
    };
    if (this.cookieDomain !== undefined) spec.domain = this.cookieDomain;
    return spec;
  }
}

/**
 * Serializes a {@link CookieSpec} as a `Set-Cookie` header value. Throws a `TypeError`
 * for a name, value, path, domain, maxAge or sameSite that cannot appear verbatim in the
 * header: a `;` or CR/LF there would add attributes or split the header.
 *
 * @example
 * ctx.append("set-cookie", serializeCookie(cookie));
 */
export function serializeCookie(spec: CookieSpec): string {
  const invalid = (what: string) => new TypeError(`serializeCookie: invalid cookie ${what}`);
  if (!COOKIE_NAME_RE.test(spec.name)) throw invalid("name");
  if (spec.value !== "" && !COOKIE_VALUE_RE.test(spec.value)) throw invalid("value");
  if (!COOKIE_PATH_RE.test(spec.path)) throw invalid("path");
  if (spec.domain && !COOKIE_DOMAIN_RE.test(spec.domain)) throw invalid("domain");
  if (spec.maxAge !== undefined && !Number.isInteger(spec.maxAge)) throw invalid("maxAge");
  if (!["lax", "strict", "none"].includes(spec.sameSite)) throw invalid("sameSite");
  const parts = [`${spec.name}=${spec.value}`];
  if (spec.maxAge !== undefined) {
    parts.push(`Max-Age=${spec.maxAge}`);
    const expires = spec.maxAge <= 0 ? new Date(0) : new Date(Date.now() + spec.maxAge * 1000);
    parts.push(`Expires=${expires.toUTCString()}`);
  }
  if (spec.domain) parts.push(`Domain=${spec.domain}`);
  parts.push(`Path=${spec.path}`);
  if (spec.secure) parts.push("Secure");
  if (spec.httpOnly) parts.push("HttpOnly");
  parts.push(`SameSite=${spec.sameSite[0]?.toUpperCase()}${spec.sameSite.slice(1)}`);
  return parts.join("; ");
}
