import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import {
  ConfigurationError,
  type CreateSessionOptions,
  checkSessionJson,
  DEFAULT_SESSION_LIMITS,
  type DestroyAllTokensOptions,
  InvalidIDError,
  type JsonObject,
  type Secret,
  type Session,
  SessionNotSupportedError,
  type Strategy,
  StrategyDestroyNotSupportedError,
  type UserManager,
  type UserProtocol,
} from "@tessera/core";
import {
  type AccessTokenClaims,
  AccessTokenCodec,
  type AccessTokenContent,
  sessionFromClaims,
  sessionHandle,
  subjectOf,
} from "./codec.js";
import { JwtKeySet } from "./key-set.js";
import { importKeyPair, type JwtAlgorithm } from "./keys.js";
import type { JwtKeyPairOptions, JwtStrategyOptions } from "./options.js";
import type { JwtRevocationStore } from "./revocation/store.js";

export { JWT_SESSION_CLAIM } from "./codec.js";

// 128 bits from the CSPRNG: enough that ids never collide (ASVS 5.0 7.2.3 floor).
const JTI_BYTES = 16;

const NO_DATA =
  "JWTStrategy keeps no server-side session data: sessions with data need a backend whose " +
  "strategy has a session store (DatabaseStrategy, RedisStrategy)";

type VerifiedClaims = AccessTokenClaims;

const NO_USER: Promise<null> = Promise.resolve(null);

/**
 * Stateless JWT access tokens (jose). HS256 with a ≥ 32-byte secret by default, or
 * RS256 / ES256 / EdDSA with a key pair, or a {@link JwtKeySet} of keys that rotate; keys
 * are imported once, at construction. Tokens carry the signing key's `kid`; verification
 * picks the key by `kid` and pins its algorithm, requires `exp`, `sub`, `jti`, checks `aud`
 * (and `iss` when set); any bad token reads as `null`. Logout and log-out-everywhere work
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
  /** The algorithm new tokens are signed with (the current key's). */
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
  /**
   * The signing keys (read-only): the current one signs, every one verifies. Publish its
   * public keys with `@tessera/koa`'s `jwksRouter(strategy.keys)`.
   */
  readonly keys: JwtKeySet;
  private readonly codec: AccessTokenCodec;
  private readonly stringifyId: (id: ID) => string;

  constructor(options: JwtStrategyOptions<ID>) {
    this.keys = keySetOf(options);
    this.algorithm = this.keys.algorithm;
    this.lifetimeSeconds = options.lifetimeSeconds ?? 3600;
    if (!Number.isSafeInteger(this.lifetimeSeconds) || this.lifetimeSeconds <= 0) {
      fail(`lifetimeSeconds must be a positive integer (got ${this.lifetimeSeconds})`);
    }
    this.codec = new AccessTokenCodec({
      keys: this.keys,
      ...(options.audience === undefined ? {} : { audience: options.audience }),
      ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      ...(options.verifiedTokenCacheSize === undefined
        ? {}
        : { verifiedTokenCacheSize: options.verifiedTokenCacheSize }),
      name: "JWTStrategy",
    });
    this.audience = this.codec.audience;
    this.issuer = this.codec.issuer;
    this.revocationStore = options.revocationStore;
    const idParser = options.idParser;
    this.stringifyId = subjectOf(idParser, "JWTStrategy");
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
    const cached = this.codec.cached(token);
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
      user === null ? null : { user, session: sessionFromClaims(claims, claims.handle, user.id) },
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

  private sign(content: AccessTokenContent): Promise<string> {
    return this.codec.sign(content);
  }

  /** The user a valid, unrevoked token names, or null; rejects only when a backing service fails. */
  readToken(token: string | null, userManager: UserManager<U, ID>): Promise<U | null> {
    // Not async: on a cached token (every request after the first) the answer is the user
    // database's own promise, with no promise or async frame of ours around it.
    const claims = this.codec.cached(token);
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

  private verify(token: unknown): Promise<VerifiedClaims | null> {
    return this.codec.verify(token);
  }

  // Whole milliseconds: issue times and cutoffs compare exactly, whatever the clock gives.
  private now(): number {
    return this.codec.now();
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

function keySetOf<ID>(options: JwtStrategyOptions<ID>): JwtKeySet {
  // Presence by value, not `in`: `{ ...defaults, privateKey: undefined }` means "none".
  const given = options as {
    secret?: unknown;
    privateKey?: unknown;
    publicKey?: unknown;
    keys?: unknown;
  };
  if (given.keys !== undefined) {
    const mixed = (["secret", "algorithm", "privateKey", "publicKey"] as const).filter(
      (name) => (options as unknown as Record<string, unknown>)[name] !== undefined,
    );
    if (mixed.length > 0) {
      fail(`keys is one way to give keys, ${mixed.join(", ")} another: give one form only`);
    }
    return JwtKeySet.from(options.keys as never);
  }
  if (options.algorithm === undefined || options.algorithm === "HS256") {
    if (given.privateKey !== undefined || given.publicKey !== undefined) {
      fail("HS256 takes a secret, not privateKey/publicKey; set algorithm for a key pair");
    }
    if (typeof given.secret !== "string" && !(given.secret instanceof Uint8Array)) {
      fail("HS256 needs a secret (a string or Uint8Array of at least 32 bytes)");
    }
    return new JwtKeySet([{ secret: options.secret as Secret }]);
  }
  if (given.secret !== undefined) {
    fail(`${options.algorithm} takes privateKey and publicKey, not a secret`);
  }
  const pair = options as JwtKeyPairOptions<ID>;
  if (!Object.hasOwn(KEY_PAIR_ALGORITHMS, pair.algorithm)) {
    fail(`unsupported algorithm ${String(pair.algorithm)}`);
  }
  // Checked as before (both halves, of one pair, fit for the algorithm); the key set then
  // derives the kid from the public key.
  importKeyPair(pair.algorithm, pair.privateKey, pair.publicKey);
  return new JwtKeySet([
    { algorithm: pair.algorithm, privateKey: pair.privateKey, publicKey: pair.publicKey },
  ]);
}

const KEY_PAIR_ALGORITHMS = { RS256: true, ES256: true, EdDSA: true };

function fail(why: string): never {
  throw new ConfigurationError(`JWTStrategy: ${why}`);
}
