import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { ConfigurationError } from "@tessera/core";
import { deriveKey, type OAuthSecret } from "./keys.js";

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID_RE = /^[A-Za-z0-9_-]{1,32}$/;
const FORMAT_RE = /^v1\.([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9_-]+)$/;

/** One key of an {@link OAuthTokenCipher}: an id written into each value, and its secret. */
export interface OAuthTokenKey {
  /** Written into every value it encrypts, to find the key again (`[A-Za-z0-9_-]{1,32}`). */
  id: string;
  /** At least 32 bytes (a string is taken as UTF-8). An AES-256 key is derived with HKDF. */
  secret: OAuthSecret;
}

/**
 * Encrypts provider tokens at rest (better-auth's `encryptOAuthTokens`; ASVS 5.0 11.3.2,
 * 11.3.3, 11.3.4): AES-256-GCM with a random 96-bit IV per value. Values read
 * `v1.<key id>.<base64url(IV ‖ ciphertext ‖ tag)>`; the version and key id are authenticated
 * as associated data. The first key encrypts, every key decrypts: to rotate, put a new key
 * first and keep the old ones until every stored token was rewritten (a login does that).
 *
 * @example
 * const cipher = new OAuthTokenCipher([{ id: "2026-12", secret: process.env.OAUTH_TOKEN_KEY! }]);
 * const accessToken = cipher.decrypt(account.accessToken); // to call the provider's API
 */
export class OAuthTokenCipher {
  readonly #keys: Map<string, Buffer>;
  readonly #current: string;

  /** Throws `ConfigurationError` for no key, a bad or repeated id, or a short secret. */
  constructor(keys: readonly OAuthTokenKey[]) {
    if (keys.length === 0) throw new ConfigurationError("OAuthTokenCipher needs at least one key");
    this.#keys = new Map();
    for (const key of keys) {
      if (!KEY_ID_RE.test(key.id)) {
        throw new ConfigurationError(`OAuthTokenCipher: invalid key id ${JSON.stringify(key.id)}`);
      }
      if (this.#keys.has(key.id)) {
        throw new ConfigurationError(`OAuthTokenCipher: key id ${key.id} appears twice`);
      }
      this.#keys.set(key.id, deriveKey(key.secret, "token", `OAuthTokenCipher key ${key.id}`));
    }
    this.#current = (keys[0] as OAuthTokenKey).id;
  }

  /** The id of the key that encrypts. */
  get currentKeyId(): string {
    return this.#current;
  }

  /** Encrypts `plaintext` with the first key. */
  encrypt(plaintext: string): string {
    const key = this.#keys.get(this.#current) as Buffer;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", key, iv);
    cipher.setAAD(Buffer.from(`v1.${this.#current}`));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    const packed = Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64url");
    return `v1.${this.#current}.${packed}`;
  }

  /**
   * Decrypts a value of {@link encrypt} under any configured key. Throws a `TypeError` for a
   * value of another format, an unknown key id, or one that fails authentication.
   */
  decrypt(value: string): string {
    const match = FORMAT_RE.exec(value);
    if (!match) throw new TypeError("OAuthTokenCipher: not an encrypted token");
    const [, id, packed] = match as unknown as [string, string, string];
    const key = this.#keys.get(id);
    if (!key) throw new TypeError(`OAuthTokenCipher: unknown key id ${id}`);
    const raw = Buffer.from(packed, "base64url");
    if (raw.length < IV_BYTES + TAG_BYTES) {
      throw new TypeError("OAuthTokenCipher: truncated token");
    }
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(`v1.${id}`));
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      return Buffer.concat([
        decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)),
        decipher.final(),
      ]).toString("utf8");
    } catch (cause) {
      throw new TypeError("OAuthTokenCipher: the token failed authentication", { cause });
    }
  }

  /** True when `value` was encrypted with another key than the current one (rewrite it). */
  needsRotation(value: string): boolean {
    const match = FORMAT_RE.exec(value);
    return match?.[1] !== this.#current;
  }
}
