import type { IdParser, Secret } from "@tessera/core";
import type { JwtKeySetInput } from "./key-set.js";
import type { JwtKeyInput, JwtKeyPairAlgorithm } from "./keys.js";
import type { JwtRevocationStore } from "./revocation/store.js";

/** Options every {@link JWTStrategy} takes, whatever its algorithm. */
export interface JwtStrategyCommonOptions<ID> {
  /** Token lifetime in seconds (`exp - iat`). @default 3600 */
  lifetimeSeconds?: number;
  /** `aud` claim written and required on read (any one of them must match). @default ["tessera:auth"] */
  audience?: string | string[];
  /** `iss` claim written and required on read; omitted: neither written nor checked. @default undefined */
  issuer?: string;
  /**
   * Where logouts are recorded. Without one, `destroyToken` and `destroyAllTokens` throw
   * `StrategyDestroyNotSupportedError` and a token lives until its `exp`.
   * @default undefined
   */
  revocationStore?: JwtRevocationStore;
  /**
   * Turns a user id into the `sub` claim; pass the user manager's parser when ids are
   * not strings or numbers (`writeToken` does not receive the user manager).
   * @default String(id) for string and number ids
   */
  idParser?: Pick<IdParser<ID>, "stringify">;
  /**
   * Current time in epoch milliseconds, used to issue and to check tokens.
   * @default Date.now
   */
  clock?: () => number;
  /**
   * How many verified tokens to remember, so a token presented again skips the signature
   * check. `exp` is still compared with the clock on every request and revocation is still
   * asked on every request; only the signature and fixed claims are not re-checked. The
   * oldest entry goes when full; `0` turns the cache off.
   * @default 10000
   */
  verifiedTokenCacheSize?: number;
  /**
   * Largest custom session claims (the `ext` claim), in bytes of their JSON: they travel in
   * every token, so larger ones throw `SessionDataTooLargeError`.
   * @default 2048
   */
  maxClaimsBytes?: number;
}

/**
 * HS256 options: one shared secret signs and verifies (its `kid` is derived from it).
 *
 * @example
 * new JWTStrategy({ secret: process.env.JWT_SECRET! });
 */
export interface JwtHmacOptions<ID> extends JwtStrategyCommonOptions<ID> {
  /** @default "HS256" */
  algorithm?: "HS256";
  /** HMAC secret, at least 32 bytes (UTF-8 for text); shorter fails at construction. */
  secret: Secret;
  keys?: undefined;
}

/**
 * RS256 / ES256 / EdDSA options: the private key signs, the public key verifies.
 *
 * @example
 * new JWTStrategy({ algorithm: "ES256", privateKey: pkcs8Pem, publicKey: spkiPem });
 */
export interface JwtKeyPairOptions<ID> extends JwtStrategyCommonOptions<ID> {
  /** The asymmetric algorithm; no default, so a key pair is never mistaken for a secret. */
  algorithm: JwtKeyPairAlgorithm;
  /** Signing key. */
  privateKey: JwtKeyInput;
  /** Verification key (a private key is accepted: its public half is used). */
  publicKey: JwtKeyInput;
  keys?: undefined;
}

/**
 * Key-set options: keys that rotate. The first key signs (its `kid` goes into every token's
 * header), every key verifies the tokens whose `kid` names it; each key keeps its own
 * algorithm. Neither `secret` nor `algorithm`/`privateKey`/`publicKey` may be given too.
 *
 * @example
 * new JWTStrategy({ keys: [{ privateKey: newPem }, { publicKey: previousPublicPem }] });
 * new JWTStrategy({ keys: JwtKeySet.fromJwks(readFileSync("jwks.private.json", "utf8")) });
 */
export interface JwtKeySetOptions<ID> extends JwtStrategyCommonOptions<ID> {
  /** A {@link JwtKeySet}, or its keys (the first one is current). */
  keys: JwtKeySetInput;
  algorithm?: undefined;
  secret?: undefined;
  privateKey?: undefined;
  publicKey?: undefined;
}

/** Options of {@link JWTStrategy}: a secret for HS256, a key pair, or a key set. */
export type JwtStrategyOptions<ID> =
  | JwtHmacOptions<ID>
  | JwtKeyPairOptions<ID>
  | JwtKeySetOptions<ID>;
