import { normalizeEmail, type UserProtocol } from "../models.js";

const PRIVILEGED = ["isActive", "isSuperuser", "isVerified"] as const;
// Keys that must never be copied from client input onto an object (prototype pollution).
const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/**
 * Copies own enumerable keys into a null-prototype object, without pollution keys,
 * operator-shaped keys, server-owned fields, and (in safe mode) privileged flags.
 */
export function cleanInput<T extends object>(input: T, safe: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null);
  for (const [key, value] of Object.entries(input)) {
    if (FORBIDDEN_KEYS.has(key) || key === "id" || key === "hashedPassword") continue;
    // A proof sent alongside an update, never a field to store.
    if (key === "currentPassword") continue;
    // Never a field name, but an operator or a nested path to a document store's `$set`.
    if (key.startsWith("$") || key.includes(".")) continue;
    if (safe && (PRIVILEGED as readonly string[]).includes(key)) continue;
    out[key] = value;
  }
  return out;
}

/**
 * True when an update sets a new password, or an email other than the user's (compared
 * normalized): the changes for which `UserManager.update` with `requireCurrentPassword`
 * asks for the current password (ASVS 5.0 6.2.3, 7.5.1). A null password keeps the current one.
 *
 * @example
 * // Count a self-service change as a password guess only when it will check one.
 * if (changesCredentials(input, user)) await limiter.attempt(user.email);
 */
export function changesCredentials(
  input: Readonly<Record<string, unknown>>,
  user: Pick<UserProtocol<unknown>, "email">,
): boolean {
  const { password, email } = input;
  if (password !== undefined && password !== null) return true;
  return typeof email === "string" && normalizeEmail(email) !== user.email;
}
