import { InvalidPasswordError, PasswordReasonCode } from "../errors.js";
import { commonPasswords } from "./common-passwords.js";

/** The default password policy: length bounds, and optional lists to refuse. */
export interface PasswordPolicyOptions {
  /** Minimum length in Unicode code points (ASVS 5.0 6.2.1). @default 8 */
  minLength?: number;
  /**
   * Maximum length in code points, checked before hashing so a megabyte "password"
   * costs nothing (ASVS 5.0 6.2.9 asks to allow at least 64). @default 1024
   */
  maxLength?: number;
  /**
   * Refuse the 10,000 most common passwords of 8+ characters (a list bundled with Tessera,
   * from zxcvbn-ts, MIT), compared case-insensitively (ASVS 5.0 6.2.4).
   * @default false
   */
  rejectCommonPasswords?: boolean;
  /**
   * More passwords to refuse, compared case-insensitively: your context-specific words,
   * such as the product's name (ASVS 5.0 6.1.2, 6.2.11).
   * @default []
   */
  forbiddenPasswords?: Iterable<string>;
  /**
   * A breached-password check (e.g. Have I Been Pwned's k-anonymity range API, through your
   * own HTTP client): true refuses the password (ASVS 5.0 6.2.12). Throw to fail the request.
   * @default none
   */
  isBreached?: (password: string) => boolean | Promise<boolean>;
}

/** Reasons shown to the client when a password is refused by a list. */
export const PASSWORD_REASONS = {
  common: "Password is too common; choose one that is harder to guess",
  forbidden: "Password is not allowed here; choose another",
  breached: "Password has appeared in a data breach; choose another",
} as const;

const fold = (password: string) => password.normalize("NFKC").toLowerCase();

// The lower-cased forbidden words of each options object, computed once.
const forbiddenSets = new WeakMap<object, ReadonlySet<string>>();

/**
 * The whole default policy: {@link checkPasswordLength}, then the lists the options turn
 * on. Throws {@link InvalidPasswordError} with a reason meant for the user.
 */
export async function checkPassword(
  password: string,
  options: PasswordPolicyOptions = {},
): Promise<void> {
  checkPasswordLength(password, options);
  const folded = fold(password);
  if (options.rejectCommonPasswords && (await commonPasswords()).has(folded)) {
    throw new InvalidPasswordError(PASSWORD_REASONS.common, PasswordReasonCode.TOO_COMMON);
  }
  if (options.forbiddenPasswords) {
    let set = forbiddenSets.get(options);
    if (!set) {
      set = new Set([...options.forbiddenPasswords].map(fold));
      forbiddenSets.set(options, set);
    }
    if (set.has(folded)) {
      throw new InvalidPasswordError(PASSWORD_REASONS.forbidden, PasswordReasonCode.FORBIDDEN);
    }
  }
  if (options.isBreached && (await options.isBreached(password))) {
    throw new InvalidPasswordError(PASSWORD_REASONS.breached, PasswordReasonCode.BREACHED);
  }
}

/**
 * The default password rule: length only, any Unicode, nothing truncated, no
 * composition rules (ASVS 5.0 6.2.5). Throws {@link InvalidPasswordError} with a reason
 * meant for the user.
 */
export function checkPasswordLength(password: string, options: PasswordPolicyOptions = {}): void {
  const { minLength: min, maxLength: max } = passwordLengthBounds(options);
  // A body that skipped schema validation must still get a 400, not a TypeError (500).
  if (typeof password !== "string") {
    throw new InvalidPasswordError("Password should be a string", PasswordReasonCode.NOT_STRING);
  }
  // Count code points, not UTF-16 units: "🔑" is one character to a person.
  let length = 0;
  for (const _ of password) {
    length++;
    if (length > max) break;
  }
  if (length < min) {
    throw new InvalidPasswordError(
      `Password should be at least ${min} characters`,
      PasswordReasonCode.TOO_SHORT,
    );
  }
  if (length > max) {
    throw new InvalidPasswordError(
      `Password should be at most ${max} characters`,
      PasswordReasonCode.TOO_LONG,
    );
  }
}

/** Length bounds of a password policy, in code points, with the defaults filled in. */
export interface PasswordLengthBounds {
  minLength: number;
  maxLength: number;
}

/**
 * The length bounds `options` enforce (8 and 1024 by default): what an HTTP layer states
 * in its schema (`minLength`/`maxLength` count code points, as JSON Schema does).
 */
export function passwordLengthBounds(options: PasswordPolicyOptions = {}): PasswordLengthBounds {
  return { minLength: options.minLength ?? 8, maxLength: options.maxLength ?? 1024 };
}
