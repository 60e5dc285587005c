import { createHash } from "node:crypto";
import {
  ConfigurationError,
  checkSessionJson,
  type IdParser,
  type JsonObject,
  type Session,
} from "@tessera/core";
import { MAX_TOKEN_LENGTH } from "@tessera/core/internal";
import { type JWTPayload, type JWTVerifyOptions, jwtVerify, SignJWT } from "jose";
import { JwtKeySet, type JwtKeySetInput } from "./key-set.js";
import { type CachedClaims, VerifiedTokenCache } from "./verified-cache.js";

// Private claim: the issue time in milliseconds. `iat` has whole seconds only, so without
// it a log-out-everywhere could not tell a token from earlier in the same second.
const ISSUED_AT_MS = "iat_ms";
/** The claim naming the session a refresh-token session's access token belongs to. */
const SESSION_ID_CLAIM = "sid";

/**
 * The claim that carries a session's custom claims (`Session.claims`): one object under one
 * name, so they can never shadow a registered claim (`sub`, `exp`…) nor ours.
 */
export const JWT_SESSION_CLAIM = "ext";

/** Default bound of the verified-token cache: ~5 MB at most for typical tokens. */
const DEFAULT_CACHE_SIZE = 10_000;

/** The claims of a verified access token, as {@link AccessTokenCodec} reads them. */
export interface AccessTokenClaims extends CachedClaims {
  /** The `sid` claim (a refresh-token session's handle), when the token has one. */
  readonly sid?: string;
}

/** What {@link AccessTokenCodec.sign} writes (besides `aud` and `iss`, which are the codec's). */
export interface AccessTokenContent {
  sub: string;
  jti: string;
  /** The issue time in epoch milliseconds (`iat_ms`); `iat` is its whole seconds. */
  issuedAt: number;
  /** `exp` in epoch seconds. */
  exp: number;
  /** The session's custom claims, already checked (`ext`); omitted when none. */
  ext?: JsonObject;
  /** The session handle (`sid`), for a strategy whose sessions are stored. */
  sid?: string;
}

/** Options of {@link AccessTokenCodec}. */
export interface AccessTokenCodecOptions {
  /** The signing keys: the current one signs, all verify. */
  keys: JwtKeySetInput;
  /** `aud` claim written and required on read (any one of them must match). @default ["tessera:auth"] */
  audience?: string | readonly string[];
  /** `iss` claim written and required on read; omitted: neither written nor checked. @default undefined */
  issuer?: string;
  /** Current time in epoch milliseconds. @default Date.now */
  clock?: () => number;
  /** How many verified tokens to remember (`0`: none). @default 10000 */
  verifiedTokenCacheSize?: number;
  /** Who uses it, for error messages. @default "AccessTokenCodec" */
  name?: string;
}

/**
 * Signs and verifies Tessera's access tokens, for any strategy that issues them
 * ({@link JWTStrategy}, the refresh-token strategy): the current key of a {@link JwtKeySet}
 * signs (`kid` in the header), the key a token's `kid` names verifies it, with its algorithm
 * pinned; `exp`, `iat`, `sub`, `jti` and `iat_ms` are required, `aud` (and `iss` when set)
 * checked. A verified token is remembered by its text, so one presented again skips the
 * signature check ({@link cached}); `exp` is still compared with the clock on every hit.
 *
 * @example
 * const codec = new AccessTokenCodec({ keys: JwtKeySet.fromJwks(jwksText), audience: "my-api" });
 * const token = await codec.sign({ sub, jti, issuedAt: now, exp: Math.floor(now / 1000) + 900, sid });
 * const claims = codec.cached(token) ?? (await codec.verify(token));
 */
export class AccessTokenCodec {
  /** The signing keys. */
  readonly keys: JwtKeySet;
  /** Audiences written into `aud`; a token must carry at least one of them. */
  readonly audience: readonly string[];
  /** Issuer written into `iss` and required on read, when set. */
  readonly issuer: string | undefined;
  private readonly clock: () => number;
  private readonly cache: VerifiedTokenCache | undefined;
  private readonly verifyOptions: JWTVerifyOptions;

  constructor(options: AccessTokenCodecOptions) {
    const name = options.name ?? "AccessTokenCodec";
    const fail = (why: string): never => {
      throw new ConfigurationError(`${name}: ${why}`);
    };
    this.keys = JwtKeySet.from(options.keys);
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
    this.clock = options.clock ?? Date.now;
    const cacheSize = options.verifiedTokenCacheSize ?? DEFAULT_CACHE_SIZE;
    if (!Number.isSafeInteger(cacheSize) || cacheSize < 0) {
      fail(`verifiedTokenCacheSize must be a non-negative integer (got ${cacheSize})`);
    }
    this.cache = cacheSize > 0 ? new VerifiedTokenCache(cacheSize) : undefined;
    // Built once: only `currentDate` changes per verification.
    this.verifyOptions = {
      algorithms: [...this.keys.algorithms],
      audience: [...this.audience],
      issuer: this.issuer,
      requiredClaims: ["exp", "iat", "sub", "jti", ISSUED_AT_MS],
    };
  }

