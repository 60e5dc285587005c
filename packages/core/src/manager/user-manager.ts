import { AuditLog } from "../audit/audit-log.js";
import type { AuditEventInit, SessionRevocationReason } from "../audit/events.js";
import {
  InvalidCurrentPasswordError,
  InvalidIDError,
  InvalidPasswordError,
  InvalidResetPasswordTokenError,
  UserAlreadyExistsError,
  UserAlreadyVerifiedError,
  UserInactiveError,
  UserNotExistsError,
  UserUpdateConflictError,
} from "../errors.js";
import { type IdParser, uuidIdParser } from "../id.js";
import {
  normalizeEmail,
  type UserCreate,
  type UserCreateData,
  type UserDatabase,
  type UserProtocol,
  type UserUpdate,
  type UserUpdateConditions,
  type UserUpdateData,
} from "../models.js";
import type { OAuthAccount, OAuthCallbackInput, OAuthCallbackOptions } from "../oauth/models.js";
import { PasswordHelper, type PasswordHelperProtocol } from "../password/password-helper.js";
import {
  checkPassword,
  type PasswordLengthBounds,
  passwordLengthBounds,
} from "../password/password-policy.js";
import type { Session } from "../session/session.js";
import type { UserChange } from "../strategy/base.js";
import { AccountTokens } from "./account-tokens.js";
import type { SecurityEvent, UserManagerHooks } from "./hooks.js";
import * as oauth from "./oauth.js";
import type { CallOptions, Credentials, UpdateOptions, UserManagerOptions } from "./options.js";
import { describeChange, notifyStrategies, type StrategySource } from "./session-sync.js";
import { changesCredentials, cleanInput } from "./user-input.js";

let sharedHelper: PasswordHelper | undefined;

// Why a change that ends sessions ended them, by its kind.
const REVOCATION_REASONS: Record<UserChange["kind"], SessionRevocationReason> = {
  password: "password_changed",
  deactivate: "user_deactivated",
  delete: "user_deleted",
  factor: "factor_changed",
  update: "password_changed",
};

// The events that change how the user authenticates (not a mere use of a factor).
const FACTOR_CHANGES: ReadonlySet<SecurityEvent["type"]> = new Set([
  "mfa_enabled",
  "mfa_disabled",
  "recovery_codes_regenerated",
  "passkey_added",
  "passkey_removed",
]);

/**
 * Owns every user rule: registration, login, verification, password reset, updates
 * and deletion, with FastAPI Users' semantics. Cheap to construct, so it can be made
 * per request around a request-scoped database.
 *
 * @example
 * const manager = new UserManager({ userDb, verificationTokenSecret, resetPasswordTokenSecret,
 *   hooks: { onAfterForgotPassword: (user, token) => mail(user.email, token) } });
 */
export class UserManager<U extends UserProtocol<ID>, ID = U["id"]> implements UserManagerHooks<U> {
  readonly userDb: UserDatabase<U, ID>;
  readonly idParser: IdParser<ID>;
  readonly passwordHelper: PasswordHelperProtocol;
  protected readonly options: UserManagerOptions<U, ID>;
  private readonly accountTokens: AccountTokens<U, ID>;
  private backends: readonly StrategySource<U, ID>[] | undefined;
  private auditLog: AuditLog | undefined;

  constructor(options: UserManagerOptions<U, ID>) {
    this.options = options;
    this.backends = options.backends;
    this.auditLog = options.onAuditEvent ? new AuditLog(options.onAuditEvent) : undefined;
    this.userDb = options.userDb;
    this.idParser = options.idParser ?? (uuidIdParser as unknown as IdParser<ID>);
    sharedHelper ??= new PasswordHelper();
    this.passwordHelper = options.passwordHelper ?? sharedHelper;
    this.accountTokens = new AccountTokens(options, this);
  }

  /**
   * Sets the backends whose strategies hear of user changes, unless some were given at
   * construction. Idempotent, so a manager shared across requests can be attached each time.
   */
  attachBackends(backends: readonly StrategySource<U, ID>[]): void {
    this.backends ??= backends;
  }

  /**
   * Sets the audit stream this manager's events go to (sessions ended by a change, token
   * theft, second-factor changes), unless `onAuditEvent` was given at construction.
   * `@tessera/koa` attaches its instance's, so the app subscribes once. Idempotent.
   */
  attachAudit(audit: AuditLog): void {
    this.auditLog ??= audit;
  }

  /** Emits an audit event about `user` (fire-and-forget; nothing without a stream). */
  protected audit(user: U, init: AuditEventInit, context: unknown): void {
    this.auditLog?.emit({ userId: String(user.id), email: user.email, ...init }, context);
  }

