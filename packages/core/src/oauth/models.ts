/**
 * OAuth accounts: a user's links to provider accounts (FastAPI Users' `OAuthAccount`,
 * `oauth_accounts`), the storage contract adapters implement, and what the user manager's
 * `oauthCallback` receives. Provider tokens arrive here already encrypted by the OAuth flow
 * (`@tessera/oauth`): adapters store them as opaque strings.
 */
import type { UserDatabase, UserProtocol } from "../models.js";

/** A provider account linked to a user, at rest. */
export interface OAuthAccount {
  /** The adapter's id of the link (a string in every adapter). */
  id: string;
  /** The provider's name in this app (`google`, `github`, `my-oidc`). */
  oauthName: string;
  /** The account's id at the provider (OIDC `sub`, GitHub's numeric id as a string). */
  accountId: string;
  /** The account's email at the provider, normalized. */
  accountEmail: string;
  /** The provider's access token, encrypted at rest by the OAuth flow (opaque here). */
  accessToken: string;
  /** When the provider's access token expires, in epoch seconds; null when unknown. */
  expiresAt: number | null;
  /** The provider's refresh token, encrypted at rest; null when none was issued. */
  refreshToken: string | null;
}

/** What links a provider account: every field but the adapter's id. */
export type OAuthAccountCreate = Omit<OAuthAccount, "id">;

/** What an update of a link may change (a login refreshes tokens and the email). */
export type OAuthAccountUpdate = Partial<
  Pick<OAuthAccount, "accountEmail" | "accessToken" | "expiresAt" | "refreshToken">
>;

/**
 * The OAuth part of a user database (FastAPI Users' `get_by_oauth_account`,
 * `add_oauth_account`, `update_oauth_account`), implemented by the user databases of
 * db-mikroorm (an `oauth_accounts` table / collection) and db-mongo (embedded in the user
 * document). `(oauthName, accountId)` is unique across all users: the database decides races.
 * `accountEmail` is stored normalized (`normalizeEmail`), tokens exactly as given (opaque
 * strings of up to 4 KiB), `expiresAt` as given (null or integer epoch seconds beyond 2038).
 * Deleting a user deletes their links. `describeAdapterConformance` checks all of it.
 */
export interface OAuthAccountDatabase<U extends UserProtocol<ID>, ID = U["id"]> {
  /** The user linked to this provider account, or null. */
  getByOAuthAccount(oauthName: string, accountId: string): Promise<U | null>;
  /** The user's links, oldest first (an empty array when none). */
  listOAuthAccounts(user: U): Promise<OAuthAccount[]>;
  /**
   * Links a provider account to `user`. Throws `OAuthAccountAlreadyLinkedError` when that
   * `(oauthName, accountId)` is linked already (to anyone: the unique index decides).
   */
  addOAuthAccount(user: U, data: OAuthAccountCreate): Promise<OAuthAccount>;
  /**
   * Writes `data` to the user's link `account` (tokens refreshed at a login); fields absent
   * from `data` are kept. Returns the link as stored.
   */
  updateOAuthAccount(
    user: U,
    account: OAuthAccount,
    data: OAuthAccountUpdate,
  ): Promise<OAuthAccount>;
  /** Unlinks `account` from `user`; false when it was not the user's. */
  removeOAuthAccount(user: U, account: OAuthAccount): Promise<boolean>;
}

/** What the OAuth flow learnt at the provider, for `UserManager.oauthCallback`. */
export interface OAuthCallbackInput {
  oauthName: string;
  accountId: string;
  /** The provider's email for the account (normalized by the manager and the adapter). */
  accountEmail: string;
  /**
   * The provider says the email is verified (OIDC `email_verified`, GitHub's verified
   * primary email). Only a verified email may associate with an existing user.
   */
  emailVerified: boolean;
  /** Encrypted by the flow. */
  accessToken: string;
  /** When the access token expires, in epoch seconds; null or absent when the provider did not say. */
  expiresAt?: number | null;
  /**
   * Encrypted by the flow. Null or absent keeps the refresh token stored for the link: a
   * provider that issues one only at first consent (Google) does not lose it at the next login.
   */
  refreshToken?: string | null;
}

/** Options of `UserManager.oauthCallback` (FastAPI Users' router options). */
export interface OAuthCallbackOptions {
  /**
   * An unknown provider account whose **verified** email is a user's links to that user
   * (else `OAUTH_USER_ALREADY_EXISTS`). Off by default, as FastAPI Users: turning it on
   * trusts the provider's verification of the address.
   * @default false
   */
  associateByEmail?: boolean;
  /** A user created by a first OAuth login is verified. @default false */
  isVerifiedByDefault?: boolean;
  /** Passed to hooks (the HTTP context). */
  context?: unknown;
}

/**
 * True when `db` keeps OAuth accounts (implements every {@link OAuthAccountDatabase} verb).
 * `UserManager`'s OAuth methods use it and throw `OAuthNotSupportedError` otherwise.
 *
 * @example
 * if (!isOAuthAccountDatabase(userDb)) throw new Error("configure OAuth accounts in the adapter");
 */
export function isOAuthAccountDatabase<U extends UserProtocol<ID>, ID = U["id"]>(
  db: UserDatabase<U, ID>,
): db is UserDatabase<U, ID> & OAuthAccountDatabase<U, ID> {
  const candidate = db as Partial<Record<keyof OAuthAccountDatabase<U, ID>, unknown>>;
  return OAUTH_ACCOUNT_DATABASE_VERBS.every((verb) => typeof candidate[verb] === "function");
}

/** The verbs of {@link OAuthAccountDatabase}: what an adapter defines to keep OAuth accounts. */
export const OAUTH_ACCOUNT_DATABASE_VERBS = [
  "getByOAuthAccount",
  "listOAuthAccounts",
  "addOAuthAccount",
  "updateOAuthAccount",
  "removeOAuthAccount",
] as const satisfies readonly (keyof OAuthAccountDatabase<UserProtocol<unknown>>)[];
