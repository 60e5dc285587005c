import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from "node:crypto";
import { ConfigurationError } from "@tessera/core";

/** A secret from configuration: a string (UTF-8) or bytes, at least 32 bytes either way. */
export type MfaSecret = string | Uint8Array;

/** One key of an {@link MfaKeyring}: an id written into each value, and its secret. */
export interface MfaKey {
  /** Written into every value it protects, to find the key again (`[A-Za-z0-9_-]{1,32}`). */
  id: string;
  /** At least 32 bytes (a string is taken as UTF-8); per-purpose keys are derived with HKDF. */
  secret: MfaSecret;
}

const MIN_SECRET_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID_RE = /^[A-Za-z0-9_-]{1,32}$/;
const SEALED_RE = /^v1\.([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9_-]+)$/;

type Purpose = "totp-secret" | "recovery-code" | "challenge";

interface DerivedKey {
  totpSecret: Buffer;
  recoveryCode: Buffer;
  challenge: Buffer;
}

/**
 * The configured keys of `@tessera/mfa`, derived once: build it at start-up and share it.
 * From each secret, HKDF-SHA256 derives one key per purpose (TOTP secrets, recovery-code
 * hashes, login challenges), so no key serves two. The first key protects new values, every
 * key opens old ones: to rotate, put a new key first and keep the old ones until nothing
 * under them is left (a re-enrolment rewrites a secret, a regeneration the codes; challenges
 * live minutes).
 *
 * A copy of `@tessera/oauth`'s `OAuthTokenCipher` format (`v1.<key id>.<base64url(IV ‖
 * ciphertext ‖ tag)>`, AES-256-GCM, the version and key id authenticated), not a dependency
 * on it: MFA must not pull in an OAuth client, and its keys are its own.
 *
 * @example
 * const keyring = new MfaKeyring([{ id: "2026-12", secret: process.env.MFA_KEY! }]);
 */
export class MfaKeyring {
  readonly #keys = new Map<string, DerivedKey>();
  readonly #current: string;

  /** Throws `ConfigurationError` for no key, a bad or repeated id, or a short secret. */
  constructor(keys: readonly MfaKey[]) {
    if (keys.length === 0) throw new ConfigurationError("MfaKeyring needs at least one key");
    for (const key of keys) {
      if (!KEY_ID_RE.test(key.id)) {
        throw new ConfigurationError(`MfaKeyring: invalid key id ${JSON.stringify(key.id)}`);
      }
      if (this.#keys.has(key.id)) {
        throw new ConfigurationError(`MfaKeyring: key id ${key.id} appears twice`);
      }
      const bytes =
        typeof key.secret === "string" ? Buffer.from(key.secret, "utf8") : Buffer.from(key.secret);
      if (bytes.length < MIN_SECRET_BYTES) {
        throw new ConfigurationError(
          `MfaKeyring key ${key.id} must be at least ${MIN_SECRET_BYTES} bytes`,
        );
      }
      const derive = (purpose: Purpose) =>
        Buffer.from(hkdfSync("sha256", bytes, Buffer.alloc(0), `tessera-mfa/${purpose}`, 32));
      this.#keys.set(key.id, {
        totpSecret: derive("totp-secret"),
        recoveryCode: derive("recovery-code"),
        challenge: derive("challenge"),
      });
    }
    this.#current = (keys[0] as MfaKey).id;
  }

  /** The id of the key that protects new values. */
  get currentKeyId(): string {
    return this.#current;
  }

  /** Encrypts a TOTP secret, bound to its user: a value copied to another user fails to open. */
  encryptSecret(plaintext: string, userId: string): string {
    return this.#seal("totpSecret", plaintext, `totp-secret\0${userId}`);
  }

  /** Opens {@link encryptSecret}'s value; throws a `TypeError` when it is not one for `userId`. */
  decryptSecret(value: string, userId: string): string {
    return this.#open("totpSecret", value, `totp-secret\0${userId}`);
  }

  /** Seals a login challenge's payload (opaque to the client). */
  sealChallenge(payload: string): string {
    return this.#seal("challenge", payload, "challenge");
  }

  /** Opens {@link sealChallenge}'s value; throws a `TypeError` when forged or malformed. */
  openChallenge(value: string): string {
    return this.#open("challenge", value, "challenge");
  }

  /**
   * The stored hash of a recovery code under each key, current first: HMAC-SHA256 keyed by
   * configuration, `v1.<key id>.<base64url>`. Deterministic, so a code is found by its hash.
   */
  recoveryCodeHashes(normalizedCode: string): string[] {
    const current = this.#hash(this.#current, normalizedCode);
    const others = [...this.#keys.keys()]
      .filter((id) => id !== this.#current)
      .map((id) => this.#hash(id, normalizedCode));
    return [current, ...others];
  }

  #hash(id: string, code: string): string {
    const key = (this.#keys.get(id) as DerivedKey).recoveryCode;
    return `v1.${id}.${createHmac("sha256", key).update(code, "utf8").digest("base64url")}`;
  }

  #seal(which: keyof DerivedKey, plaintext: string, context: string): string {
    const key = (this.#keys.get(this.#current) as DerivedKey)[which];
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", key, iv);
    cipher.setAAD(Buffer.from(`v1.${this.#current}\0${context}`));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return `v1.${this.#current}.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64url")}`;
  }

  #open(which: keyof DerivedKey, value: string, context: string): string {
    const match = SEALED_RE.exec(value);
    if (!match) throw new TypeError("MfaKeyring: not a sealed value");
    const [, id, packed] = match as unknown as [string, string, string];
    const keys = this.#keys.get(id);
    if (!keys) throw new TypeError(`MfaKeyring: unknown key id ${id}`);
    const raw = Buffer.from(packed, "base64url");
    if (raw.length < IV_BYTES + TAG_BYTES) throw new TypeError("MfaKeyring: truncated value");
    try {
      const decipher = createDecipheriv("aes-256-gcm", keys[which], raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(`v1.${id}\0${context}`));
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      return Buffer.concat([
        decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)),
        decipher.final(),
      ]).toString("utf8");
    } catch (cause) {
      throw new TypeError("MfaKeyring: the value failed authentication", { cause });
    }
  }
}
