import type { webcrypto } from "node:crypto";
import { ConfigurationError, type Secret } from "@tessera/core";
import { base64url, errors, type JWK, type JWSHeaderParameters, type SignJWT } from "jose";
import {
  hmacKid,
  importAsymmetricKey,
  importHmacKey,
  type JwtAlgorithm,
  type JwtKeyInput,
  type JwtKeyPairAlgorithm,
  jwkThumbprint,
} from "./keys.js";

type CryptoKey = webcrypto.CryptoKey;

/**
 * An HS256 key of a {@link JwtKeySet}: a secret of at least 32 bytes. Its `kid` defaults to
 * a one-way function of the secret (HMAC-SHA256 of a fixed label), which reveals nothing of it.
 */
export interface JwtSecretKeySpec {
  /** @default "HS256" */
  algorithm?: "HS256";
  /** HMAC secret, at least 32 bytes (UTF-8 for text). */
  secret: Secret;
  /** @default derived from the secret */
  kid?: string;
}

/**
 * An RS256 / ES256 / EdDSA key of a {@link JwtKeySet}, in any {@link JwtKeyInput} form.
 * A private key signs and verifies (its public half is derived); a public key alone only
 * verifies (a previous key kept until its tokens expire). Given both, they must be one pair.
 */
export interface JwtAsymmetricKeySpec {
  /**
   * Pins the key's algorithm.
   * @default the JWK's `alg`, else the one its type allows: RSA RS256, P-256 ES256, Ed25519 EdDSA
   */
  algorithm?: JwtKeyPairAlgorithm;
  privateKey?: JwtKeyInput;
  publicKey?: JwtKeyInput;
  /** @default the JWK's own `kid`, else the RFC 7638 thumbprint of the public key */
  kid?: string;
}

/** One key of a {@link JwtKeySet}. */
export type JwtKeySpec = JwtSecretKeySpec | JwtAsymmetricKeySpec;

/** A {@link JwtKeySet}, or the keys to build one from (the first is the current key). */
export type JwtKeySetInput = JwtKeySet | readonly JwtKeySpec[];

/** A public JWK as a JWKS publishes it: key material, `kid`, `alg` and `use: "sig"`. */
export type PublicJwk = JWK & { kty: string; kid: string; alg: JwtKeyPairAlgorithm; use: "sig" };

/** A JWK Set (RFC 7517 §5) of public signing keys. */
export interface PublicJwks {
  keys: PublicJwk[];
}

interface Entry {
  readonly kid: string;
  readonly algorithm: JwtAlgorithm;
  readonly signKey: CryptoKey | undefined;
  readonly verifyKey: CryptoKey;
  readonly publicJwk: PublicJwk | undefined;
}

// Header parameters that point at or carry a key: we never fetch nor trust one (ASVS 9.1.3).
const KEY_HEADERS = ["jku", "x5u", "x5c", "jwk", "x5t", "x5t#S256"] as const;
const MAX_KID_LENGTH = 256;
const OWNER = "JwtKeySet";

/**
 * Signing keys that rotate: an ordered, immutable set whose first key (the current one)
 * signs and whose every key verifies. Each key has a `kid`, written into every token's
 * header and used to pick the verifying key; each key is pinned to one algorithm, so a
 * set may mix them (a token's `alg` must be its key's). A token without `kid` (issued
 * before keys had one) is verified with the current key only, when the algorithms match.
 *
 * Rotation: put the new key first and keep the old one after it until the longest token
 * lifetime has passed, then drop it. Nobody is logged out.
 *
 * @example
 * const keys = new JwtKeySet([
 *   { privateKey: readFileSync("keys/2026-12.pem", "utf8") }, // current: signs
 *   { publicKey: readFileSync("keys/2026-06.pub.pem", "utf8") }, // previous: verifies
 * ]);
 * const strategy = new JWTStrategy({ keys });
 */
export class JwtKeySet {
  /** The current key's algorithm: new tokens are signed with it. */
  readonly algorithm: JwtAlgorithm;
  /** The current key's `kid`. */
  readonly currentKid: string;
  /** Every `kid`, current first. */
  readonly kids: readonly string[];
  /** Every algorithm of the set, once each: what a verifier may accept at all. */
  readonly algorithms: readonly JwtAlgorithm[];
  private readonly current: Entry & { readonly signKey: CryptoKey };
  private readonly byKid: ReadonlyMap<string, Entry>;
  private readonly jwks: readonly PublicJwk[];

