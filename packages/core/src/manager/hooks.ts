import type { UserProtocol, UserUpdate } from "../models.js";
import type { Session } from "../session/session.js";

/**
 * Lifecycle hooks of the user manager, in FastAPI Users' order and meaning. `context`
 * is whatever the HTTP layer passes (the Koa context); it is undefined when the manager
 * is called from a script. Hooks run after the change is stored; a throwing hook
 * fails the request but does not undo the change (except `onBeforeDelete`).
 */
export interface UserManagerHooks<U extends UserProtocol<unknown>> {
  onAfterRegister(user: U, context?: unknown): Promise<void> | void;
  onAfterLogin(user: U, context?: unknown): Promise<void> | void;
  onAfterUpdate(user: U, update: UserUpdate, context?: unknown): Promise<void> | void;
  /** Send `token` to the user (e.g. in a link); it is never returned over HTTP. */
  onAfterRequestVerify(user: U, token: string, context?: unknown): Promise<void> | void;
  onAfterVerify(user: U, context?: unknown): Promise<void> | void;
  /** Send `token` to the user (e.g. in a link); it is never returned over HTTP. */
  onAfterForgotPassword(user: U, token: string, context?: unknown): Promise<void> | void;
  onAfterResetPassword(user: U, context?: unknown): Promise<void> | void;
  /** Throw to veto the deletion. */
  onBeforeDelete(user: U, context?: unknown): Promise<void> | void;
  onAfterDelete(user: U, context?: unknown): Promise<void> | void;
  /**
   * A refresh token was presented after its child had been used: it was copied, so the
   * session has been ended (`REFRESH_TOKEN_REUSED`). Tell the user (a mail: "someone used
   * your session from …"); `session` is the one that ended, with its device.
   */
  onTokenTheftDetected(user: U, session: Session<U["id"]>, context?: unknown): Promise<void> | void;
  /**
   * A second factor or passkey of the user changed or was used in a way the user should
   * hear of (ASVS 5.0 6.3.6): send a mail, write an audit log. Called after the change is
   * stored, with what changed in `event`.
   */
  onSecurityEvent(user: U, event: SecurityEvent, context?: unknown): Promise<void> | void;
}

/**
 * What {@link UserManagerHooks.onSecurityEvent} is told, one variant per `type`:
 * - `mfa_enabled`: a TOTP factor was confirmed with a first code.
 * - `mfa_disabled`: the TOTP factor (and its recovery codes) was removed, after a code or
 *   the password (`by`).
 * - `recovery_code_used`: a recovery code was spent; `remaining` unused ones are left.
 * - `recovery_codes_regenerated`: a new set of `count` codes replaced the old one.
 * - `passkey_added` / `passkey_removed`: a WebAuthn credential, by its id and name.
 */
export type SecurityEvent =
  | { type: "mfa_enabled"; factor: "totp" }
  | { type: "mfa_disabled"; factor: "totp"; by: "code" | "password" }
  | { type: "recovery_code_used"; remaining: number }
  | { type: "recovery_codes_regenerated"; count: number }
  | { type: "passkey_added"; credentialId: string; name: string }
  | { type: "passkey_removed"; credentialId: string; name: string };

/** The `type` of a {@link SecurityEvent}. */
export type SecurityEventType = SecurityEvent["type"];

/** Keys of {@link UserManagerHooks}. */
export type UserManagerHookName = keyof UserManagerHooks<UserProtocol<unknown>>;
