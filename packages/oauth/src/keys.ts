import { hkdfSync } from "node:crypto";
import { ConfigurationError } from "@tessera/core";

/** A secret from configuration: a string (UTF-8) or bytes, at least 32 bytes either way. */
export type OAuthSecret = string | Uint8Array;

/** Minimum length of a configured secret, in bytes. */
export const MIN_SECRET_BYTES = 32;

/**
 * An AES-256 key for one purpose, derived from a configured secret with HKDF-SHA256, so the
 * same secret configured for two purposes never yields the same key.
 */
export function deriveKey(secret: OAuthSecret, purpose: string, what: string): Buffer {
  const bytes = typeof secret === "string" ? Buffer.from(secret, "utf8") : Buffer.from(secret);
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new ConfigurationError(`${what} must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  return Buffer.from(hkdfSync("sha256", bytes, Buffer.alloc(0), `tessera-oauth/${purpose}`, 32));
}