  /**
   * Tells the strategies of every attached backend that `user` changed; a change that ends
   * sessions is audited (`session_revoked`, with `reason` when the kind does not say it).
   */
  protected async notifySessions(
    user: U,
    change: UserChange,
    context: unknown,
    reason?: SessionRevocationReason,
  ): Promise<void> {
    if (!this.backends?.length) return;
    await notifyStrategies(this.backends, user, change, context);
    if (change.revokeSessions) {
      this.audit(
        user,
        {
          type: "session_revoked",
          reason: reason ?? REVOCATION_REASONS[change.kind],
          scope: change.exceptToken === undefined ? "all" : "others",
          sessionId: null,
        },
        context,
      );
    }
  }

  /** Parses an id from a string or claim; throws {@link InvalidIDError}. */
  parseId(value: unknown): ID {
    return this.idParser.parse(value);
  }

  /** The user with this id; throws {@link UserNotExistsError}. */
  async get(id: ID): Promise<U> {
    const user = await this.userDb.get(id);
    if (!user) throw new UserNotExistsError();
    return user;
  }

  /**
   * The user with this email (any case), or null. The routes that must answer alike for
   * registered and unknown emails (forgot-password, request-verify-token) look users up
   * with it: an unknown email then costs no exception, whose construction alone is enough
   * for response times to tell the two apart (ASVS 5.0 6.3.8). Override this, not
   * {@link getByEmail}, to change how users are found by email: `getByEmail` calls it.
   */
  async findByEmail(email: string): Promise<U | null> {
    return this.userDb.getByEmail(normalizeEmail(email));
  }

  /** The user with this email (any case); throws {@link UserNotExistsError}. */
  async getByEmail(email: string): Promise<U> {
    const user = await this.findByEmail(email);
    if (!user) throw new UserNotExistsError();
    return user;
  }

  /**
   * Password rule, called on register, update and reset. Override for your own policy;
   * throw {@link InvalidPasswordError} with a reason for the user.
   */
  async validatePassword(password: string, _user: UserCreate | U): Promise<void> {
    await checkPassword(password, this.options.passwordPolicy);
  }

  /**
   * The length bounds {@link validatePassword} enforces, for the HTTP layer's schema.
   * Override it with `validatePassword` when your rule has other bounds.
   */
  passwordLengthBounds(): PasswordLengthBounds {
    return passwordLengthBounds(this.options.passwordPolicy);
  }

  /** Registers a user. `safe` drops privileged flags (the public register route). */
  async create(input: UserCreate, options: CallOptions = {}): Promise<U> {
    await this.validatePassword(input.password, input);
    const email = normalizeEmail(input.email);
    if (await this.userDb.getByEmail(email)) throw new UserAlreadyExistsError();
    const { password, ...rest } = cleanInput(input, options.safe ?? false);
    const data: UserCreateData = {
      ...rest,
      email,
      hashedPassword: await this.passwordHelper.hash(password as string),
      isActive: (rest.isActive as boolean | undefined) ?? true,
      isSuperuser: (rest.isSuperuser as boolean | undefined) ?? false,
      isVerified: (rest.isVerified as boolean | undefined) ?? false,
    };
    const user = await this.userDb.create(data);
    await this.onAfterRegister(user, options.context);
    return user;
  }

  /**
   * Checks credentials. Unknown emails still cost one hash, so response time does not
   * tell whether an account exists (ASVS 5.0 6.3.8). Upgrades weak hashes on success.
   * Returns the user even when inactive: the caller decides (login answers 400).
   */
  async authenticate(credentials: Credentials): Promise<U | null> {
    const user = await this.userDb.getByEmail(normalizeEmail(credentials.username));
    if (!user) {
      await this.passwordHelper.hash(credentials.password);
      return null;
    }
    const { verified, updatedHash } = await this.passwordHelper.verifyAndUpdate(
      credentials.password,
      user.hashedPassword,
    );
    if (!verified) return null;
    if (updatedHash) {
      try {
        // Only over the hash just verified: a password reset landing in between must not be
        // overwritten by a re-hash of the old password.
        return await this.userDb.update(
          user,
          { hashedPassword: updatedHash },
          { expectedHashedPassword: user.hashedPassword },
        );
      } catch (error) {
        // The password changed while we checked it: the one given is no longer the password.
        if (error instanceof UserUpdateConflictError) return null;
        throw error;
      }
    }
    return user;
  }

