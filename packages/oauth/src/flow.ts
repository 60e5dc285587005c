import { createHash, timingSafeEqual } from "node:crypto";
import { ConfigurationError, type CookieSpec, type OAuthCallbackInput } from "@tessera/core";
import * as client from "openid-client";
import type { OAuthTokenCipher } from "./cipher.js";
import { OAuthInvalidStateError, OAuthProviderError } from "./errors.js";
import type { OAuthSecret } from "./keys.js";
import type { OAuthProfile, OAuthProvider } from "./provider.js";
import { type OAuthPurpose, type OAuthStatePayload, StateSealer } from "./seal.js";
import { MemoryOAuthStateStore, type OAuthStateStore } from "./state-store.js";

/** The state cookie's default name (`__Host-`: Secure, Path=/, no Domain, so no subdomain sets it). */
export const DEFAULT_OAUTH_COOKIE_NAME = "__Host-tessera_oauth";

/** Options of {@link OAuthFlow}. */
export interface OAuthFlowOptions {
  /** The provider this flow signs in with. */
  provider: OAuthProvider;
  /**
   * The login callback's absolute URL, registered at the provider. Fixed by configuration:
   * never derived from the request's `Host` (the provider matches it exactly, ASVS 5.0 10.4.1).
   */
  redirectUri: string;
  /** The associate callback's absolute URL. @default redirectUri */
  associateRedirectUri?: string;
  /** Seals the state cookie (AES-256-GCM): at least 32 bytes, secret, from configuration. */
  stateSecret: OAuthSecret;
  /**
   * Encrypts the provider's tokens before they leave the flow (on by default: this option is
   * required). `false` hands them on in clear, and must be written out to be chosen.
   */
  tokenCipher: OAuthTokenCipher | false;
  /**
   * Remembers used states (single use). One per app instance is enough for one instance;
   * several need a shared one (`RedisOAuthStateStore`). @default a new MemoryOAuthStateStore
   */
  stateStore?: OAuthStateStore;
  /** How long a started sign-in may take, in seconds. @default 600 */
  stateTtlSeconds?: number;
  /** Scopes asked for when `begin` names none. @default the provider's */
  scopes?: readonly string[];
  /**
   * The state cookie. `secure: false` is for plain-http development only: the cookie then
   * travels in clear, and the name must drop the `__Host-` prefix (the default becomes
   * `tessera_oauth`). @default { name: "__Host-tessera_oauth", secure: true }
   */
  cookie?: { name?: string; secure?: boolean };
}

/** What {@link OAuthFlow.begin} takes. */
export interface OAuthBeginOptions {
  /** @default "login" */
  purpose?: OAuthPurpose;
  /** The logged-in user's id, for `purpose: "associate"` (required then). */
  userId?: string;
  /** Scopes for this sign-in (FastAPI Users' `?scopes=`). @default the flow's */
  scopes?: readonly string[];
  /** Extra authorization parameters (`prompt`, `login_hint`…); never state, PKCE or nonce. */
  extraParams?: Record<string, string>;
}

/** What {@link OAuthFlow.begin} returns: send the browser to the URL, and set the cookie. */
export interface OAuthBeginResult {
  /** FastAPI Users' `authorization_url`. */
  authorizationUrl: string;
  /** The sealed state cookie to set on the response. */
  cookie: CookieSpec;
}

/** What {@link OAuthFlow.complete} takes: the callback's query and the state cookie. */
export interface OAuthCompleteInput {
  /** The callback request's query parameters. */
  query: URLSearchParams | Record<string, string | string[] | undefined>;
  /** The state cookie's value (`flow.cookieName`), undefined when the browser sent none. */
  cookie: string | undefined;
  /** Which callback this is. @default "login" */
  purpose?: OAuthPurpose;
  /** The logged-in user's id, for the associate callback: it must be the one `begin` had. */
  userId?: string;
}

/** What a completed sign-in learnt. Tokens are encrypted unless `tokenCipher: false`. */
export interface OAuthCompletion {
  oauthName: string;
  purpose: OAuthPurpose;
  /** The user an association is for. */
  userId?: string;
  profile: OAuthProfile;
  /** Encrypted by the flow's cipher. */
  accessToken: string;
  /** Encrypted by the flow's cipher; null when the provider issued none. */
  refreshToken: string | null;
  /** Epoch seconds; null when the provider did not say. */
  expiresAt: number | null;
  /**
   * What `UserManager.oauthCallback` takes, or null when the provider gave no email (answer
   * `OAUTH_NOT_AVAILABLE_EMAIL` then, as FastAPI Users does).
   */
  callbackInput: OAuthCallbackInput | null;
}

