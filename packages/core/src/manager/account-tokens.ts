import { createHmac } from "node:crypto";
import {
  ConfigurationError,
  InvalidResetPasswordTokenError,
  InvalidVerifyTokenError,
} from "../errors.js";
import type { IdParser } from "../id.js";
import { normalizeEmail, type UserDatabase, type UserProtocol } from "../models.js";
import { safeEqual } from "../tokens/opaque.js";
import { type Secret, secretKey, signPurposeToken, verifyPurposeToken } from "../tokens/signed.js";

/** Options of the verification and reset-password tokens (part of `UserManagerOptions`). */
export interface AccountTokenOptions {
  /** Secret of verification tokens (≥ 32 bytes). */
  verificationTokenSecret: Secret;
  /** Secret of reset-password tokens (≥ 32 bytes); use a different one than verification's. */
  resetPasswordTokenSecret: Secret;
  /** @default 3600 */
  verificationTokenLifetimeSeconds?: number;
  /** @default 3600 */
  resetPasswordTokenLifetimeSeconds?: number;
  /** @default "tessera:verify" */
  verificationTokenAudience?: string;
  /** @default "tessera:reset" */
  resetPasswordTokenAudience?: string;
}

/** What the token flows need of the user manager: its store and how it reads ids. */
export interface TokenUsers<U extends UserProtocol<ID>, ID> {
  readonly userDb: UserDatabase<U, ID>;
  readonly idParser: IdParser<ID>;
  parseId(value: unknown): ID;
}

/** One purpose's signing key, audience and lifetime, defaults filled in. */
interface Purpose {
  key: Uint8Array;
  audience: string;
  lifetimeSeconds: number;
}

/** The subject of decoy tokens: no id parser accepts it. */
const DECOY_SUBJECT = "tessera:decoy";
// What a decoy reset token's fingerprint is taken of: as long as an argon2id hash, so that
// the HMAC costs what it costs for a real account.
const DECOY_PASSWORD_HASH = `$argon2id$v=19$m=19456,t=2,p=1$${"A".repeat(22)}$${"A".repeat(43)}`;

/**
 * The verification and reset-password tokens of a `UserManager`: signed, expiring
 * JWTs with their own secrets and audiences, read back to the user they were made for. A
 * reset token carries a fingerprint of the password hash, so it works once and dies when
 * the password changes. The manager keeps the rules around them (who may ask, hooks).
 */
export class AccountTokens<U extends UserProtocol<ID>, ID> {
  private readonly verify: Purpose;
  private readonly reset: Purpose;

  constructor(
    options: AccountTokenOptions,
    private readonly users: TokenUsers<U, ID>,
  ) {
    const verifyKey = secretKey(options.verificationTokenSecret, "verificationTokenSecret");
    const resetKey = secretKey(options.resetPasswordTokenSecret, "resetPasswordTokenSecret");
    // Checked here so a typo fails at startup, not as a 500 on the first forgot-password.
    const verifyLifetime = lifetime(
      options.verificationTokenLifetimeSeconds,
      "verificationTokenLifetimeSeconds",
    );
    const resetLifetime = lifetime(
      options.resetPasswordTokenLifetimeSeconds,
      "resetPasswordTokenLifetimeSeconds",
    );
    const verifyAudience = audience(
      options.verificationTokenAudience,
      "verificationTokenAudience",
      "tessera:verify",
    );
    const resetAudience = audience(
      options.resetPasswordTokenAudience,
      "resetPasswordTokenAudience",
      "tessera:reset",
    );
    this.verify = { key: verifyKey, audience: verifyAudience, lifetimeSeconds: verifyLifetime };
    this.reset = { key: resetKey, audience: resetAudience, lifetimeSeconds: resetLifetime };
  }

  /** A verification token for `user`'s id and current email. */
  signVerifyToken(user: U): Promise<string> {
    const { key, audience, lifetimeSeconds } = this.verify;
    const claims = { sub: this.users.idParser.stringify(user.id), email: user.email };
    return signPurposeToken(claims, key, audience, lifetimeSeconds);
  }

