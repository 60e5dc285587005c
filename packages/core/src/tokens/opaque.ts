import { createHash, hash, randomBytes, timingSafeEqual } from "node:crypto";

/** Bytes of entropy in an opaque token: 256 bits, the floor ASVS 5.0 7.2.3 sets is 128. */
export const OPAQUE_TOKEN_BYTES = 32;

/**
 * Creates a new opaque token: 256 bits from the OS CSPRNG, base64url (43 chars).
 *
 * @example
 * const token = generateOpaqueToken(); // hand to the client
 * await db.create({ token: hashToken(token), ... }); // store only the digest
 */
export function generateOpaqueToken(): string {
  return randomBytes(OPAQUE_TOKEN_BYTES).toString("base64url");
}

/**
 * SHA-256 digest of a token, hex-encoded: what databases and Redis store, so a read of
 * the store cannot be replayed as a login. A fast hash suffices: the token has 256 bits
 * of entropy, so there is nothing to brute-force (unlike passwords).
 */
export function hashToken(token: string): string {
  // One-shot `crypto.hash`: no Hash object per call, about half the cost of createHash on
  // the per-request path (every database and Redis read hashes the presented token).
  return hash("sha256", token, "hex");
}

/** Constant-time comparison of two strings (false when lengths differ). */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, "utf8");
  const bb = Buffer.from(b, "utf8");
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** True when `token` has the shape of a token made by {@link generateOpaqueToken}. */
export function isOpaqueTokenShape(token: string): boolean {
  return token.length === 43 && /^[A-Za-z0-9_-]+$/.test(token);
}

/**
 * The public id of a session stored under `digest`: a second hash, so the id a user
 * sees (and sends back to revoke a session) is neither the token nor the stored key.
 */
export function sessionIdFromDigest(digest: string): string {
  return createHash("sha256")
    .update(`tessera:session:${digest}`, "utf8")
    .digest("base64url")
    .slice(0, 32);
}
