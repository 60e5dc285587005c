import {
  InvalidCurrentPasswordError,
  isMfaDatabase,
  type MfaDatabase,
  MfaNotSupportedError,
  type UserManager,
  type UserProtocol,
} from "@tessera/core";
import { Secret, TOTP } from "otpauth";
import { MfaCodeInvalidError, MfaError, MfaErrorCode } from "./errors.js";
import type { MfaKeyring } from "./keyring.js";
import { generateRecoveryCode, normalizeRecoveryCode } from "./recovery-codes.js";

/** RFC 6238 parameters every authenticator app supports: SHA-1, 6 digits, 30 s. */
const PERIOD = 30;
const DIGITS = 6;
const ALGORITHM = "SHA1";
/** 160-bit secrets, the HMAC-SHA1 key size RFC 4226 recommends. */
const SECRET_BYTES = 20;
const CODE_RE = /^\d{6}$/;

/** Options of {@link TotpFactorService}. */
export interface TotpFactorServiceOptions<U extends UserProtocol<ID>, ID> {
  /** The app's user manager: its `onSecurityEvent` hears of changes, its password helper checks passwords. */
  userManager: UserManager<U, ID>;
  /** The keys: TOTP secrets encrypted, recovery codes hashed. Share one across requests. */
  keyring: MfaKeyring;
  /** Where factors are stored; by default the manager's user database, if it implements `MfaDatabase`. */
  mfaDb?: MfaDatabase<ID>;
  /** Shown in authenticator apps (`otpauth://totp/<issuer>:<email>?issuer=<issuer>`). */
  issuer: string;
  /** Recovery codes per set. @default 10 */
  recoveryCodeCount?: number;
  /** Steps of clock skew accepted either side of the current one. @default 1 */
  window?: number;
  /** The server's clock, epoch milliseconds (ASVS 5.0 6.5.8: never the client's); for tests. */
  now?: () => number;
}

/** What {@link TotpFactorService.enrol} returns: shown once, to put in an authenticator app. */
export interface TotpEnrolment {
  /** The shared secret, base32 (for typing it in). */
  secret: string;
  /** `otpauth://totp/…` with issuer, the user's email, algorithm, digits and period (for a QR code). */
  uri: string;
  issuer: string;
  /** The account name in the URI: the user's email. */
  label: string;
  algorithm: "SHA1";
  digits: 6;
  period: 30;
}

/** A user's second-factor state, for a settings page. */
export interface TotpStatus {
  /** A confirmed TOTP factor exists: logins need a second step. */
  enabled: boolean;
  /** An enrolment is waiting for its first code. */
  pending: boolean;
  /** Unused recovery codes. */
  recoveryCodesLeft: number;
}

/** How {@link TotpFactorService.disable} is authorized: a current code, or the password. */
export type DisableProof = { code: string } | { password: string };

/**
 * The session that makes a change (its token, and its handle when the strategy has one):
 * passed on to `UserManager.onSecurityEvent`, which ends the user's *other* sessions and keeps
 * this one (ASVS 5.0 7.4.3). Without it every session of the user ends.
 */
export interface CurrentSession {
  token: string;
  handle?: string;
}

/**
 * TOTP (RFC 6238, on `otpauth`) and recovery codes for one user at a time, framework-neutral.
 *
 * - **Secrets** come from the CSPRNG (160 bits; ASVS 5.0 6.5.3) and are stored encrypted with
 *   AES-256-GCM under the keyring's key, bound to the user's id.
 * - **Codes**: 6 digits, 30 s, ±1 step of clock skew by the server's clock (6.5.5, 6.5.8),
 *   compared in constant time by otpauth; a code is accepted once: the step it belongs to is
 *   recorded with one conditional write (`advanceTotpStep`), so the same code, or an earlier
 *   step's after a later one, is refused (6.5.1), also under concurrent requests.
 * - **Recovery codes**: 10, 120 bits each, shown once, stored as HMAC-SHA256 under a key
 *   from configuration (≥ 112 bits, so a standard hash is what ASVS 5.0 6.5.2 asks; the key
 *   makes a stolen table useless without it), single-use by one conditional write (6.5.1).
 * - **Rate limiting** is the HTTP layer's (ASVS 5.0 6.3.1): it limits every route taking a
 *   code by {@link rateLimitKey}, per account, whatever the client's address.
 *
 * Cheap to construct (the keyring is derived once), so it may be built per request.
 */
export class TotpFactorService<U extends UserProtocol<ID>, ID = U["id"]> {
  readonly #manager: UserManager<U, ID>;
  readonly #db: MfaDatabase<ID>;
  readonly #keyring: MfaKeyring;
  readonly #issuer: string;
  readonly #count: number;
  readonly #window: number;
  readonly #now: () => number;