  /** The user a verification token was made for; throws {@link InvalidVerifyTokenError}. */
  async readVerifyToken(token: string): Promise<U> {
    const claims = await verifyPurposeToken(token, this.verify.key, this.verify.audience);
    if (!claims || typeof claims.email !== "string") throw new InvalidVerifyTokenError();
    const user = await this.users.userDb.getByEmail(normalizeEmail(claims.email));
    if (!user) throw new InvalidVerifyTokenError();
    let id: ID;
    try {
      id = this.users.parseId(claims.sub);
    } catch (error) {
      throw new InvalidVerifyTokenError({ cause: error });
    }
    // The email may since belong to another account: the token's subject must match.
    const { idParser } = this.users;
    if (idParser.stringify(id) !== idParser.stringify(user.id)) throw new InvalidVerifyTokenError();
    return user;
  }

  /** A reset token for `user`, bound to their current password hash. */
  signResetToken(user: U): Promise<string> {
    const { key, audience, lifetimeSeconds } = this.reset;
    const claims = {
      sub: this.users.idParser.stringify(user.id),
      pwd: this.passwordFingerprint(user.hashedPassword),
    };
    return signPurposeToken(claims, key, audience, lifetimeSeconds);
  }

  /** The subject of a validly signed, unexpired reset token, or null. */
  async resetTokenSubject(token: string): Promise<string | null> {
    const claims = await verifyPurposeToken(token, this.reset.key, this.reset.audience);
    return claims && typeof claims.sub === "string" ? claims.sub : null;
  }

  /**
   * The user a reset token was made for, while their password hash is still the one it
   * was made for; throws {@link InvalidResetPasswordTokenError}.
   */
  async readResetToken(token: string): Promise<U> {
    const claims = await verifyPurposeToken(token, this.reset.key, this.reset.audience);
    if (!claims || typeof claims.pwd !== "string") throw new InvalidResetPasswordTokenError();
    let id: ID;
    try {
      id = this.users.parseId(claims.sub);
    } catch (error) {
      // Whatever the parser throws (a custom one may not use InvalidIDError), the token is
      // what is wrong; database errors below still propagate (503, not a bad token).
      throw new InvalidResetPasswordTokenError({ cause: error });
    }
    const user = await this.users.userDb.get(id);
    if (!user || !safeEqual(claims.pwd, this.passwordFingerprint(user.hashedPassword))) {
      throw new InvalidResetPasswordTokenError();
    }
    return user;
  }

  /** A token of `purpose` signed as for a user, but naming nobody (see `signDecoyToken`). */
  signDecoyToken(purpose: "reset" | "verify"): Promise<string> {
    const { key, audience, lifetimeSeconds } = purpose === "reset" ? this.reset : this.verify;
    const claims =
      purpose === "reset"
        ? { sub: DECOY_SUBJECT, pwd: this.passwordFingerprint(DECOY_PASSWORD_HASH) }
        : { sub: DECOY_SUBJECT, email: DECOY_SUBJECT };
    return signPurposeToken(claims, key, audience, lifetimeSeconds);
  }

  // Keyed HMAC, not a plain hash: the fingerprint in a token must not let its holder test
  // guesses against the password hash offline.
  private passwordFingerprint(hashedPassword: string): string {
    return createHmac("sha256", this.reset.key).update(hashedPassword).digest("base64url");
  }
}

/** A token lifetime option, checked; 3600 seconds when not given. */
function lifetime(value: number | undefined, name: string): number {
  if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) {
    throw new ConfigurationError(`${name} must be a positive integer number of seconds`);
  }
  return value ?? 3600;
}

/** A token audience option, checked; `fallback` when not given. */
function audience(value: string | undefined, name: string, fallback: string): string {
  if (value !== undefined && (typeof value !== "string" || value.length === 0)) {
    throw new ConfigurationError(`${name} must be a non-empty string`);
  }
  return value ?? fallback;
}