const RESERVED_PARAMS = new Set([
  "state",
  "nonce",
  "code_challenge",
  "code_challenge_method",
  "redirect_uri",
  "response_type",
  "client_id",
  "scope",
]);

/**
 * The framework-neutral sign-in flow of one provider. `begin` makes the authorization URL
 * and a sealed, short-lived cookie binding the `state` to this browser (the fix of FastAPI
 * Users' CVE-2025-68481); `complete` checks the callback against that cookie, consumes the
 * state once, exchanges the code with PKCE, validates the answer and encrypts the tokens.
 *
 * @example
 * const flow = new OAuthFlow({
 *   provider: google({ clientId, clientSecret }),
 *   redirectUri: "https://app.example.com/auth/google/callback",
 *   stateSecret: process.env.OAUTH_STATE_SECRET!,
 *   tokenCipher: new OAuthTokenCipher([{ id: "1", secret: process.env.OAUTH_TOKEN_KEY! }]),
 * });
 * const { authorizationUrl, cookie } = await flow.begin();
 * // … later, in the callback:
 * const done = await flow.complete({ query: ctx.query, cookie: ctx.cookies.get(flow.cookieName) });
 */
export class OAuthFlow {
  /** The provider. */
  readonly provider: OAuthProvider;
  /** The state cookie's name. */
  readonly cookieName: string;
  /** Whether the state cookie is `Secure`. */
  readonly cookieSecure: boolean;
  /** How long a started sign-in may take, in seconds. */
  readonly stateTtlSeconds: number;
  readonly #redirectUris: Record<OAuthPurpose, string>;
  readonly #sealer: StateSealer;
  readonly #cipher: OAuthTokenCipher | false;
  readonly #store: OAuthStateStore;
  readonly #scopes: readonly string[];