  /** Imports `keys` (the first one signs): any bad key fails here with a `ConfigurationError`. */
  constructor(keys: readonly JwtKeySpec[]) {
    if (!Array.isArray(keys) || keys.length === 0) {
      throw new ConfigurationError(`${OWNER}: needs at least one key (the first one signs)`);
    }
    const entries = keys.map((spec, index) => importEntry(spec, index));
    const byKid = new Map<string, Entry>();
    for (const entry of entries) {
      if (byKid.has(entry.kid)) {
        throw new ConfigurationError(
          `${OWNER}: two keys have the kid ${JSON.stringify(entry.kid)}`,
        );
      }
      byKid.set(entry.kid, entry);
    }
    const [first] = entries as [Entry, ...Entry[]];
    if (first.signKey === undefined) {
      throw new ConfigurationError(
        `${OWNER}: the first key signs, so it needs a private key or a secret (kid ${first.kid})`,
      );
    }
    this.current = first as Entry & { signKey: CryptoKey };
    this.algorithm = first.algorithm;
    this.currentKid = first.kid;
    this.byKid = byKid;
    this.kids = Object.freeze(entries.map((e) => e.kid));
    this.algorithms = Object.freeze([...new Set(entries.map((e) => e.algorithm))]);
    this.jwks = Object.freeze(entries.flatMap((e) => (e.publicJwk ? [e.publicJwk] : [])));
  }

  /** `input` as a key set: a set as it is, a list of keys imported. */
  static from(input: JwtKeySetInput): JwtKeySet {
    return input instanceof JwtKeySet ? input : new JwtKeySet(input);
  }

  /**
   * A key set from a JWK Set (RFC 7517 §5), as an object or its JSON text (the content of
   * a `.json` file): the first key is the current one. A private JWK (with `d`) signs and
   * verifies, a public one only verifies, an `oct` JWK is an HS256 secret. A JWK's `kid`
   * and `alg` are kept; one with `use` other than `"sig"` is refused.
   *
   * @example
   * const keys = JwtKeySet.fromJwks(readFileSync(process.env.JWT_KEYS_FILE!, "utf8"));
   */
  static fromJwks(jwks: string | { keys: readonly JWK[] }): JwtKeySet {
    let parsed: unknown = jwks;
    if (typeof jwks === "string") {
      try {
        parsed = JSON.parse(jwks);
      } catch (error) {
        throw new ConfigurationError(
          `${OWNER}: the JWK Set is not JSON (${(error as Error).message})`,
        );
      }
    }
    const list = (parsed as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(list) || list.length === 0) {
      throw new ConfigurationError(`${OWNER}: a JWK Set needs a non-empty "keys" list`);
    }
    return new JwtKeySet(list.map((jwk, index) => specOfJwk(jwk, index)));
  }

  /** True when `kid` names a key of this set. */
  has(kid: string): boolean {
    return this.byKid.has(kid);
  }

  /**
   * Signs `jwt` with the current key: sets its protected header to `{alg, kid, typ: "JWT"}`.
   *
   * @example
   * const token = await keys.sign(new SignJWT({ sid }).setSubject(sub).setExpirationTime(exp));
   */
  sign(jwt: SignJWT): Promise<string> {
    const { algorithm, kid, signKey } = this.current;
    return jwt.setProtectedHeader({ alg: algorithm, kid, typ: "JWT" }).sign(signKey);
  }

  /**
   * The key that verifies a token with this protected header, for jose's key-function form
   * (`jwtVerify(token, keys.resolve, { algorithms: [...keys.algorithms] })`). Throws (jose
   * then rejects the token) for an unknown `kid`, a `kid` whose key has another algorithm,
   * no `kid` when the current key has another algorithm, and any key-bearing or
   * key-pointing header (`jku`, `x5u`, `x5c`, `jwk`…), which is never fetched nor trusted.
   */
  readonly resolve = (header: JWSHeaderParameters): CryptoKey => {
    for (const name of KEY_HEADERS) {
      if (header[name] !== undefined) {
        throw new errors.JWSInvalid(`the ${name} header is not accepted`);
      }
    }
    const { kid } = header;
    let entry: Entry | undefined;
    if (kid === undefined) entry = this.current;
    else if (typeof kid === "string") entry = this.byKid.get(kid);
    if (entry === undefined) throw new errors.JWKSNoMatchingKey();
    if (header.alg !== entry.algorithm) {
      throw new errors.JOSEAlgNotAllowed(`alg ${String(header.alg)} is not this key's`);
    }
    return entry.verifyKey;
  };

