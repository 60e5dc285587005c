import { randomBytes } from "node:crypto";
import {
  ConfigurationError,
  type CreateSessionOptions,
  checkSessionJson,
  DEFAULT_SESSION_LIMITS,
  type DestroyAllTokensOptions,
  type IdParser,
  InvalidIDError,
  type JsonObject,
  type RefreshSessionStore,
  RefreshTokenInvalidError,
  RefreshTokenReusedError,
  type Secret,
  type Session,
  type SessionInfo,
  type Strategy,
  type TokenPair,
  type UserManager,
  type UserProtocol,
} from "@tessera/core";
import {
  type AccessTokenClaims,
  AccessTokenCodec,
  sessionFromClaims,
  subjectOf,
} from "../codec.js";
import type { JwtKeySet, JwtKeySetInput } from "../key-set.js";
import { RefreshTokenCodec } from "./refresh-token.js";

// 128 bits from the CSPRNG, as JWTStrategy's ids.
const JTI_BYTES = 16;
const NO_CLAIMS: JsonObject = Object.freeze({}) as JsonObject;
const NO_USER: Promise<null> = Promise.resolve(null);

/**
 * Options of {@link RefreshTokenStrategy}.
 *
 * @example
 * new RefreshTokenStrategy<User>({
 *   sessions: new DatabaseSessionStore({ database, lifetimeSeconds: 14 * 86_400 }),
 *   keys: JwtKeySet.fromJwks(readFileSync("data/jwks.json", "utf8")),
 *   refreshSecret: process.env.REFRESH_SECRET!,
 * });
 */
export interface RefreshTokenStrategyOptions<ID> {
  /**
   * Where sessions and their refresh-token digests live: a `DatabaseSessionStore`
   * (`@tessera/strategy-database`) or a `RedisSessionStore` (`@tessera/strategy-redis`).
   * Its lifetimes are the refresh token's: `lifetimeSeconds` the idle expiry (renewed by
   * every refresh), `maxLifetimeSeconds` the absolute cap.
   */
  sessions: RefreshSessionStore<ID>;
  /** The access tokens' signing keys: the first signs, all verify (see {@link JwtKeySet}). */
  keys: JwtKeySetInput;
  /**
   * A codec to share between strategies built per request (a request-scoped session store):
   * its verified-token cache then lasts across requests. When given, it signs and verifies
   * instead of one built from `keys`, `audience`, `issuer`, `clock` and
   * `verifiedTokenCacheSize` (make it with the same values: `audience` defaults differ).
   * @default one of this strategy's own
   */
  codec?: AccessTokenCodec;
  /**
   * Secret(s) of at least 32 bytes that tag refresh tokens and derive their successors. A
   * list rotates them: the first tags new tokens, all are accepted.
   */
  refreshSecret: Secret | readonly Secret[];
  /** Access-token lifetime in seconds (`exp - iat`). @default 900 */
  accessTokenLifetimeSeconds?: number;
  /**
   * `aud` written and required. Distinct from JWTStrategy's default, so neither strategy
   * accepts the other's tokens when they share keys.
   * @default ["tessera:access"]
   */
  audience?: string | string[];
  /** `iss` written and required on read, when set. @default undefined */
  issuer?: string;
  /**
   * Check the session in the store on every request (SuperTokens' `checkDatabase`): a
   * revoked session's access token is refused at once, at the cost of one round trip.
   * Without it an access token is valid until its `exp` (at most the access lifetime).
   * @default false
   */
  checkDatabase?: boolean;
  /** Turns a user id into `sub`. @default String(id) for string and number ids */
  idParser?: Pick<IdParser<ID>, "stringify">;
  /** Current time in epoch milliseconds. @default Date.now */
  clock?: () => number;
  /** How many verified access tokens to remember (`0`: none). @default 10000 */
  verifiedTokenCacheSize?: number;
  /** Largest custom claims, in bytes of their JSON (they travel in every token). @default 2048 */
  maxClaimsBytes?: number;
}

