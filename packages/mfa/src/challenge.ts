import { randomBytes } from "node:crypto";
import type { UserManager, UserProtocol } from "@tessera/core";
import type { MfaChallengeStore } from "./challenge-store.js";
import { MfaCodeInvalidError, MfaError, MfaErrorCode } from "./errors.js";
import type { MfaKeyring } from "./keyring.js";
import type { TotpEnrolment, TotpFactorService } from "./totp.js";

/** Options of {@link MfaChallenges}. */
export interface MfaChallengesOptions<U extends UserProtocol<ID>, ID> {
  userManager: UserManager<U, ID>;
  /** Checks the codes (and records their use). */
  factors: TotpFactorService<U, ID>;
  /** The same keyring as the factors': challenges are sealed under its `challenge` key. */
  keyring: MfaKeyring;
  /** Single use and attempt counts, shared by every app instance. */
  store: MfaChallengeStore;
  /** Lifetime of a challenge, in seconds. @default 300 */
  ttlSeconds?: number;
  /** Wrong codes a challenge takes; the last one kills it. @default 5 */
  maxAttempts?: number;
  /** Epoch milliseconds; for tests. */
  now?: () => number;
}

/** What completes a login challenge: a TOTP code, or a recovery code. */
export type MfaProof = { code: string } | { recoveryCode: string };

/**
 * What a challenge is for: `verify` (the user has a factor: complete it with a code) or
 * `enrol` (the policy requires a factor the user lacks: enrol one, and its confirmation
 * completes the login).
 */
export type MfaChallengePurpose = "verify" | "enrol";

/** A challenge issued: the token for the client and when it expires. */
export interface MfaChallenge {
  /** Opaque, sealed (AES-256-GCM), carrying 128 random bits: the `mfa_token`. */
  token: string;
  expiresAt: Date;
}

interface Payload {
  /** The challenge's id (128 random bits, base64url): the store's key. */
  i: string;
  /** The user's id as a string (parsed back with the manager's id parser). */
  s: string;
  /** The backend's name. */
  b: string;
  /** Expiry, epoch milliseconds. */
  e: number;
  /** The purpose. */
  p: MfaChallengePurpose;
}

/**
 * The second step of a login with MFA. After a correct password for a user with a confirmed
 * factor, the login route starts no session but {@link issue}s a challenge, and answers
 * `400 {"detail": "LOGIN_MFA_REQUIRED", "mfa_token": …}`; `POST {prefix}/login/mfa` then
 * {@link complete}s it with a TOTP or recovery code and, only then, logs the user in through
 * the same backend.
 *
 * A challenge is bound to its user and backend (sealed in the token, so it cannot be edited),
 * short-lived (5 minutes; ASVS 5.0 6.5.5 asks at most 10 for out-of-band requests), used once
 * (ASVS 5.0 6.5.1, 6.6.2: not usable for another login), and takes at most 5 wrong codes
 * before it is dead: a new password step is needed. The route still rate-limits per account
 * (`factors.rateLimitKey(user)`): a fresh challenge per password would otherwise reset the count.
 */
export class MfaChallenges<U extends UserProtocol<ID>, ID = U["id"]> {
  readonly #manager: UserManager<U, ID>;
  readonly #factors: TotpFactorService<U, ID>;
  readonly #keyring: MfaKeyring;
  readonly #store: MfaChallengeStore;
  readonly #ttl: number;
  readonly #max: number;
  readonly #now: () => number;

  constructor(options: MfaChallengesOptions<U, ID>) {
    this.#manager = options.userManager;
    this.#factors = options.factors;
    this.#keyring = options.keyring;
    this.#store = options.store;
    this.#ttl = options.ttlSeconds ?? 300;
    this.#max = options.maxAttempts ?? 5;
    this.#now = options.now ?? Date.now;
  }

  /**
   * A new challenge for `user`, to be completed through the backend named `backend`: with a
   * code ({@link complete}; the default purpose), or, for `purpose: "enrol"`, by enrolling a
   * factor ({@link beginEnrolment}, then {@link completeEnrolment}).
   */
  issue(user: U, backend: string, options: { purpose?: MfaChallengePurpose } = {}): MfaChallenge {
    const expiresAt = this.#now() + this.#ttl * 1000;
    const payload: Payload = {
      i: randomBytes(16).toString("base64url"),
      s: String(user.id),
      b: backend,
      e: expiresAt,
      p: options.purpose ?? "verify",
    };
    return {
      token: this.#keyring.sealChallenge(JSON.stringify(payload)),
      expiresAt: new Date(expiresAt),
    };
  }

  /**
   * The per-account rate-limit key of the challenge's user (as `factors.rateLimitKey`), for
   * the HTTP layer to limit `POST /login/mfa` before checking the code; null for a token that
   * is not one of ours (limit that by address). Checks only the seal, not expiry or use.
   */
  rateLimitKey(token: unknown): string | null {
    try {
      return `mfa:${this.#open(token).s}`;
    } catch {
      return null;
    }
  }