  /** Makes a verification token and hands it to `onAfterRequestVerify`. */
  async requestVerify(user: U, context?: unknown): Promise<void> {
    if (!user.isActive) throw new UserInactiveError();
    if (user.isVerified) throw new UserAlreadyVerifiedError();
    const token = await this.accountTokens.signVerifyToken(user);
    await this.onAfterRequestVerify(user, token, context);
  }

  /**
   * Signs a token of `purpose` for nobody and throws it away. Forgot-password and
   * request-verify-token call it when they mail nothing (an unknown, inactive or already
   * verified account), so that they take as long as when they sign and mail a token and
   * their timing does not tell registered emails (ASVS 5.0 6.3.8). Make the mail hooks
   * enqueue rather than send, or their own time tells it again. Returns the token, which
   * names no user and so works nowhere.
   */
  async signDecoyToken(purpose: "reset" | "verify"): Promise<string> {
    return this.accountTokens.signDecoyToken(purpose);
  }

  /** Verifies the user a verification token was made for. */
  async verify(token: string, context?: unknown): Promise<U> {
    const user = await this.accountTokens.readVerifyToken(token);
    if (user.isVerified) throw new UserAlreadyVerifiedError();
    const verified = await this.userDb.update(user, { isVerified: true });
    await this.notifySessions(
      verified,
      { kind: "update", fields: ["isVerified"], revokeSessions: false },
      context,
    );
    await this.onAfterVerify(verified, context);
    return verified;
  }

  /** Makes a reset token bound to the current password hash; hands it to `onAfterForgotPassword`. */
  async forgotPassword(user: U, context?: unknown): Promise<void> {
    if (!user.isActive) throw new UserInactiveError();
    const token = await this.accountTokens.signResetToken(user);
    await this.onAfterForgotPassword(user, token, context);
  }

  /**
   * The subject (the user id, as a string) of a validly signed, unexpired reset token, or
   * null: what rate limiting counts a reset attempt against, without trusting a forged claim.
   * It says nothing of whether the token is still usable (single use is checked on reset).
   */
  async resetPasswordTokenSubject(token: string): Promise<string | null> {
    return this.accountTokens.resetTokenSubject(token);
  }

  /**
   * Sets a new password from a reset token. The token carries a fingerprint of the
   * password hash it was made for, so it works once and dies when the password changes.
   */
  async resetPassword(token: string, password: string, context?: unknown): Promise<U> {
    const user = await this.accountTokens.readResetToken(token);
    if (!user.isActive) throw new UserInactiveError();
    let updated: U;
    try {
      // Compare-and-set on the hash the token was checked against: of two concurrent
      // resets with one token, one writes and the other finds the hash moved on.
      updated = await this.updateFields(
        user,
        { password },
        context,
        { expectedHashedPassword: user.hashedPassword },
        undefined,
        "password_reset",
      );
    } catch (error) {
      if (error instanceof UserUpdateConflictError) {
        throw new InvalidResetPasswordTokenError({ cause: error });
      }
      throw error;
    }
    await this.onAfterResetPassword(updated, context);
    return updated;
  }

  /**
   * Updates a user; `safe` drops privileged flags (`PATCH /users/me`). With
   * `requireCurrentPassword`, a new password or email needs `currentPassword`.
   */
  async update(input: UserUpdate, user: U, options: UpdateOptions = {}): Promise<U> {
    const update = cleanInput(input, options.safe ?? false);
    let conditions: UserUpdateConditions = {};
    if (options.requireCurrentPassword && changesCredentials(update, user)) {
      await this.checkCurrentPassword(user, options.currentPassword);
      // Written only over the hash just checked, so a concurrent change cannot slip between.
      conditions = { expectedHashedPassword: user.hashedPassword };
    }
    let updated: U;
    try {
      updated = await this.updateFields(
        user,
        update,
        options.context,
        conditions,
        options.currentToken === undefined
          ? undefined
          : { token: options.currentToken, handle: options.currentSessionHandle },
      );
    } catch (error) {
      if (error instanceof UserUpdateConflictError) throw new InvalidCurrentPasswordError();
      throw error;
    }
    await this.onAfterUpdate(updated, update, options.context);
    return updated;
  }

  /** Throws {@link InvalidCurrentPasswordError} unless `password` is the user's. */
  private async checkCurrentPassword(user: U, password: unknown): Promise<void> {
    if (typeof password !== "string" || password.length === 0) {
      throw new InvalidCurrentPasswordError();
    }
    const { verified } = await this.passwordHelper.verifyAndUpdate(password, user.hashedPassword);
    if (!verified) throw new InvalidCurrentPasswordError();
  }

