/**
 * Transports decide how a token travels between client and server. They are
 * framework-neutral: the HTTP layer adapts its request to {@link AuthRequest} and
 * writes {@link AuthResponse} back.
 */

/** The parts of a request a transport reads. Header names are lower-case. */
export interface AuthRequest {
  header(name: string): string | undefined;
  cookie(name: string): string | undefined;
}

/** A cookie to set on the response. */
export interface CookieSpec {
  name: string;
  value: string;
  /** Seconds; 0 expires the cookie now. Omitted: a session cookie. */
  maxAge?: number;
  path: string;
  domain?: string;
  secure: boolean;
  httpOnly: boolean;
  sameSite: "lax" | "strict" | "none";
}

/** A framework-neutral response. */
export interface AuthResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  cookies?: CookieSpec[];
}

/** How a transport shows up in an OpenAPI document. */
export interface TransportOpenAPI {
  /** Name under `components.securitySchemes`. */
  schemeName: string;
  /** The OpenAPI security scheme object. */
  securityScheme: Record<string, unknown>;
  /** OpenAPI responses of the login route, by status. */
  loginResponses: Record<string, Record<string, unknown>>;
  /** OpenAPI responses of the logout route, by status. */
  logoutResponses: Record<string, Record<string, unknown>>;
}

/**
 * The refresh token a login or a refresh hands out beside the access token (refresh-token
 * strategies only), and where it may be sent back.
 */
export interface RefreshGrant {
  refreshToken: string;
  /** Seconds until the access token expires (`expires_in`). */
  expiresIn: number;
  /** Seconds until the refresh token expires unused (the refresh cookie's `Max-Age`). */
  refreshExpiresIn: number;
  /** The path of the refresh route: the refresh cookie is scoped to it (`Path`). */
  refreshPath: string;
}

/** How a token travels. */
export interface Transport {
  /** The token in the request, or null when absent or malformed. Never throws. */
  readToken(request: AuthRequest): string | null;
  /**
   * The response to a successful login carrying `token`, and `refresh` when the strategy
   * issues refresh tokens (also the response to a refresh).
   */
  loginResponse(token: string, refresh?: RefreshGrant): AuthResponse;
  /**
   * The response to a logout; `refreshPath` given, a refresh cookie scoped to it is cleared
   * too (cookie transports).
   */
  logoutResponse(options?: { refreshPath?: string }): AuthResponse;
  /** What OpenAPI needs to describe it. */
  readonly openapi: TransportOpenAPI;
}

/** Longest token a transport accepts; longer input is not a token of ours. */
export const MAX_TOKEN_LENGTH = 8192;

/** Response headers on every response that carries a token (RFC 6749 §5.1). */
export const NO_STORE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "cache-control": "no-store",
  pragma: "no-cache",
});