  /** Throws `MfaNotSupportedError` when no `MfaDatabase` is given and the user database is none. */
  constructor(options: TotpFactorServiceOptions<U, ID>) {
    this.#manager = options.userManager;
    const db = options.mfaDb ?? options.userManager.userDb;
    if (!isMfaDatabase<object, ID>(db)) {
      throw new MfaNotSupportedError(
        "The user database keeps no second factors (it does not implement MfaDatabase)",
      );
    }
    this.#db = db;
    this.#keyring = options.keyring;
    this.#issuer = options.issuer;
    this.#count = options.recoveryCodeCount ?? 10;
    this.#window = options.window ?? 1;
    this.#now = options.now ?? Date.now;
  }

  /** The key the HTTP layer rate-limits code attempts by: one per account (ASVS 5.0 6.3.1). */
  rateLimitKey(user: U): string {
    return `mfa:${String(user.id)}`;
  }

  /** Whether the user has a confirmed factor, a pending one, and how many recovery codes are left. */
  async status(user: U): Promise<TotpStatus> {
    const { totp, recoveryCodes } = await this.#db.getMfa(user.id);
    return {
      enabled: totp?.confirmedAt != null,
      pending: totp != null && totp.confirmedAt == null,
      recoveryCodesLeft: recoveryCodes.filter((c) => c.usedAt === null).length,
    };
  }