  /** Deletes a user, after `onBeforeDelete` (which may veto by throwing). */
  async delete(user: U, context?: unknown): Promise<void> {
    await this.onBeforeDelete(user, context);
    await this.userDb.delete(user);
    await this.notifySessions(user, { kind: "delete", fields: [], revokeSessions: true }, context);
    await this.onAfterDelete(user, context);
  }

  /**
   * Logs in with a provider account, as FastAPI Users' `oauth_callback` (the OAuth flow
   * calls it after validating `state`, PKCE and the ID token; provider tokens arrive
   * encrypted). Identities are `(oauthName, accountId)`, never the email (ASVS 5.0 6.8.1,
   * 10.5.2):
   *
   * 1. An account linked already: its link gets this login's tokens and email (a missing
   *    refresh token keeps the stored one) and its user is returned.
   * 2. Else a user with the account's email (normalized): linked when `associateByEmail` is
   *    on **and** `input.emailVerified`, then `onAfterUpdate(user, {})` (FastAPI Users calls
   *    no hook there; a new way into an account is worth telling its owner). Otherwise
   *    {@link UserAlreadyExistsError} (the router's `OAUTH_USER_ALREADY_EXISTS`): an address
   *    the provider did not verify may be anyone's, and linking it would hand the account
   *    to whoever typed it at the provider.
   * 3. Else a new user with that email, linked, then `onAfterRegister`. Its password is
   *    random, hashed with the manager's password helper and thrown away: password login
   *    fails until a reset by mail sets one. `isVerified` is `isVerifiedByDefault &&
   *    input.emailVerified`: verified means "this address reaches the user", and an address
   *    the provider did not verify proves nothing of the sort, whatever the option says.
   *
   * Two first logins of one account at once make one user and one link: the database's
   * unique indexes decide, the loser re-reads the winner's user (waiting up to ~1.3 s for
   * its link; ~0.3 s before a refusal) and returns it; a user created but not linked is
   * deleted again.
   *
   * The manager does not refuse inactive users: it returns them, and the router refuses
   * them (`LOGIN_BAD_CREDENTIALS`, as FastAPI Users). A user created from an unverified
   * provider email stays unverified; an app that must stop someone claiming an address
   * first through a provider that does not verify emails should check `isVerified`.
   * Throws {@link OAuthNotSupportedError} when the user database keeps no OAuth accounts.
   */
  async oauthCallback(input: OAuthCallbackInput, options: OAuthCallbackOptions = {}): Promise<U> {
    return oauth.oauthCallback(this, input, options);
  }

  /**
   * Links a provider account to the logged-in `user` (FastAPI Users'
   * `oauth_associate_callback`), then `onAfterUpdate(user, {}, context)`. The provider's
   * email need not be the user's nor verified: the user proved they control the account by
   * logging in there. Linked to this user already: its tokens and email are refreshed.
   * Linked to another user: {@link OAuthAccountAlreadyLinkedError}, nothing changes. Throws
   * {@link OAuthNotSupportedError} when the user database keeps no OAuth accounts.
   */
  async oauthAssociateCallback(user: U, input: OAuthCallbackInput, context?: unknown): Promise<U> {
    return oauth.oauthAssociateCallback(this, user, input, context);
  }

  /**
   * The user's linked provider accounts, oldest first. Their tokens are as stored
   * (encrypted by the flow): never send them to a client. Throws {@link OAuthNotSupportedError}
   * when the user database keeps no OAuth accounts.
   */
  async listOAuthAccounts(user: U): Promise<OAuthAccount[]> {
    return oauth.oauthDatabase(this.userDb).listOAuthAccounts(user);
  }

  /**
   * Unlinks the user's provider account whose link `id` is given (`OAuthAccount.id`, not the
   * provider's `accountId`, which is unique per provider only); false when the user has no
   * such link. Then `onAfterUpdate(user, {}, context)`. The last link may go too (FastAPI
   * Users has no unlink): every user has an email and a password hash, so "forgot password"
   * is always a way back in, and refusing would keep a provider the user wants gone.
   * Throws {@link OAuthNotSupportedError} when the user database keeps no OAuth accounts.
   */
  async removeOAuthAccount(user: U, id: string, context?: unknown): Promise<boolean> {
    return oauth.removeOAuthAccount(this, user, id, context);
  }

