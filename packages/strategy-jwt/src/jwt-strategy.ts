import { createHash, randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import {
  ConfigurationError,
  type CreateSessionOptions,
  checkSessionJson,
  DEFAULT_SESSION_LIMITS,
  type DestroyAllTokensOptions,
  InvalidIDError,
  type JsonObject,
  type Session,
  SessionNotSupportedError,
  type Strategy,
  StrategyDestroyNotSupportedError,
  type UserManager,
  type UserProtocol,
} from "@tessera/core";
import { MAX_TOKEN_LENGTH } from "@tessera/core/internal";
import { type JWTPayload, jwtVerify, SignJWT } from "jose";
import { importHmacKey, importKeyPair, type JwtAlgorithm, type JwtKeys } from "./keys.js";
import type { JwtKeyPairOptions, JwtStrategyOptions } from "./options.js";
import type { JwtRevocationStore } from "./revocation/store.js";
import { type CachedClaims, VerifiedTokenCache } from "./verified-cache.js";

// Private claim: the issue time in milliseconds. `iat` has whole seconds only, so without
// it a log-out-everywhere could not tell a token from earlier in the same second.
const ISSUED_AT_MS = "iat_ms";
// 128 bits from the CSPRNG: enough that ids never collide (ASVS 5.0 7.2.3 floor).
const JTI_BYTES = 16;
/**
 * The claim that carries a session's custom claims (`Session.claims`): one object under one
 * name, so they can never shadow a registered claim (`sub`, `exp`…) nor ours.
 */
export const JWT_SESSION_CLAIM = "ext";

const NO_CLAIMS: JsonObject = Object.freeze({}) as JsonObject;
const NO_DEVICE = Object.freeze({ ipAddress: null, userAgent: null });
const NO_DATA =
  "JWTStrategy keeps no server-side session data: sessions with data need a backend whose " +
  "strategy has a session store (DatabaseStrategy, RedisStrategy)";

type VerifiedClaims = CachedClaims;

const NO_USER: Promise<null> = Promise.resolve(null);

/** Default bound of the verified-token cache: ~5 MB at most for typical tokens. */
const DEFAULT_CACHE_SIZE = 10_000;

/**
 * Stateless JWT access tokens (jose). HS256 with a ≥ 32-byte secret by default, or
 * RS256 / ES256 / EdDSA with a key pair; keys are imported once, at construction.
 * Verification pins the algorithm, requires `exp`, `sub`, `jti`, checks `aud` (and
 * `iss` when set); any bad token reads as `null`. Logout and log-out-everywhere work
 * when a {@link JwtRevocationStore} is given, and are "not supported" otherwise.
 *
 * @example
 * const strategy = new JWTStrategy<User>({
 *   secret: process.env.JWT_SECRET!,
 *   lifetimeSeconds: 900,
 *   revocationStore: new MemoryJwtRevocationStore(),
 * });
 * const backend = new AuthenticationBackend({ name: "jwt", transport, getStrategy: () => strategy });
 */
export class JWTStrategy<U extends UserProtocol<ID>, ID = U["id"]> implements Strategy<U, ID> {
  /** The one algorithm tokens are signed with and accepted in. */
  readonly algorithm: JwtAlgorithm;
  /** Token lifetime in seconds. */
  readonly lifetimeSeconds: number;
  /** Audiences written into `aud`; a token must carry at least one of them. */
  readonly audience: readonly string[];
  /** Issuer written into `iss` and required on read, when set. */
  readonly issuer: string | undefined;
  /** Where logouts are recorded, when any. */
  readonly revocationStore: JwtRevocationStore | undefined;
  /** Largest custom claims, in bytes of their JSON (they travel in every token). */
  readonly maxClaimsBytes: number;
  private readonly keys: JwtKeys;
  private readonly stringifyId: (id: ID) => string;
  private readonly clock: () => number;
  private readonly cache: VerifiedTokenCache | undefined;

  constructor(options: JwtStrategyOptions<ID>) {
    this.keys = importKeys(options);
    this.algorithm = this.keys.algorithm;
    this.lifetimeSeconds = options.lifetimeSeconds ?? 3600;
    if (!Number.isSafeInteger(this.lifetimeSeconds) || this.lifetimeSeconds <= 0) {
      fail(`lifetimeSeconds must be a positive integer (got ${this.lifetimeSeconds})`);
    }
    const audience = options.audience ?? ["tessera:auth"];
    this.audience = Object.freeze(typeof audience === "string" ? [audience] : [...audience]);
    if (
      this.audience.length === 0 ||
      this.audience.some((a) => typeof a !== "string" || a === "")
    ) {
      fail("audience must be a non-empty string or a non-empty list of them");
    }
    this.issuer = options.issuer;
    if (this.issuer !== undefined && (typeof this.issuer !== "string" || this.issuer === "")) {
      fail("issuer must be a non-empty string when given");
    }
    this.revocationStore = options.revocationStore;
    const idParser = options.idParser;
    this.stringifyId = idParser ? (id) => idParser.stringify(id) : defaultStringify;
    this.clock = options.clock ?? Date.now;
    const cacheSize = options.verifiedTokenCacheSize ?? DEFAULT_CACHE_SIZE;
    if (!Number.isSafeInteger(cacheSize) || cacheSize < 0) {
      fail(`verifiedTokenCacheSize must be a non-negative integer (got ${cacheSize})`);
    }
    this.cache = cacheSize > 0 ? new VerifiedTokenCache(cacheSize) : undefined;
    this.maxClaimsBytes = options.maxClaimsBytes ?? DEFAULT_SESSION_LIMITS.maxClaimsBytes;
    if (!Number.isSafeInteger(this.maxClaimsBytes) || this.maxClaimsBytes <= 0) {
      fail(`maxClaimsBytes must be a positive integer (got ${this.maxClaimsBytes})`);
    }
  }

  /**
   * The user and the stateless {@link Session} of a valid, unrevoked token, in the round
   * trips of {@link readToken}: the handle is derived from `jti`, `createdAt` is the issue
   * time, `expiresAt` (and the absolute cap) is `exp`, `claims` the token's `ext` claim.
   */
  readSession(
    token: string | null,
    userManager: UserManager<U, ID>,
  ): Promise<{ user: U; session: Session<ID> } | null> {
    // As readToken: on a cached token, one continuation on the user database's promise.
    const cached = this.cached(token);
    if (cached !== undefined) return this.withSession(cached, userManager);
    return this.verify(token).then((verified) =>
      verified === null ? null : this.withSession(verified, userManager),
    );
  }

  private withSession(
    claims: VerifiedClaims,
    userManager: UserManager<U, ID>,
  ): Promise<{ user: U; session: Session<ID> } | null> {
    return this.userFor(claims, userManager).then((user) =>
      user === null ? null : { user, session: sessionOf(claims, user.id) },
    );
  }

  /**
   * Signs a token for a new session of `user` carrying `options.claims` (a login).
   * The device is not kept (nothing is stored); `options.data` throws
   * `SessionNotSupportedError`: a JWT session has no server-side data.
   */
  async writeSession(user: U, options: CreateSessionOptions = {}): Promise<string> {
    if (options.data !== undefined && Object.keys(options.data).length > 0) {
      throw new SessionNotSupportedError(NO_DATA);
    }
    const ext = this.checkClaims(options.claims);
    const now = this.now();
    const iat = Math.floor(now / 1000);
    return this.sign({
      sub: this.stringifyId(user.id),
      jti: randomBytes(JTI_BYTES).toString("base64url"),
      issuedAt: now,
      iat,
      exp: iat + this.lifetimeSeconds,
      ...(ext ? { ext } : {}),
    });
  }

  /**
   * The same session's token with `claims` in place of its custom claims (SuperTokens'
   * `update_jwt_payload`): same `sub`, `jti` (so the handle, and a revocation, cover both),
   * issue time and `exp`, so re-issuing never extends a session. Null when `token` is not a
   * valid token of ours. The old token stays valid until its `exp` (or a revocation).
   */
  async reissue(token: string, claims: JsonObject): Promise<string | null> {
    const verified = await this.verify(token);
    if (verified === null) return null;
    const ext = this.checkClaims(claims);
    return this.sign({
      sub: verified.sub,
      jti: verified.jti,
      issuedAt: verified.issuedAt,
      iat: Math.floor(verified.issuedAt / 1000),
      exp: verified.exp,
      ...(ext ? { ext } : {}),
    });
  }

  /**
   * The session handle of a token id: a one-way function of `jti`, so a handle names a
   * session without being part of any token.
   */
  static sessionHandle(jti: string): string {
    return sessionHandle(jti);
  }

  private checkClaims(claims: JsonObject | undefined): JsonObject | undefined {
    if (claims === undefined) return undefined;
    const checked = checkSessionJson(claims, "claims", this.maxClaimsBytes);
    return Object.keys(checked).length > 0 ? checked : undefined;
  }

  private sign(claims: {
    sub: string;
    jti: string;
    issuedAt: number;
    iat: number;
    exp: number;
    ext?: JsonObject;
  }): Promise<string> {
    const payload: JWTPayload = { [ISSUED_AT_MS]: claims.issuedAt };
    if (claims.ext !== undefined) payload[JWT_SESSION_CLAIM] = claims.ext;
    const jwt = new SignJWT(payload)
      .setProtectedHeader({ alg: this.algorithm, typ: "JWT" })
      .setSubject(claims.sub)
      .setAudience([...this.audience])
      .setIssuedAt(claims.iat)
      .setExpirationTime(claims.exp)
      .setJti(claims.jti);
    if (this.issuer !== undefined) jwt.setIssuer(this.issuer);
    return jwt.sign(this.keys.signKey);
  }

  /** The user a valid, unrevoked token names, or null; rejects only when a backing service fails. */
  readToken(token: string | null, userManager: UserManager<U, ID>): Promise<U | null> {
    // Not async: on a cached token (every request after the first) the answer is the user
    // database's own promise, with no promise or async frame of ours around it.
    const claims = this.cached(token);
    if (claims !== undefined) return this.userFor(claims, userManager);
    return this.verify(token).then((verified) =>
      verified === null ? null : this.userFor(verified, userManager),
    );
  }

  /** The user `claims` name, unless revoked; a `sub` that is no id of ours reads as null. */
  private userFor(claims: VerifiedClaims, userManager: UserManager<U, ID>): Promise<U | null> {
    try {
      let id: ID;
      try {
        id = userManager.parseId(claims.sub);
      } catch (error) {
        if (error instanceof InvalidIDError) return NO_USER;
        throw error;
      }
      const store = this.revocationStore;
      if (!store) return userManager.userDb.get(id);
      // Both lookups are I/O and independent: run them together to pay one latency.
      return Promise.all([
        store.isRevoked({ jti: claims.jti, sub: claims.sub, issuedAt: new Date(claims.issuedAt) }),
        userManager.userDb.get(id),
      ]).then(([revoked, user]) => (revoked ? null : user));
    } catch (error) {
      // A promise-returning method never throws synchronously.
      return Promise.reject(error);
    }
  }

  /** Signs a new token for `user` (a login). */
  writeToken(user: U): Promise<string> {
    return this.writeSession(user);
  }

  /**
   * Revokes `token` until it expires (a logout). An invalid or expired token, or one
   * of another user, is ignored: it is no login of `user` to end.
   * Throws `StrategyDestroyNotSupportedError` without a revocation store.
   */
  async destroyToken(token: string, user: U): Promise<void> {
    const store = this.requireStore();
    const claims = await this.verify(token);
    if (!claims || claims.sub !== this.stringifyId(user.id)) return;
    await store.revokeToken({ jti: claims.jti, expiresAt: new Date(claims.exp * 1000) });
  }

  /**
   * Revokes every token of `user` issued until now (log out everywhere), but
   * `options.exceptToken` when it is a valid token of the user (its `jti` is spared); a
   * login after this resolves works. Throws `StrategyDestroyNotSupportedError` without a
   * revocation store.
   */
  async destroyAllTokens(user: U, options: DestroyAllTokensOptions = {}): Promise<void> {
    const store = this.requireStore();
    const sub = this.stringifyId(user.id);
    const kept = options.exceptToken === undefined ? null : await this.verify(options.exceptToken);
    const cutoff = this.now();
    await store.revokeUserTokens({
      sub,
      cutoff: new Date(cutoff),
      // The last token the rule covers was issued at `cutoff` and expires a lifetime later.
      expiresAt: new Date(cutoff + this.lifetimeSeconds * 1000),
      ...(kept !== null && kept.sub === sub ? { exceptJti: kept.jti } : {}),
    });
    // A token issued in the cutoff's own millisecond is revoked (`<=`), so a login that
    // starts after this call must get a later one. Bounded: a stuck clock cannot hang us.
    for (let i = 0; i < 10 && this.now() <= cutoff; i++) await sleep(1);
  }

  /** The claims of a token verified before and not expired yet, if remembered. */
  private cached(token: unknown): VerifiedClaims | undefined {
    if (typeof token !== "string" || this.cache === undefined) return undefined;
    return this.cache.get(token, this.now());
  }

  private async verify(token: unknown): Promise<VerifiedClaims | null> {
    if (typeof token !== "string" || token === "" || token.length > MAX_TOKEN_LENGTH) return null;
    const now = this.now();
    const cached = this.cache?.get(token, now);
    if (cached) return cached;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keys.verifyKey, {
        algorithms: [this.algorithm],
        audience: [...this.audience],
        issuer: this.issuer,
        requiredClaims: ["exp", "iat", "sub", "jti", ISSUED_AT_MS],
        currentDate: new Date(now),
      }));
    } catch {
      // Verification is computation on a key checked at construction, with no I/O:
      // whatever it throws (JOSEError, TypeError on odd input) is about the token.
      return null;
    }
    const { sub, jti, exp, [ISSUED_AT_MS]: issuedAt } = payload;
    if (typeof sub !== "string" || sub === "" || typeof jti !== "string" || jti === "") return null;
    if (
      typeof exp !== "number" ||
      typeof issuedAt !== "number" ||
      !Number.isSafeInteger(issuedAt)
    ) {
      return null;
    }
    const ext = payload[JWT_SESSION_CLAIM];
    let custom: JsonObject | undefined;
    if (ext !== undefined) {
      // Ours (the signature says so), but read as data: prototype keys dropped, frozen
      // because the cache shares it between requests.
      try {
        custom = deepFreeze(checkSessionJson(ext, "claims", Number.POSITIVE_INFINITY));
      } catch {
        return null;
      }
    }
    // The handle is hashed once per verification, not per request: the cache keeps it.
    const handle = sessionHandle(jti);
    const claims =
      custom === undefined
        ? { sub, jti, exp, issuedAt, handle }
        : { sub, jti, exp, issuedAt, handle, ext: custom };
    // A token with `nbf` is valid from a time on, a rule the cache does not replay: such
    // tokens (never ours) are verified in full every time.
    if (payload.nbf === undefined) this.cache?.set(token, claims);
    return claims;
  }

  // Whole milliseconds: issue times and cutoffs compare exactly, whatever the clock gives.
  private now(): number {
    return Math.floor(this.clock());
  }

  private requireStore(): JwtRevocationStore {
    if (!this.revocationStore) {
      throw new StrategyDestroyNotSupportedError(
        "JWTStrategy destroys tokens only with a revocationStore",
      );
    }
    return this.revocationStore;
  }
}

