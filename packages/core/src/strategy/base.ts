import type { UserManager } from "../manager/user-manager.js";
import type { UserProtocol } from "../models.js";

export { StrategyDestroyNotSupportedError } from "../errors.js";

/**
 * How a token is made, checked and destroyed. An invalid, expired or unknown token
 * reads as `null`, never an exception; a backing service that is down throws
 * `ServiceUnavailableError`.
 */
export interface Strategy<U extends UserProtocol<ID>, ID = U["id"]> {
  /** The user `token` authenticates, or null. */
  readToken(token: string | null, userManager: UserManager<U, ID>): Promise<U | null>;
  /** Issues a new token for `user` (a login). */
  writeToken(user: U): Promise<string>;
  /** Destroys one token (a logout); throws `StrategyDestroyNotSupportedError` if it cannot. */
  destroyToken(token: string, user: U): Promise<void>;
  /** Destroys every token of `user` (log out everywhere); may throw `StrategyDestroyNotSupportedError`. */
  destroyAllTokens(user: U): Promise<void>;
}