  private async updateFields(
    user: U,
    input: UserUpdate,
    context: unknown,
    conditions: UserUpdateConditions = {},
    current?: { token: string; handle: string | undefined },
    reason?: SessionRevocationReason,
  ): Promise<U> {
    const data: UserUpdateData = {};
    let emailChanged = false;
    for (const [key, value] of Object.entries(input)) {
      if (value === undefined) continue;
      if (key === "email") {
        // A JSON body may send null for "unchanged"; it is not an address.
        if (value === null) continue;
        const email = normalizeEmail(value as string);
        if (email === user.email) continue;
        if (await this.userDb.getByEmail(email)) throw new UserAlreadyExistsError();
        data.email = email;
        emailChanged = true;
      } else if (key === "password") {
        // As FastAPI Users: a null password means "keep the current one".
        if (value === null) continue;
        await this.validatePassword(value as string, user);
        data.hashedPassword = await this.passwordHelper.hash(value as string);
      } else {
        data[key] = value;
      }
    }
    // A new address is unproven: verification starts over, unless the input (unsafe mode
    // only) sets isVerified itself; checked after the loop so key order does not matter.
    if (emailChanged && data.isVerified === undefined) data.isVerified = false;
    if (Object.keys(data).length === 0) return user;
    const updated =
      conditions.expectedHashedPassword === undefined
        ? await this.userDb.update(user, data)
        : await this.userDb.update(user, data, conditions);
    let change = describeChange(user, data);
    if (change.kind === "password" && current !== undefined) {
      // The user changed their own password from a session: that session stays.
      change =
        this.options.logoutOtherSessionsOnPasswordChange === false
          ? { ...change, revokeSessions: false }
          : {
              ...change,
              exceptToken: current.token,
              ...(current.handle === undefined ? {} : { exceptHandle: current.handle }),
            };
    }
    await this.notifySessions(updated, change, context, reason);
    return updated;
  }

  async onAfterRegister(user: U, context?: unknown): Promise<void> {
    await this.options.hooks?.onAfterRegister?.(user, context);
  }
  async onAfterLogin(user: U, context?: unknown): Promise<void> {
    await this.options.hooks?.onAfterLogin?.(user, context);
  }
  async onAfterUpdate(user: U, update: UserUpdate, context?: unknown): Promise<void> {
    await this.options.hooks?.onAfterUpdate?.(user, update, context);
  }
  async onAfterRequestVerify(user: U, token: string, context?: unknown): Promise<void> {
    await this.options.hooks?.onAfterRequestVerify?.(user, token, context);
  }
  async onAfterVerify(user: U, context?: unknown): Promise<void> {
    await this.options.hooks?.onAfterVerify?.(user, context);
  }
  async onAfterForgotPassword(user: U, token: string, context?: unknown): Promise<void> {
    await this.options.hooks?.onAfterForgotPassword?.(user, token, context);
  }
  async onAfterResetPassword(user: U, context?: unknown): Promise<void> {
    await this.options.hooks?.onAfterResetPassword?.(user, context);
  }
  async onBeforeDelete(user: U, context?: unknown): Promise<void> {
    await this.options.hooks?.onBeforeDelete?.(user, context);
  }
  async onAfterDelete(user: U, context?: unknown): Promise<void> {
    await this.options.hooks?.onAfterDelete?.(user, context);
  }
  /**
   * A reused refresh token ended `session` (the strategy calls it): audited as
   * `token_theft`, then the hook runs.
   */
  async onTokenTheftDetected(user: U, session: Session<ID>, context?: unknown): Promise<void> {
    this.audit(
      user,
      { type: "token_theft", reason: "refresh_token_reused", sessionId: session.handle },
      context,
    );
    await this.options.hooks?.onTokenTheftDetected?.(user, session as Session<U["id"]>, context);
  }
  /**
   * Second-factor and passkey events (`@tessera/mfa`, `@tessera/passkeys` call it): the hook
   * runs, and a change of a factor ends the user's other sessions, keeping `current` (the
   * session that made it: its token, and its handle when known) — ASVS 5.0 7.4.3. Without
   * `current` every session ends (a change made by an administrator or a script).
   * `recovery_code_used` ends nothing: it is a login, not a change.
   */
  async onSecurityEvent(
    user: U,
    event: SecurityEvent,
    context?: unknown,
    current?: { token: string; handle?: string },
  ): Promise<void> {
    if (
      FACTOR_CHANGES.has(event.type) &&
      this.options.logoutOtherSessionsOnFactorChange !== false
    ) {
      await this.notifySessions(
        user,
        {
          kind: "factor",
          fields: [],
          revokeSessions: true,
          ...(current === undefined ? {} : { exceptToken: current.token }),
          ...(current?.handle === undefined ? {} : { exceptHandle: current.handle }),
        },
        context,
      );
    }
    this.audit(user, { type: "security_change", reason: event.type, detail: event }, context);
    await this.options.hooks?.onSecurityEvent?.(user, event, context);
  }
}
