import {
  type AuthRequest,
  type AuthResponse,
  MAX_TOKEN_LENGTH,
  NO_STORE_HEADERS,
  type RefreshGrant,
  type Transport,
  type TransportOpenAPI,
} from "./base.js";

/** Options of {@link BearerTransport}. */
export interface BearerTransportOptions {
  /** URL of the login route, shown in OpenAPI's password flow (e.g. `"auth/jwt/login"`). */
  tokenUrl: string;
}

// RFC 6750 §2.1 b64token, the characters a bearer credential may contain.
const B64TOKEN_RE = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Token in the `Authorization: Bearer …` header; login answers
 * `200 {"access_token", "token_type": "bearer"}`, logout `204`.
 *
 * @example
 * const transport = new BearerTransport({ tokenUrl: "auth/jwt/login" });
 */
export class BearerTransport implements Transport {
  readonly tokenUrl: string;
  readonly openapi: TransportOpenAPI;

  constructor(options: BearerTransportOptions) {
    this.tokenUrl = options.tokenUrl;
    this.openapi = {
      schemeName: "OAuth2PasswordBearer",
      securityScheme: {
        type: "oauth2",
        flows: { password: { tokenUrl: options.tokenUrl, scopes: {} } },
      },
      loginResponses: {
        "200": {
          description: "Logged in",
          content: {
            "application/json": {
              schema: {
                type: "object",
                required: ["access_token", "token_type"],
                properties: {
                  access_token: { type: "string" },
                  token_type: { type: "string", const: "bearer" },
                },
              },
            },
          },
        },
      },
      logoutResponses: { "204": { description: "Logged out" } },
    };
  }

  readToken(request: AuthRequest): string | null {
    const header = request.header("authorization");
    if (!header || header.length > MAX_TOKEN_LENGTH + 7) return null;
    // The usual spelling first, without lowercasing or trimming (this runs on every
    // request); whatever it does not accept goes the general way, so the answer is the same.
    if (header.startsWith("Bearer ")) {
      const token = header.slice(7);
      if (B64TOKEN_RE.test(token)) return token;
    }
    const space = header.indexOf(" ");
    if (space < 0 || header.slice(0, space).toLowerCase() !== "bearer") return null;
    const token = header.slice(space + 1).trim();
    return B64TOKEN_RE.test(token) ? token : null;
  }

  /**
   * `200 {"access_token", "token_type": "bearer"}`; with a refresh grant also
   * `"refresh_token"` and `"expires_in"` (RFC 6749 §5.1: a client reading only
   * `access_token`, as FastAPI Users' do, is unaffected).
   */
  loginResponse(token: string, refresh?: RefreshGrant): AuthResponse {
    const body: Record<string, unknown> = { access_token: token, token_type: "bearer" };
    if (refresh !== undefined) {
      body.refresh_token = refresh.refreshToken;
      body.expires_in = refresh.expiresIn;
    }
    return { status: 200, body, headers: { ...NO_STORE_HEADERS } };
  }

  logoutResponse(): AuthResponse {
    return { status: 204 };
  }
}