/**
 * Refresh-token sessions, SuperTokens' model: a short-lived JWT access token (`sub`, `sid` =
 * the session handle, the session's custom claims under `ext`, `aud`, `iat`, `exp`, `jti`,
 * `kid` in the header) that is verified with no store call, and a long-lived opaque refresh
 * token, stored as a digest in a session store and **rotated on every use**.
 *
 * Rotation rule: a refresh token stays usable until its child has been used once, and
 * every refresh with one token gets the same child (it is derived from the parent), so a
 * lost response or two tabs refreshing at once never look like theft. A token presented
 * after its child was used was copied: the session is ended (`REFRESH_TOKEN_REUSED`) and the
 * manager's `onTokenTheftDetected` hook runs.
 *
 * @example
 * const strategy = new RefreshTokenStrategy<User>({ sessions, keys, refreshSecret });
 * const backend = new AuthenticationBackend({
 *   name: "refresh",
 *   transport: new BearerTransport({ tokenUrl: "auth/refresh/login" }),
 *   getStrategy: () => strategy,
 * });
 * app.use(tessera.authRouter(backend, { prefix: "/auth/refresh" }).routes()); // + POST /refresh
 */
export class RefreshTokenStrategy<U extends UserProtocol<ID>, ID = U["id"]>
  implements Strategy<U, ID>
{
  /** The session store: sessions, their data and claims, the refresh-token digests. */
  readonly sessions: RefreshSessionStore<ID>;
  /** Access-token lifetime in seconds. */
  readonly accessTokenLifetimeSeconds: number;
  /** Whether every request checks its session in the store. */
  readonly checkDatabase: boolean;
  /** Largest custom claims, in bytes of their JSON. */
  readonly maxClaimsBytes: number;
  private readonly codec: AccessTokenCodec;
  private readonly refreshTokens: RefreshTokenCodec;
  private readonly stringifyId: (id: ID) => string;

  constructor(options: RefreshTokenStrategyOptions<ID>) {
    if (!options.sessions || typeof options.sessions.rotateRefreshToken !== "function") {
      fail(
        "sessions must be a store that rotates refresh tokens (DatabaseSessionStore, RedisSessionStore)",
      );
    }
    this.sessions = options.sessions;
    this.accessTokenLifetimeSeconds = options.accessTokenLifetimeSeconds ?? 900;
    if (
      !Number.isSafeInteger(this.accessTokenLifetimeSeconds) ||
      this.accessTokenLifetimeSeconds <= 0
    ) {
      fail(
        `accessTokenLifetimeSeconds must be a positive integer (got ${this.accessTokenLifetimeSeconds})`,
      );
    }
    this.checkDatabase = options.checkDatabase ?? false;
    this.codec =
      options.codec ??
      new AccessTokenCodec({
        keys: options.keys,
        audience: options.audience ?? ["tessera:access"],
        ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
        ...(options.clock === undefined ? {} : { clock: options.clock }),
        ...(options.verifiedTokenCacheSize === undefined
          ? {}
          : { verifiedTokenCacheSize: options.verifiedTokenCacheSize }),
        name: "RefreshTokenStrategy",
      });
    this.refreshTokens = new RefreshTokenCodec(options.refreshSecret);
    const idParser = options.idParser;
    this.stringifyId = subjectOf(idParser, "RefreshTokenStrategy");
    this.maxClaimsBytes = options.maxClaimsBytes ?? DEFAULT_SESSION_LIMITS.maxClaimsBytes;
    if (!Number.isSafeInteger(this.maxClaimsBytes) || this.maxClaimsBytes <= 0) {
      fail(`maxClaimsBytes must be a positive integer (got ${this.maxClaimsBytes})`);
    }
  }

  /** The access tokens' signing keys (publish their public half with `jwksRouter`). */
  get keys(): JwtKeySet {
    return this.codec.keys;
  }

  /** The user an access token names, or null (a refresh token is no access token). */
  readToken(token: string | null, userManager: UserManager<U, ID>): Promise<U | null> {
    if (this.checkDatabase) {
      return this.readSession(token, userManager).then((found) => found?.user ?? null);
    }
    // As JWTStrategy: on a cached token, the user database's own promise and nothing else.
    const claims = this.codec.cached(token);
    if (claims !== undefined) return this.userFor(claims, userManager);
    return this.codec
      .verify(token)
      .then((verified) => (verified === null ? null : this.userFor(verified, userManager)));
  }

  /**
   * The user and session of an access token. Without `checkDatabase` the session is read
   * from the token (handle = `sid`, claims = `ext`; `createdAt`/`expiresAt` are the access
   * token's); with it, from the store, and a session that ended refuses the token.
   */
  readSession(
    token: string | null,
    userManager: UserManager<U, ID>,
  ): Promise<{ user: U; session: Session<ID> } | null> {
    // As JWTStrategy: on a cached token, one continuation on the user database's promise.
    const cached = this.codec.cached(token);
    if (cached !== undefined) return this.withSession(cached, userManager);
    return this.codec
      .verify(token)
      .then((verified) => (verified === null ? null : this.withSession(verified, userManager)));
  }

  private withSession(
    claims: AccessTokenClaims,
    userManager: UserManager<U, ID>,
  ): Promise<{ user: U; session: Session<ID> } | null> {
    const sid = claims.sid;
    if (sid === undefined) return NO_USER;
    if (!this.checkDatabase) {
      return this.userFor(claims, userManager).then((user) =>
        user === null ? null : { user, session: sessionFromClaims(claims, sid, user.id) },
      );
    }
    return Promise.all([this.sessions.getSession(sid), this.userFor(claims, userManager)]).then(
      ([session, user]) => {
        // The session must be this user's: a `sid` is never trusted to name anyone else's.
        if (session === null || user === null) return null;
        return this.stringifyId(session.userId) === claims.sub ? { user, session } : null;
      },
    );
  }

  /**
   * A new session of `user` and its first pair (a login): the refresh token's digest is
   * stored with the session, with the device, data and claims given.
   */
  async writeTokenPair(user: U, options: CreateSessionOptions = {}): Promise<TokenPair> {
    const claims = this.checkClaims(options.claims);
    const root = this.refreshTokens.root();
    const { key, session } = await this.sessions.createRefreshSession(user.id, root.digest, {
      ...options,
      claims,
    });
    return this.pair(user.id, session, this.refreshTokens.format(key, root.secret));
  }

  /** A new session's access token only (its refresh token is dropped): prefer {@link writeTokenPair}. */
  async writeSession(user: U, options: CreateSessionOptions = {}): Promise<string> {
    return (await this.writeTokenPair(user, options)).accessToken;
  }

  /** See {@link writeSession}. */
  writeToken(user: U): Promise<string> {
    return this.writeSession(user);
  }

  /**
   * Rotates `refreshToken` (see the class rule). Throws `RefreshTokenInvalidError` for a
   * token that is not ours, unknown, expired or revoked, or whose user is gone or inactive
   * (the session is then ended); `RefreshTokenReusedError` after ending the session and
   * calling `userManager.onTokenTheftDetected(user, session, context)`.
   */
  async refresh(
    refreshToken: string,
    userManager: UserManager<U, ID>,
    context?: unknown,
  ): Promise<{ user: U; session: Session<ID>; tokens: TokenPair }> {
    const parsed = this.refreshTokens.parse(refreshToken);
    if (parsed === null) throw new RefreshTokenInvalidError();
    const rotation = await this.sessions.rotateRefreshToken(
      parsed.key,
      parsed.digest,
      parsed.childDigest,
    );
    if (rotation.outcome === "invalid") throw new RefreshTokenInvalidError();
    const { session } = rotation;
    const user = await userManager.userDb.get(session.userId);
    if (rotation.outcome === "reused") {
      if (user !== null) await userManager.onTokenTheftDetected(user, session, context);
      throw new RefreshTokenReusedError();
    }
    if (user === null || !user.isActive) {
      await this.sessions.invalidateSession(session.userId, session.handle);
      throw new RefreshTokenInvalidError();
    }
    return { user, session, tokens: await this.pair(user.id, session, parsed.child) };
  }

  /**
   * The same session's access token with `claims` as its custom claims (after the store
   * kept them): same `sub`, `sid`, `jti`, issue time and `exp`. Null for a token not ours.
   */
  async reissue(token: string, claims: JsonObject): Promise<string | null> {
    const verified = await this.codec.verify(token);
    if (verified === null || verified.sid === undefined) return null;
    const ext = this.checkClaims(claims);
    return this.codec.sign({
      sub: verified.sub,
      jti: verified.jti,
      issuedAt: verified.issuedAt,
      exp: verified.exp,
      sid: verified.sid,
      ...(Object.keys(ext).length > 0 ? { ext } : {}),
    });
  }

  /** Ends the session of `token` (a logout): its refresh token is dead at once. */
  async destroyToken(token: string, user: U): Promise<void> {
    const claims = await this.codec.verify(token);
    if (claims?.sid === undefined || claims.sub !== this.stringifyId(user.id)) return;
    await this.sessions.invalidateSession(user.id, claims.sid);
  }

  /** Ends every session of `user` but the one of `options.exceptToken` (when it is the user's). */
  async destroyAllTokens(user: U, options: DestroyAllTokensOptions = {}): Promise<void> {
    const kept =
      options.exceptToken === undefined ? null : await this.codec.verify(options.exceptToken);
    const exceptHandle =
      kept?.sid !== undefined && kept.sub === this.stringifyId(user.id)
        ? kept.sid
        : options.exceptHandle;
    await this.sessions.invalidateUserSessions(
      user.id,
      exceptHandle === undefined ? {} : { exceptHandle },
    );
  }

  /** The user's live sessions, the current one marked. */
  async listSessions(user: U, currentToken: string | null): Promise<SessionInfo[]> {
    const current = currentToken === null ? null : await this.codec.verify(currentToken);
    return (await this.sessions.listUserSessions(user.id)).map((session) => ({
      id: session.handle,
      createdAt: session.createdAt,
      expiresAt: session.expiresAt,
      lastUsedAt: session.lastUsedAt,
      device: session.device,
      current: session.handle === current?.sid,
    }));
  }

  /** Ends one of the user's sessions by its handle. */
  destroySession(user: U, sessionId: string): Promise<boolean> {
    return this.sessions.invalidateSession(user.id, sessionId);
  }

  private async pair(userId: ID, session: Session<ID>, refreshToken: string): Promise<TokenPair> {
    const now = this.codec.now();
    const ext = session.claims;
    const accessToken = await this.codec.sign({
      sub: this.stringifyId(userId),
      jti: randomBytes(JTI_BYTES).toString("base64url"),
      issuedAt: now,
      exp: Math.floor(now / 1000) + this.accessTokenLifetimeSeconds,
      sid: session.handle,
      ...(Object.keys(ext).length > 0 ? { ext } : {}),
    });
    return {
      accessToken,
      refreshToken,
      expiresIn: this.accessTokenLifetimeSeconds,
      refreshExpiresIn: Math.max(0, Math.floor((session.expiresAt.getTime() - now) / 1000)),
    };
  }

  private checkClaims(claims: JsonObject | undefined): JsonObject {
    if (claims === undefined) return NO_CLAIMS;
    return checkSessionJson(claims, "claims", this.maxClaimsBytes);
  }

  /** The user `claims` name; a `sub` that is no id of ours reads as null. */
  private userFor(claims: AccessTokenClaims, userManager: UserManager<U, ID>): Promise<U | null> {
    if (claims.sid === undefined) return NO_USER;
    let id: ID;
    try {
      id = userManager.parseId(claims.sub);
    } catch (error) {
      if (error instanceof InvalidIDError) return NO_USER;
      return Promise.reject(error);
    }
    return userManager.userDb.get(id);
  }
}

function fail(why: string): never {
  throw new ConfigurationError(`RefreshTokenStrategy: ${why}`);
}