  /** Throws `ConfigurationError` for a short secret, a bad redirect URI or cookie, no cipher. */
  constructor(options: OAuthFlowOptions) {
    this.provider = options.provider;
    this.#redirectUris = {
      login: checkRedirectUri(options.redirectUri),
      associate: checkRedirectUri(options.associateRedirectUri ?? options.redirectUri),
    };
    this.#sealer = new StateSealer(options.stateSecret);
    if (options.tokenCipher === undefined) {
      throw new ConfigurationError(
        "OAuthFlow: tokenCipher is required (an OAuthTokenCipher; false stores tokens in clear)",
      );
    }
    this.#cipher = options.tokenCipher;
    this.#store = options.stateStore ?? new MemoryOAuthStateStore();
    this.stateTtlSeconds = options.stateTtlSeconds ?? 600;
    if (!Number.isInteger(this.stateTtlSeconds) || this.stateTtlSeconds < 1) {
      throw new ConfigurationError("OAuthFlow: stateTtlSeconds must be a positive integer");
    }
    this.#scopes = options.scopes ?? options.provider.defaultScopes;
    this.cookieSecure = options.cookie?.secure ?? true;
    this.cookieName =
      options.cookie?.name ?? (this.cookieSecure ? DEFAULT_OAUTH_COOKIE_NAME : "tessera_oauth");
    if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(this.cookieName)) {
      throw new ConfigurationError("OAuthFlow: invalid cookie name");
    }
    if (!this.cookieSecure && /^__(Host|Secure)-/i.test(this.cookieName)) {
      throw new ConfigurationError(
        "OAuthFlow: a __Host- or __Secure- cookie must be Secure (browsers drop it otherwise)",
      );
    }
  }

  /** The redirect URI of a purpose (as configured). */
  redirectUri(purpose: OAuthPurpose = "login"): string {
    return this.#redirectUris[purpose];
  }

  /**
   * Starts a sign-in: a fresh `state` (256 bits), PKCE verifier and nonce, sealed with the
   * provider's name, the purpose (and user) and an expiry into the cookie. May discover the
   * provider: throws `OAuthProviderUnavailableError` when it cannot be reached.
   */
  async begin(options: OAuthBeginOptions = {}): Promise<OAuthBeginResult> {
    const purpose = options.purpose ?? "login";
    if (purpose === "associate" && !options.userId) {
      throw new TypeError("OAuthFlow.begin: an association needs the user's id");
    }
    for (const name of Object.keys(options.extraParams ?? {})) {
      if (RESERVED_PARAMS.has(name)) {
        throw new TypeError(`OAuthFlow.begin: ${name} is set by the flow`);
      }
    }
    const payload: OAuthStatePayload = {
      state: client.randomState(),
      codeVerifier: client.randomPKCECodeVerifier(),
      nonce: client.randomNonce(),
      provider: this.provider.name,
      purpose,
      expiresAt: Math.floor(Date.now() / 1000) + this.stateTtlSeconds,
    };
    if (purpose === "associate") payload.userId = options.userId;
    const url = await this.provider.authorizationUrl({
      redirectUri: this.#redirectUris[purpose],
      state: payload.state,
      codeChallenge: await client.calculatePKCECodeChallenge(payload.codeVerifier),
      nonce: payload.nonce,
      scopes: options.scopes ?? this.#scopes,
      ...(options.extraParams ? { extraParams: options.extraParams } : {}),
    });
    return {
      authorizationUrl: url.href,
      cookie: this.#cookie(this.#sealer.seal(payload), this.stateTtlSeconds),
    };
  }

  /**
   * Finishes a sign-in from the callback. Throws `OAuthProviderError` for an `error` in the
   * query; `OAuthInvalidStateError` for a missing, tampered or expired cookie, a `state` that
   * is not the cookie's, a cookie of another provider, purpose or user, or a state used
   * before; then the provider's errors (`OAUTH_PROVIDER_ERROR`, `OAUTH_INVALID_RESPONSE`,
   * `OAUTH_PROVIDER_UNAVAILABLE`). Clear the cookie ({@link clearCookie}) whatever happens.
   */
  async complete(input: OAuthCompleteInput): Promise<OAuthCompletion> {
    const query = toSearchParams(input.query);
    const error = query.get("error");
    if (error !== null) {
      throw new OAuthProviderError(
        error.slice(0, 200),
        query.get("error_description")?.slice(0, 500) ?? undefined,
      );
    }
    const payload = this.#sealer.open(input.cookie);
    if (!payload) throw new OAuthInvalidStateError("No valid OAuth state cookie");
    const now = Math.floor(Date.now() / 1000);
    if (payload.expiresAt <= now) throw new OAuthInvalidStateError("The OAuth state expired");
    const state = query.get("state");
    if (!state || !sameString(state, payload.state)) {
      throw new OAuthInvalidStateError("The OAuth state is not this browser's");
    }
    if (payload.provider !== this.provider.name) {
      throw new OAuthInvalidStateError("The OAuth state is another provider's");
    }
    const purpose = input.purpose ?? "login";
    if (payload.purpose !== purpose) {
      throw new OAuthInvalidStateError("The OAuth state was started for another purpose");
    }
    if (purpose === "associate" && (!input.userId || payload.userId !== input.userId)) {
      throw new OAuthInvalidStateError("The OAuth state was started by another user");
    }
    const id = createHash("sha256").update(payload.state).digest("hex");
    if (!(await this.#store.consume(id, payload.expiresAt - now))) {
      throw new OAuthInvalidStateError("The OAuth state was used already");
    }

    const callbackUrl = new URL(this.#redirectUris[purpose]);
    callbackUrl.search = query.toString();
    const { profile, tokens } = await this.provider.exchange({
      callbackUrl,
      state: payload.state,
      codeVerifier: payload.codeVerifier,
      nonce: payload.nonce,
    });
    const seal = (token: string) => (this.#cipher ? this.#cipher.encrypt(token) : token);
    const accessToken = seal(tokens.accessToken);
    const refreshToken = tokens.refreshToken ? seal(tokens.refreshToken) : null;
    const expiresAt = tokens.expiresAt ?? null;
    const completion: OAuthCompletion = {
      oauthName: this.provider.name,
      purpose,
      profile,
      accessToken,
      refreshToken,
      expiresAt,
      callbackInput:
        profile.email === null
          ? null
          : {
              oauthName: this.provider.name,
              accountId: profile.accountId,
              accountEmail: profile.email,
              emailVerified: profile.emailVerified,
              accessToken,
              expiresAt,
              refreshToken,
            },
    };
    if (payload.userId !== undefined) completion.userId = payload.userId;
    return completion;
  }

  /** The cookie spec that deletes the state cookie: set it on every callback response. */
  clearCookie(): CookieSpec {
    return this.#cookie("", 0);
  }

  #cookie(value: string, maxAge: number): CookieSpec {
    return {
      name: this.cookieName,
      value,
      maxAge,
      path: "/",
      secure: this.cookieSecure,
      httpOnly: true,
      // Lax: the provider's redirect back is a top-level GET, which carries Lax cookies.
      sameSite: "lax",
    };
  }
}

function checkRedirectUri(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigurationError(`OAuthFlow: redirect URI is not an absolute URL: ${value}`);
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || url.hash || url.search) {
    throw new ConfigurationError(
      `OAuthFlow: redirect URI must be http(s), without query or fragment: ${value}`,
    );
  }
  return url.href;
}

function toSearchParams(query: OAuthCompleteInput["query"]): URLSearchParams {
  if (query instanceof URLSearchParams) return query;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    // A repeated parameter is kept repeated: openid-client refuses it (no guessing which).
    for (const v of Array.isArray(value) ? value : [value]) params.append(key, v);
  }
  return params;
}

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