function sessionOf<ID>(claims: VerifiedClaims, userId: ID): Session<ID> {
  const expiresAt = new Date(claims.exp * 1000);
  return {
    handle: claims.handle,
    userId,
    createdAt: new Date(claims.issuedAt),
    expiresAt,
    absoluteExpiresAt: expiresAt,
    lastUsedAt: null,
    device: NO_DEVICE,
    claims: claims.ext ?? NO_CLAIMS,
  };
}

function sessionHandle(jti: string): string {
  return createHash("sha256").update(`tessera:jwt-session:${jti}`).digest("base64url").slice(0, 32);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

function importKeys<ID>(options: JwtStrategyOptions<ID>): JwtKeys {
  // Presence by value, not `in`: `{ ...defaults, privateKey: undefined }` means "none".
  const given = options as { secret?: unknown; privateKey?: unknown; publicKey?: unknown };
  if (options.algorithm === undefined || options.algorithm === "HS256") {
    if (given.privateKey !== undefined || given.publicKey !== undefined) {
      fail("HS256 takes a secret, not privateKey/publicKey; set algorithm for a key pair");
    }
    return importHmacKey(options.secret);
  }
  if (given.secret !== undefined) {
    fail(`${options.algorithm} takes privateKey and publicKey, not a secret`);
  }
  const pair = options as JwtKeyPairOptions<ID>;
  return importKeyPair(pair.algorithm, pair.privateKey, pair.publicKey);
}

function defaultStringify(id: unknown): string {
  if (typeof id === "string" || typeof id === "number" || typeof id === "bigint") return String(id);
  return fail("user ids that are not strings or numbers need the idParser option");
}

function fail(why: string): never {
  throw new ConfigurationError(`JWTStrategy: ${why}`);
}
