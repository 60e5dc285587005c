import { errors, type JWTPayload, jwtVerify, SignJWT } from "jose";
import { ConfigurationError } from "../errors.js";

/** Minimum HMAC secret length, in bytes (RFC 7518 §3.2: key ≥ hash output size). */
export const MIN_SECRET_BYTES = 32;

/** A secret given as text or bytes; text is UTF-8 encoded. */
export type Secret = string | Uint8Array;

const encoder = new TextEncoder();
// Apps build a UserManager per request, and each encodes its two secrets: remembering the
// few secrets a process has keeps that off the per-request path. Bounded, in case an app
// makes secrets on the fly.
const encoded = new Map<string, Uint8Array>();
const MAX_ENCODED = 32;

/**
 * Encodes a secret as bytes, refusing ones shorter than 32 bytes: an HS256 key shorter
 * than its hash output is brute-forceable offline from any token (ASVS 5.0 9.1.2).
 * A string secret's bytes are shared between calls: read them, never write to them.
 */
export function secretKey(secret: Secret, what: string): Uint8Array {
  let key: Uint8Array;
  if (typeof secret === "string") {
    const known = encoded.get(secret);
    if (known) {
      key = known;
    } else {
      key = encoder.encode(secret);
      if (encoded.size >= MAX_ENCODED) encoded.clear();
      encoded.set(secret, key);
    }
  } else {
    key = secret;
  }
  if (key.byteLength < MIN_SECRET_BYTES) {
    throw new ConfigurationError(
      `${what} must be at least ${MIN_SECRET_BYTES} bytes (got ${key.byteLength}); ` +
        "generate one with: node -e \"console.log(require('crypto').randomBytes(32).toString('base64url'))\"",
    );
  }
  return key;
}

/** Signs a short-lived HS256 JWT for one audience (verify and reset tokens). */
export async function signPurposeToken(
  claims: JWTPayload,
  key: Uint8Array,
  audience: string,
  lifetimeSeconds: number,
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + lifetimeSeconds)
    .sign(key);
}

/**
 * Verifies a purpose token: HS256 only, audience pinned, `exp` required. Returns null for
 * any invalid token (bad signature, expired, other audience, malformed) instead of throwing.
 */
export async function verifyPurposeToken(
  token: string,
  key: Uint8Array,
  audience: string,
): Promise<JWTPayload | null> {
  if (typeof token !== "string" || token.length > 8192) return null;
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: ["HS256"],
      audience,
      requiredClaims: ["exp", "sub"],
    });
    return payload;
  } catch (error) {
    if (error instanceof errors.JOSEError || error instanceof TypeError) return null;
    throw error;
  }
}