  /**
   * The public keys as a JWK Set, current first, each with `kid`, `alg` and `use: "sig"`:
   * what `GET /.well-known/jwks.json` serves. HS256 secrets never appear (an HS256-only
   * set answers an empty list).
   */
  publicJwks(): PublicJwks {
    return { keys: this.jwks.map((jwk) => ({ ...jwk })) };
  }
}

function importEntry(spec: JwtKeySpec, index: number): Entry {
  if (spec === null || typeof spec !== "object") {
    throw new ConfigurationError(`${OWNER}: key ${index} is not a key description`);
  }
  const given = spec as {
    secret?: unknown;
    privateKey?: JwtKeyInput;
    publicKey?: JwtKeyInput;
    algorithm?: unknown;
    kid?: unknown;
  };
  if (given.kid !== undefined && !validKid(given.kid)) {
    throw new ConfigurationError(
      `${OWNER}: key ${index}: kid must be a non-empty string of at most ${MAX_KID_LENGTH} characters`,
    );
  }
  const kid = given.kid as string | undefined;
  if (given.secret !== undefined) {
    if (given.privateKey !== undefined || given.publicKey !== undefined) {
      throw new ConfigurationError(`${OWNER}: key ${index} has a secret and a key pair: one only`);
    }
    if (given.algorithm !== undefined && given.algorithm !== "HS256") {
      throw new ConfigurationError(`${OWNER}: key ${index}: a secret is for HS256 only`);
    }
    const secret = given.secret as Secret;
    const { signKey, verifyKey } = importHmacKey(secret);
    return {
      kid: kid ?? hmacKid(secret),
      algorithm: "HS256",
      signKey,
      verifyKey,
      publicJwk: undefined,
    };
  }
  if (given.algorithm === "HS256") {
    throw new ConfigurationError(`${OWNER}: key ${index}: HS256 takes a secret`);
  }
  const imported = importAsymmetricKey(
    given.privateKey,
    given.publicKey,
    given.algorithm as JwtKeyPairAlgorithm | undefined,
  );
  const ownKid = kid ?? jwkKid(given.privateKey) ?? jwkKid(given.publicKey);
  const finalKid = ownKid ?? jwkThumbprint(imported.publicJwk);
  return {
    kid: finalKid,
    algorithm: imported.algorithm,
    signKey: imported.signKey,
    verifyKey: imported.verifyKey,
    publicJwk: Object.freeze({
      ...imported.publicJwk,
      kid: finalKid,
      alg: imported.algorithm,
      use: "sig",
    }) as PublicJwk,
  };
}

function validKid(kid: unknown): kid is string {
  return typeof kid === "string" && kid !== "" && kid.length <= MAX_KID_LENGTH;
}

/** A JWK input's own `kid`, when it has a valid one. */
function jwkKid(input: JwtKeyInput | undefined): string | undefined {
  if (input === null || typeof input !== "object" || !("kty" in input)) return undefined;
  const { kid } = input as JWK;
  if (kid === undefined) return undefined;
  if (!validKid(kid)) {
    throw new ConfigurationError(`${OWNER}: a JWK's kid must be a non-empty string`);
  }
  return kid;
}

/** The key spec of one JWK of a JWK Set. */
function specOfJwk(jwk: unknown, index: number): JwtKeySpec {
  if (jwk === null || typeof jwk !== "object" || Array.isArray(jwk)) {
    throw new ConfigurationError(`${OWNER}: JWK ${index} is not an object`);
  }
  const { kty, use, alg, kid, k, d } = jwk as JWK;
  if (use !== undefined && use !== "sig") {
    throw new ConfigurationError(`${OWNER}: JWK ${index} is for use ${String(use)}, not "sig"`);
  }
  if (kty === "oct") {
    if (alg !== undefined && alg !== "HS256") {
      throw new ConfigurationError(`${OWNER}: JWK ${index}: an oct key is for HS256 only`);
    }
    if (typeof k !== "string") throw new ConfigurationError(`${OWNER}: JWK ${index} has no k`);
    let secret: Uint8Array;
    try {
      secret = base64url.decode(k);
    } catch {
      throw new ConfigurationError(`${OWNER}: JWK ${index}: k is not base64url`);
    }
    return kid === undefined ? { secret } : { secret, kid };
  }
  const key = jwk as JWK;
  return d === undefined ? { publicKey: key } : { privateKey: key };
}
