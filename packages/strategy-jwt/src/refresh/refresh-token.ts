import { createHmac, randomBytes } from "node:crypto";
import { ConfigurationError, hashToken, type Secret } from "@tessera/core";
import { safeEqual, secretKey } from "@tessera/core/internal";

// 256 bits of secret per token (ASVS 5.0 7.2.3 asks for at least 128).
const SECRET_BYTES = 32;
// A 128-bit tag: a forged token is refused before any store is asked.
const TAG_BYTES = 16;
const PART_CHARS = Math.ceil(((SECRET_BYTES + TAG_BYTES) * 4) / 3);
const KEY_RE = /^[A-Za-z0-9_-]{16,128}$/;
const PART_RE = /^[A-Za-z0-9_-]+$/;

/** A refresh token taken apart, its tag checked. */
export interface ParsedRefreshToken {
  /** The session's storage key (what the store finds the session by). */
  key: string;
  /** SHA-256 digest of the token's secret: what the store compares. */
  digest: string;
  /** The digest of the child this token rotates into. */
  childDigest: string;
  /** The child token itself: the same for every refresh with this token. */
  child: string;
}

/**
 * The refresh tokens of {@link RefreshTokenStrategy}: `<key>.<secret+tag>`.
 *
 * - `key` is the session's storage key, so a refresh reaches the session directly.
 * - The secret is 256 bits: random for a session's first token; a child's is
 *   HMAC(secret that verified its parent, parent), so every refresh with one token (two
 *   tabs, a retried request) gets the *same* child, and a chain never forks.
 * - The tag is an HMAC of key and secret under the current refresh secret: a token that was
 *   never ours is refused without a store call, and cannot be used to end somebody's session
 *   by posing as a reused one.
 *
 * Only the SHA-256 digest of the secret is stored. Refresh secrets rotate like signing
 * keys: the first signs, all verify.
 */
export class RefreshTokenCodec {
  private readonly keys: readonly Uint8Array[];

  constructor(secrets: Secret | readonly Secret[]) {
    const list = Array.isArray(secrets) ? secrets : [secrets as Secret];
    if (list.length === 0) {
      throw new ConfigurationError("RefreshTokenStrategy: refreshSecret needs at least one secret");
    }
    this.keys = list.map((s, i) => secretKey(s as Secret, `refreshSecret[${i}]`));
  }

  /** A session's first secret (random) and its digest, before the store gives the key. */
  root(): { secret: Buffer; digest: string } {
    const secret = randomBytes(SECRET_BYTES);
    return { secret, digest: digestOf(secret) };
  }

  /** The token for `secret` of the session `key`, tagged with the current refresh secret. */
  format(key: string, secret: Buffer): string {
    if (!KEY_RE.test(key)) throw new Error(`RefreshTokenCodec: unusable session key ${key}`);
    const tag = mac(this.current(), key, secret);
    return `${key}.${Buffer.concat([secret, tag]).toString("base64url")}`;
  }

  /** The token's parts and its child, or null when it is not a token of ours (no store call). */
  parse(token: unknown): ParsedRefreshToken | null {
    if (typeof token !== "string" || token.length > 256) return null;
    const dot = token.indexOf(".");
    if (dot < 0) return null;
    const key = token.slice(0, dot);
    const part = token.slice(dot + 1);
    if (!KEY_RE.test(key) || part.length !== PART_CHARS || !PART_RE.test(part)) return null;
    const bytes = Buffer.from(part, "base64url");
    if (bytes.length !== SECRET_BYTES + TAG_BYTES) return null;
    const secret = bytes.subarray(0, SECRET_BYTES);
    const tag = bytes.subarray(SECRET_BYTES).toString("base64url");
    // Every secret is tried, so the time taken says nothing about which one matched.
    let verifying: Uint8Array | undefined;
    for (const k of this.keys) {
      if (safeEqual(tag, mac(k, key, secret).toString("base64url")) && verifying === undefined) {
        verifying = k;
      }
    }
    if (verifying === undefined) return null;
    const childSecret = createHmac("sha256", verifying)
      .update("tessera:refresh-child\0")
      .update(key)
      .update("\0")
      .update(secret)
      .digest();
    return {
      key,
      digest: digestOf(secret),
      childDigest: digestOf(childSecret),
      child: this.format(key, childSecret),
    };
  }

  private current(): Uint8Array {
    return this.keys[0] as Uint8Array;
  }
}

function mac(key: Uint8Array, sessionKey: string, secret: Uint8Array): Buffer {
  return createHmac("sha256", key)
    .update("tessera:refresh-tag\0")
    .update(sessionKey)
    .update("\0")
    .update(secret)
    .digest()
    .subarray(0, TAG_BYTES);
}

function digestOf(secret: Uint8Array): string {
  return hashToken(Buffer.from(secret).toString("base64url"));
}
