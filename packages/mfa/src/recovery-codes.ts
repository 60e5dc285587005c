import { randomBytes } from "node:crypto";

const ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"; // RFC 4648 base32, lower case
const GROUPS = 4;
const GROUP_LENGTH = 6;
/** Characters of a recovery code without its dashes. */
export const RECOVERY_CODE_LENGTH = GROUPS * GROUP_LENGTH;
/** Entropy of one recovery code: 24 base32 characters, 5 bits each. */
export const RECOVERY_CODE_BITS = RECOVERY_CODE_LENGTH * 5;

/**
 * A new recovery code from the CSPRNG (ASVS 5.0 6.5.3): 120 bits, as four dash-separated
 * groups of six base32 characters (`k7q2mx-…`). 120 ≥ 112 bits is what lets a plain keyed
 * hash store it (ASVS 5.0 6.5.2) instead of a slow salted one.
 */
export function generateRecoveryCode(): string {
  const bytes = randomBytes(15); // 120 bits = 24 × 5
  let bits = 0n;
  for (const byte of bytes) bits = (bits << 8n) | BigInt(byte);
  let out = "";
  for (let i = RECOVERY_CODE_LENGTH - 1; i >= 0; i--) {
    out += ALPHABET[Number((bits >> BigInt(i * 5)) & 31n)];
  }
  return out.match(new RegExp(`.{${GROUP_LENGTH}}`, "g"))?.join("-") ?? out;
}

/**
 * The code as typed, reduced to what is hashed: case, spaces and dashes ignored. Null when
 * it cannot be a recovery code (wrong length or characters), so no hash is computed for it.
 */
export function normalizeRecoveryCode(input: unknown): string | null {
  if (typeof input !== "string" || input.length > 64) return null;
  const code = input.toLowerCase().replace(/[\s-]/g, "");
  if (code.length !== RECOVERY_CODE_LENGTH) return null;
  for (const ch of code) if (!ALPHABET.includes(ch)) return null;
  return code;
}