  /**
   * Completes the challenge `token` with a code: the user, once. Throws `MfaError` with
   * `MFA_TOKEN_INVALID` (malformed, forged, another backend's, user gone or inactive),
   * `MFA_TOKEN_EXPIRED`, `MFA_TOKEN_USED` (used, or dead after too many wrong codes), or
   * `MfaCodeInvalidError` (`MFA_CODE_INVALID`, with `attemptsLeft`): a wrong code does not
   * use the challenge up, but counts.
   */
  async complete(
    token: unknown,
    proof: MfaProof,
    options: { backend: string; context?: unknown },
  ): Promise<U> {
    const { payload, ttl, user } = await this.#live(token, options.backend, "verify");
    const accepted =
      "recoveryCode" in proof
        ? await this.#factors.useRecoveryCode(user, proof.recoveryCode, options.context)
        : await this.#factors.verify(user, proof.code);
    if (!accepted) {
      const failures = await this.#store.addFailure(payload.i, ttl);
      if (failures >= this.#max) await this.#store.consume(payload.i, ttl);
      throw new MfaCodeInvalidError(Math.max(0, this.#max - failures));
    }
    // The code is used up; the challenge too, once: a parallel twin loses here.
    if (!(await this.#store.consume(payload.i, ttl))) {
      throw new MfaError(MfaErrorCode.MFA_TOKEN_USED, "The MFA token was used");
    }
    return user;
  }

  /**
   * For an `enrol` challenge: starts the enrolment of its user (a new pending secret and its
   * `otpauth://` URI, as `TotpFactorService.enrol`). May be called again (a new secret
   * replaces the pending one); does not use the challenge up. Throws as {@link complete}.
   */
  async beginEnrolment(token: unknown, options: { backend: string }): Promise<TotpEnrolment> {
    const { user } = await this.#live(token, options.backend, "enrol");
    return this.#factors.enrol(user);
  }

  /**
   * For an `enrol` challenge: confirms the pending enrolment with a first code and completes
   * the login: the user and the recovery codes to show once. A wrong code counts as in
   * {@link complete}. Throws as {@link complete}, or `MFA_NOT_ENROLLING` before
   * {@link beginEnrolment}.
   */
  async completeEnrolment(
    token: unknown,
    code: string,
    options: { backend: string; context?: unknown },
  ): Promise<{ user: U; recoveryCodes: string[] }> {
    const { payload, ttl, user } = await this.#live(token, options.backend, "enrol");
    let recoveryCodes: string[];
    try {
      ({ recoveryCodes } = await this.#factors.confirm(user, code, options.context));
    } catch (error) {
      if (!(error instanceof MfaCodeInvalidError)) throw error;
      const failures = await this.#store.addFailure(payload.i, ttl);
      if (failures >= this.#max) await this.#store.consume(payload.i, ttl);
      throw new MfaCodeInvalidError(Math.max(0, this.#max - failures));
    }
    if (!(await this.#store.consume(payload.i, ttl))) {
      throw new MfaError(MfaErrorCode.MFA_TOKEN_USED, "The MFA token was used");
    }
    return { user, recoveryCodes };
  }

  /** The token's payload, seconds left and user, if it is valid, live, unused, for this backend and purpose. */
  async #live(
    token: unknown,
    backend: string,
    purpose: MfaChallengePurpose,
  ): Promise<{ payload: Payload; ttl: number; user: U }> {
    const payload = this.#open(token);
    if (payload.b !== backend) {
      throw new MfaError(MfaErrorCode.MFA_TOKEN_INVALID, "The MFA token is another backend's");
    }
    if (payload.p !== purpose) {
      throw new MfaError(MfaErrorCode.MFA_TOKEN_INVALID, `The MFA token is not for ${purpose}`);
    }
    const left = payload.e - this.#now();
    if (left <= 0) throw new MfaError(MfaErrorCode.MFA_TOKEN_EXPIRED, "The MFA token expired");
    if (await this.#store.isConsumed(payload.i)) {
      throw new MfaError(MfaErrorCode.MFA_TOKEN_USED, "The MFA token was used");
    }
    return { payload, ttl: Math.ceil(left / 1000), user: await this.#user(payload.s) };
  }

  #open(token: unknown): Payload {
    if (typeof token !== "string" || token.length > 1024) {
      throw new MfaError(MfaErrorCode.MFA_TOKEN_INVALID, "Invalid MFA token");
    }
    try {
      const payload = JSON.parse(this.#keyring.openChallenge(token)) as Payload;
      if (
        typeof payload.i === "string" &&
        typeof payload.s === "string" &&
        typeof payload.b === "string" &&
        typeof payload.e === "number" &&
        (payload.p === "verify" || payload.p === "enrol")
      ) {
        return payload;
      }
    } catch (cause) {
      throw new MfaError(MfaErrorCode.MFA_TOKEN_INVALID, "Invalid MFA token", { cause });
    }
    throw new MfaError(MfaErrorCode.MFA_TOKEN_INVALID, "Invalid MFA token");
  }

  async #user(subject: string): Promise<U> {
    try {
      const user = await this.#manager.userDb.get(this.#manager.parseId(subject));
      if (user?.isActive) return user;
    } catch (cause) {
      throw new MfaError(MfaErrorCode.MFA_TOKEN_INVALID, "Invalid MFA token", { cause });
    }
    throw new MfaError(MfaErrorCode.MFA_TOKEN_INVALID, "The MFA token's user is gone or inactive");
  }
}
