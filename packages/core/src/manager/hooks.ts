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
}

/** Keys of {@link UserManagerHooks}. */
export type UserManagerHookName = keyof UserManagerHooks<UserProtocol<unknown>>;
