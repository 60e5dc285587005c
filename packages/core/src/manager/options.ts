import type { AuditSink } from "../audit/events.js";
import type { InvalidCurrentPasswordError } from "../errors.js";
import type { IdParser } from "../id.js";
import type { UserDatabase, UserProtocol } from "../models.js";
import type { PasswordHelper, PasswordHelperProtocol } from "../password/password-helper.js";
import type { PasswordPolicyOptions } from "../password/password-policy.js";
import type { AccountTokenOptions } from "./account-tokens.js";
import type { UserManagerHooks } from "./hooks.js";
import type { StrategySource } from "./session-sync.js";
import type { UserManager } from "./user-manager.js";

/**
 * Options of {@link UserManager}: the verification and reset-password tokens' secrets,
 * lifetimes and audiences ({@link AccountTokenOptions}), and these.
 */
export interface UserManagerOptions<U extends UserProtocol<ID>, ID> extends AccountTokenOptions {
  /** Where users live (often request-scoped). */
  userDb: UserDatabase<U, ID>;
  /** @default uuidIdParser */
  idParser?: IdParser<ID>;
  /** @default a shared argon2id {@link PasswordHelper} */
  passwordHelper?: PasswordHelperProtocol;
  /** The default `validatePassword`'s rules: length bounds, common/forbidden/breached lists. */
  passwordPolicy?: PasswordPolicyOptions;
  /** Lifecycle hooks; a subclass may override the methods instead. */
  hooks?: Partial<UserManagerHooks<U>>;
  /**
   * When users change their own password (`update` with `currentToken`, as
   * `PATCH /users/me` does), end their other sessions in every backend and keep the one
   * that made the change (ASVS 5.0 7.4.3). `false` keeps every session. A reset, a change
   * by someone else (a superuser, a script), a deactivation and a deletion always end them all.
   * @default true
   */
  logoutOtherSessionsOnPasswordChange?: boolean;
  /**
   * A change of a second factor (TOTP enabled or disabled, recovery codes regenerated, a
   * passkey added or removed) ends the user's other sessions, keeping the one that made it
   * (ASVS 5.0 7.4.3). `false` keeps them all.
   * @default true
   */
  logoutOtherSessionsOnFactorChange?: boolean;
  /**
   * The app's authentication backends. Their strategies hear of every change made
   * through this manager: a password change or reset, a deactivation and a deletion end
   * the user's sessions everywhere. `@tessera/koa` attaches its backends by itself.
   * @default none (until attached)
   */
  backends?: readonly StrategySource<U, ID>[];
  /**
   * Where this manager's audit events go (sessions ended by a change, token theft,
   * second-factor changes): for a manager used from a script. Under `@tessera/koa` give
   * `Tessera`'s `onAuditEvent` instead, which every request's manager gets (this one, when
   * set, wins over it). See `docs/audit.md`.
   * @default none (until `attachAudit`)
   */
  onAuditEvent?: AuditSink;
}

/** Options of calls that can come from a client. */
export interface CallOptions {
  /** Drop `isActive`, `isSuperuser`, `isVerified` from the input (public routes). */
  safe?: boolean;
  /** Passed to hooks (the HTTP context). */
  context?: unknown;
}

/** Options of {@link UserManager.update}. */
export interface UpdateOptions extends CallOptions {
  /**
   * Changing `password` or `email` needs the user's current password: a missing or wrong
   * one throws {@link InvalidCurrentPasswordError} (ASVS 5.0 6.2.3, 7.5.1). For
   * self-service changes (`PATCH /users/me`); an admin's change does not ask for it.
   * @default false
   */
  requireCurrentPassword?: boolean;
  /** The user's current password, checked when `requireCurrentPassword` asks for it. */
  currentPassword?: string | null;
  /**
   * The token of the session making the change: after a password change the user's other
   * sessions end and this one stays (see `logoutOtherSessionsOnPasswordChange`).
   * Without it a password change ends every session.
   */
  currentToken?: string;
  /**
   * With `currentToken`: the handle of its session (`ctx.state.session.handle`), so a
   * strategy holding that session under another strategy's token keeps it too.
   */
  currentSessionHandle?: string;
}

/** Username/password pair of a login; `username` is the email. */
export interface Credentials {
  username: string;
  password: string;
}
