/**
 * An independent TOTP (RFC 6238 over RFC 4226's HOTP) on node:crypto's HMAC-SHA1, for tests:
 * the codes the tests send are never computed by otpauth, the library under test.
 */
import { createHmac } from "node:crypto";

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** RFC 4648 base32 (no padding needed) to bytes. */
export function base32Decode(input: string): Buffer {
  const clean = input.replace(/=+$/, "").toUpperCase();
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of clean) {
    const index = BASE32.indexOf(ch);
    if (index < 0) throw new Error(`not base32: ${ch}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** HOTP(K, C) with dynamic truncation (RFC 4226 §5.3), `digits` long. */
export function hotp(key: Buffer, counter: number, digits = 6): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const hash = createHmac("sha1", key).update(message).digest();
  const offset = (hash[hash.length - 1] as number) & 0x0f;
  const binary = hash.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, "0");
}

/** The time step of `epochMs` (30 s steps from T0 = 0). */
export const stepAt = (epochMs: number): number => Math.floor(epochMs / 1000 / 30);

/** The TOTP code of a base32 secret at a time step. */
export function totpAtStep(base32Secret: string, step: number, digits = 6): string {
  return hotp(base32Decode(base32Secret), step, digits);
}