  /** The clock's time in whole milliseconds: issue times and cutoffs compare exactly. */
  now(): number {
    return Math.floor(this.clock());
  }

  /** Signs a token of `content` with the current key (`{alg, kid, typ: "JWT"}` header). */
  sign(content: AccessTokenContent): Promise<string> {
    const payload: JWTPayload = { [ISSUED_AT_MS]: content.issuedAt };
    if (content.ext !== undefined) payload[JWT_SESSION_CLAIM] = content.ext;
    if (content.sid !== undefined) payload[SESSION_ID_CLAIM] = content.sid;
    const jwt = new SignJWT(payload)
      .setSubject(content.sub)
      .setAudience([...this.audience])
      .setIssuedAt(Math.floor(content.issuedAt / 1000))
      .setExpirationTime(content.exp)
      .setJti(content.jti);
    if (this.issuer !== undefined) jwt.setIssuer(this.issuer);
    return this.keys.sign(jwt);
  }

  /**
   * The claims of a token verified before and not expired yet, if remembered: the hot path,
   * a map lookup and a clock read, no key lookup and no signature check.
   */
  cached(token: unknown): AccessTokenClaims | undefined {
    if (typeof token !== "string" || this.cache === undefined) return undefined;
    // What `verify` stored: the cache keeps the object it is given (a frozen copy).
    return this.cache.get(token, this.now()) as AccessTokenClaims | undefined;
  }

  /**
   * The claims of a valid token, or null for anything else (bad signature, unknown `kid`,
   * wrong algorithm, audience or issuer, expired, malformed); never throws for a token.
   */
  async verify(token: unknown): Promise<AccessTokenClaims | null> {
    if (typeof token !== "string" || token === "" || token.length > MAX_TOKEN_LENGTH) return null;
    const now = this.now();
    const cached = this.cache?.get(token, now) as AccessTokenClaims | undefined;
    if (cached) return cached;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keys.resolve, {
        ...this.verifyOptions,
        currentDate: new Date(now),
      }));
    } catch {
      // Verification is computation on keys checked at construction, with no I/O:
      // whatever it throws (JOSEError, TypeError on odd input) is about the token.
      return null;
    }
    const { sub, jti, exp, [ISSUED_AT_MS]: issuedAt, [SESSION_ID_CLAIM]: sid } = payload;
    if (typeof sub !== "string" || sub === "" || typeof jti !== "string" || jti === "") return null;
    if (
      typeof exp !== "number" ||
      typeof issuedAt !== "number" ||
      !Number.isSafeInteger(issuedAt)
    ) {
      return null;
    }
    if (sid !== undefined && (typeof sid !== "string" || sid === "")) return null;
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
    const claims: AccessTokenClaims = {
      sub,
      jti,
      exp,
      issuedAt,
      handle: sessionHandle(jti),
      ...(custom === undefined ? {} : { ext: custom }),
      ...(sid === undefined ? {} : { sid }),
    };
    // A token with `nbf` is valid from a time on, a rule the cache does not replay: such
    // tokens (never ours) are verified in full every time.
    if (payload.nbf === undefined) this.cache?.set(token, claims);
    return claims;
  }
}

/**
 * The session handle of a token id: a one-way function of `jti`, so a handle names a
 * session without being part of any token.
 */
export function sessionHandle(jti: string): string {
  return createHash("sha256").update(`tessera:jwt-session:${jti}`).digest("base64url").slice(0, 32);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

const NO_CLAIMS: JsonObject = Object.freeze({}) as JsonObject;
const NO_DEVICE = Object.freeze({ ipAddress: null, userAgent: null });

/**
 * The stateless {@link Session} an access token stands for: `createdAt` is its issue time,
 * `expiresAt` (and the absolute cap) its `exp`, `claims` its `ext`; no device, no last use.
 */
export function sessionFromClaims<ID>(
  claims: AccessTokenClaims,
  handle: string,
  userId: ID,
): Session<ID> {
  const expiresAt = new Date(claims.exp * 1000);
  return {
    handle,
    userId,
    createdAt: new Date(claims.issuedAt),
    expiresAt,
    absoluteExpiresAt: expiresAt,
    lastUsedAt: null,
    device: NO_DEVICE,
    claims: claims.ext ?? NO_CLAIMS,
  };
}

/**
 * How a strategy turns a user id into `sub`: the parser's `stringify`, else `String(id)` for
 * string and number ids; any other id throws a `ConfigurationError` naming `owner`.
 */
export function subjectOf<ID>(
  idParser: Pick<IdParser<ID>, "stringify"> | undefined,
  owner: string,
): (id: ID) => string {
  if (idParser) return (id) => idParser.stringify(id);
  return (id) => {
    if (typeof id === "string" || typeof id === "number" || typeof id === "bigint") {
      return String(id);
    }
    throw new ConfigurationError(
      `${owner}: user ids that are not strings or numbers need the idParser option`,
    );
  };
}
