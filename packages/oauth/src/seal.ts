import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { deriveKey, type OAuthSecret } from "./keys.js";

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const AAD = Buffer.from("tessera-oauth-state/v1");

/** Why a flow was started: a login, or linking a provider account to a logged-in user. */
export type OAuthPurpose = "login" | "associate";

/** What the state cookie holds (sealed: the browser can neither read nor change it). */
export interface OAuthStatePayload {
  /** The `state` sent to the provider. */
  state: string;
  /** The PKCE `code_verifier`. */
  codeVerifier: string;
  /** The OIDC `nonce`. */
  nonce: string;
  /** The provider's name. */
  provider: string;
  purpose: OAuthPurpose;
  /** The user an association is for (its id as a string). */
  userId?: string;
  /** Epoch seconds after which the state is refused. */
  expiresAt: number;
}

/**
 * Seals and opens the state cookie with AES-256-GCM (a key derived from the configured
 * secret with HKDF): confidentiality for the PKCE verifier and nonce, and integrity for all
 * of it. Format: base64url(version 1 byte ‖ IV 12 ‖ ciphertext ‖ tag 16).
 */
export class StateSealer {
  readonly #key: Buffer;

  /** Throws `ConfigurationError` for a secret shorter than 32 bytes. */
  constructor(secret: OAuthSecret) {
    this.#key = deriveKey(secret, "state", "stateSecret");
  }

  /** The sealed value, cookie-safe (base64url). */
  seal(payload: OAuthStatePayload): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv);
    cipher.setAAD(AAD);
    const body = Buffer.concat([cipher.update(JSON.stringify(payload), "utf8"), cipher.final()]);
    return Buffer.concat([Buffer.of(VERSION), iv, body, cipher.getAuthTag()]).toString("base64url");
  }

  /** The payload, or null for anything not sealed by this key (tampered, truncated, garbage). */
  open(value: string | undefined): OAuthStatePayload | null {
    if (!value || value.length > 4096 || !/^[A-Za-z0-9_-]+$/.test(value)) return null;
    const raw = Buffer.from(value, "base64url");
    if (raw.length < 1 + IV_BYTES + TAG_BYTES + 2 || raw[0] !== VERSION) return null;
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.#key, raw.subarray(1, 1 + IV_BYTES));
      decipher.setAAD(AAD);
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      const text = Buffer.concat([
        decipher.update(raw.subarray(1 + IV_BYTES, raw.length - TAG_BYTES)),
        decipher.final(),
      ]).toString("utf8");
      return parsePayload(JSON.parse(text));
    } catch {
      return null;
    }
  }
}

function parsePayload(value: unknown): OAuthStatePayload | null {
  if (typeof value !== "object" || value === null) return null;
  const v = value as Record<string, unknown>;
  const str = (k: string) => typeof v[k] === "string" && (v[k] as string).length > 0;
  if (!str("state") || !str("codeVerifier") || !str("nonce") || !str("provider")) return null;
  if (v.purpose !== "login" && v.purpose !== "associate") return null;
  if (v.userId !== undefined && typeof v.userId !== "string") return null;
  if (typeof v.expiresAt !== "number" || !Number.isFinite(v.expiresAt)) return null;
  return v as unknown as OAuthStatePayload;
}
