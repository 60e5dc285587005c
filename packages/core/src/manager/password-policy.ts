import { InvalidPasswordError } from "../errors.js";

/** Length bounds of the default password policy. */
export interface PasswordPolicyOptions {
  /** Minimum length in Unicode code points (ASVS 5.0 6.2.1). @default 8 */
  minLength?: number;
  /**
   * Maximum length in code points, checked before hashing so a megabyte "password"
   * costs nothing (ASVS 5.0 6.2.9 asks to allow at least 64). @default 1024
   */
  maxLength?: number;
}

/**
 * The default password rule: length only, any Unicode, nothing truncated, no
 * composition rules (ASVS 5.0 6.2.5). Throws {@link InvalidPasswordError} with a reason
 * meant for the user.
 */
export function checkPasswordLength(password: string, options: PasswordPolicyOptions = {}): void {
  const min = options.minLength ?? 8;
  const max = options.maxLength ?? 1024;
  // A body that skipped schema validation must still get a 400, not a TypeError (500).
  if (typeof password !== "string") throw new InvalidPasswordError("Password should be a string");
  // Count code points, not UTF-16 units: "🔑" is one character to a person.
  let length = 0;
  for (const _ of password) {
    length++;
    if (length > max) break;
  }
  if (length < min) throw new InvalidPasswordError(`Password should be at least ${min} characters`);
  if (length > max) throw new InvalidPasswordError(`Password should be at most ${max} characters`);
}