  /** True when the user has a confirmed factor (a login then needs a second step). */
  async isEnabled(user: U): Promise<boolean> {
    return (await this.#db.getMfa(user.id)).totp?.confirmedAt != null;
  }

  /**
   * Starts an enrolment: a new secret, stored encrypted as a *pending* factor (replacing a
   * pending one), not a factor until {@link confirm}. Throws `MFA_ALREADY_ENABLED` when a
   * confirmed factor exists.
   */
  async enrol(user: U): Promise<TotpEnrolment> {
    if (await this.isEnabled(user)) {
      throw new MfaError(MfaErrorCode.MFA_ALREADY_ENABLED, "TOTP is enabled already");
    }
    const secret = new Secret({ size: SECRET_BYTES });
    const totp = this.#totp(secret, user.email);
    await this.#db.setTotp(user.id, {
      secret: this.#keyring.encryptSecret(secret.base32, String(user.id)),
      confirmedAt: null,
      lastStep: -1,
    });
    return {
      secret: secret.base32,
      uri: totp.toString(),
      issuer: this.#issuer,
      label: user.email,
      algorithm: ALGORITHM,
      digits: DIGITS,
      period: PERIOD,
    };
  }

  /**
   * Confirms a pending enrolment with a first code: the factor is on, a set of recovery codes
   * is made and returned (show them once: only their hashes are stored), `mfa_enabled` is
   * emitted (`current`, the session making the change, is kept while the others end).
   * Throws `MFA_NOT_ENROLLING`, `MFA_ALREADY_ENABLED` or `MFA_CODE_INVALID`.
   */
  async confirm(
    user: U,
    code: string,
    context?: unknown,
    current?: CurrentSession,
  ): Promise<{ recoveryCodes: string[] }> {
    const { totp } = await this.#db.getMfa(user.id);
    if (!totp) throw new MfaError(MfaErrorCode.MFA_NOT_ENROLLING, "No TOTP enrolment pending");
    if (totp.confirmedAt) {
      throw new MfaError(MfaErrorCode.MFA_ALREADY_ENABLED, "TOTP is enabled already");
    }
    const step = this.#match(user, totp.secret, code);
    if (
      step === null ||
      step <= totp.lastStep ||
      !(await this.#db.advanceTotpStep(user.id, step))
    ) {
      throw new MfaCodeInvalidError();
    }
    await this.#db.setTotp(user.id, {
      secret: totp.secret,
      confirmedAt: new Date(this.#now()),
      lastStep: step,
    });
    const recoveryCodes = await this.#newRecoveryCodes(user);
    await this.#manager.onSecurityEvent(
      user,
      { type: "mfa_enabled", factor: "totp" },
      context,
      current,
    );
    return { recoveryCodes };
  }

  /**
   * Checks a code of the user's confirmed factor and uses it up: true once per step (the
   * accepted step is recorded by one conditional write), false for a wrong, malformed,
   * out-of-window or replayed code, or without a confirmed factor.
   */
  async verify(user: U, code: string): Promise<boolean> {
    const { totp } = await this.#db.getMfa(user.id);
    if (!totp?.confirmedAt) return false;
    const step = this.#match(user, totp.secret, code);
    if (step === null || step <= totp.lastStep) return false;
    return this.#db.advanceTotpStep(user.id, step);
  }

  /**
   * Turns TOTP off and drops the recovery codes, after a current code or the password
   * (ASVS 5.0 6.5.6); emits `mfa_disabled`. Throws `MFA_NOT_ENABLED`, `MFA_CODE_INVALID`, or
   * core's `InvalidCurrentPasswordError` for a wrong password.
   */
  async disable(
    user: U,
    proof: DisableProof,
    context?: unknown,
    current?: CurrentSession,
  ): Promise<void> {
    if (!(await this.isEnabled(user))) {
      throw new MfaError(MfaErrorCode.MFA_NOT_ENABLED, "TOTP is not enabled");
    }
    let by: "code" | "password";
    if ("password" in proof) {
      by = "password";
      const { verified } = await this.#manager.passwordHelper.verifyAndUpdate(
        typeof proof.password === "string" ? proof.password : "",
        user.hashedPassword,
      );
      if (!verified) throw new InvalidCurrentPasswordError();
    } else {
      by = "code";
      if (!(await this.verify(user, proof.code))) throw new MfaCodeInvalidError();
    }
    await this.#db.setTotp(user.id, null);
    await this.#db.setRecoveryCodes(user.id, []);
    await this.#manager.onSecurityEvent(
      user,
      { type: "mfa_disabled", factor: "totp", by },
      context,
      current,
    );
  }

  /**
   * A new set of recovery codes after a current TOTP code; the old set stops working.
   * Emits `recovery_codes_regenerated` (other sessions than `current` end).
   * Throws `MFA_NOT_ENABLED` or `MFA_CODE_INVALID`.
   */
  async regenerateRecoveryCodes(
    user: U,
    code: string,
    context?: unknown,
    current?: CurrentSession,
  ): Promise<string[]> {
    if (!(await this.isEnabled(user))) {
      throw new MfaError(MfaErrorCode.MFA_NOT_ENABLED, "TOTP is not enabled");
    }
    if (!(await this.verify(user, code))) throw new MfaCodeInvalidError();
    const codes = await this.#newRecoveryCodes(user);
    await this.#manager.onSecurityEvent(
      user,
      { type: "recovery_codes_regenerated", count: codes.length },
      context,
      current,
    );
    return codes;
  }

  /**
   * Uses one of the user's recovery codes (any case, spaces and dashes ignored): true once,
   * then false; false for an unknown code or without a confirmed factor. Emits
   * `recovery_code_used` with the number left.
   */
  async useRecoveryCode(user: U, code: string, context?: unknown): Promise<boolean> {
    const normalized = normalizeRecoveryCode(code);
    if (normalized === null || !(await this.isEnabled(user))) return false;
    const at = new Date(this.#now());
    for (const hash of this.#keyring.recoveryCodeHashes(normalized)) {
      if (await this.#db.useRecoveryCode(user.id, hash, at)) {
        const { recoveryCodes } = await this.#db.getMfa(user.id);
        const remaining = recoveryCodes.filter((c) => c.usedAt === null).length;
        await this.#manager.onSecurityEvent(
          user,
          { type: "recovery_code_used", remaining },
          context,
        );
        return true;
      }
    }
    return false;
  }

  async #newRecoveryCodes(user: U): Promise<string[]> {
    const codes = Array.from({ length: this.#count }, generateRecoveryCode);
    const hashes = codes.map(
      (code) =>
        this.#keyring.recoveryCodeHashes(normalizeRecoveryCode(code) as string)[0] as string,
    );
    await this.#db.setRecoveryCodes(user.id, hashes);
    return codes;
  }

  /** The time step `code` belongs to within the window, by the server's clock; null when none. */
  #match(user: U, encrypted: string, code: unknown): number | null {
    if (typeof code !== "string") return null;
    const token = code.replace(/\s/g, "");
    if (!CODE_RE.test(token)) return null;
    const secret = Secret.fromBase32(this.#keyring.decryptSecret(encrypted, String(user.id)));
    const timestamp = this.#now();
    const delta = this.#totp(secret, user.email).validate({
      token,
      timestamp,
      window: this.#window,
    });
    if (delta === null) return null;
    return TOTP.counter({ period: PERIOD, timestamp }) + delta;
  }

  #totp(secret: Secret, label: string): TOTP {
    return new TOTP({
      issuer: this.#issuer,
      label,
      algorithm: ALGORITHM,
      digits: DIGITS,
      period: PERIOD,
      secret,
    });
  }
}
