import {
  OAuthAccountAlreadyLinkedError,
  OAuthNotSupportedError,
  UserAlreadyExistsError,
} from "../errors.js";
import {
  normalizeEmail,
  type UserDatabase,
  type UserProtocol,
  type UserUpdate,
} from "../models.js";
import {
  isOAuthAccountDatabase,
  type OAuthAccount,
  type OAuthAccountCreate,
  type OAuthAccountDatabase,
  type OAuthAccountUpdate,
  type OAuthCallbackInput,
  type OAuthCallbackOptions,
} from "../oauth/models.js";
import type { PasswordHelperProtocol } from "../password/password-helper.js";

/** What the OAuth logic needs of `UserManager` (its database, password helper and hooks). */
export interface OAuthManagerPort<U extends UserProtocol<ID>, ID> {
  readonly userDb: UserDatabase<U, ID>;
  readonly passwordHelper: PasswordHelperProtocol;
  findByEmail(email: string): Promise<U | null>;
  onAfterRegister(user: U, context?: unknown): Promise<void>;
  onAfterUpdate(user: U, update: UserUpdate, context?: unknown): Promise<void>;
}

type OAuthUsers<U extends UserProtocol<ID>, ID> = UserDatabase<U, ID> & OAuthAccountDatabase<U, ID>;

// How long a login that lost the race to create the user waits for the winner's link: the
// winner creates the user, then links it, one round trip later. Doubling waits, ~1.3 s in
// all. A login about to be refused because the email is taken waits ~0.3 s: refusals are
// common, and that user is a parallel login's only when both started within that time.
const LINK_WAITS_MS = [5, 10, 20, 40, 80, 160, 320, 640];
const REFUSAL_LINK_WAITS_MS = LINK_WAITS_MS.slice(0, 6);

/** The manager's database as an {@link OAuthAccountDatabase}; throws {@link OAuthNotSupportedError}. */
export function oauthDatabase<U extends UserProtocol<ID>, ID>(
  userDb: UserDatabase<U, ID>,
): OAuthUsers<U, ID> {
  if (isOAuthAccountDatabase(userDb)) return userDb;
  throw new OAuthNotSupportedError(
    "The UserManager's user database keeps no OAuth accounts: give it a user database that " +
      "implements OAuthAccountDatabase (getByOAuthAccount, listOAuthAccounts, addOAuthAccount, " +
      "updateOAuthAccount, removeOAuthAccount) — db-mikroorm's or db-mongo's with OAuth " +
      "accounts configured, or MemoryUserDatabase in tests",
  );
}

/** `UserManager.oauthCallback`: see its TSDoc. */
export async function oauthCallback<U extends UserProtocol<ID>, ID>(
  manager: OAuthManagerPort<U, ID>,
  input: OAuthCallbackInput,
  options: OAuthCallbackOptions = {},
): Promise<U> {
  const db = oauthDatabase(manager.userDb);
  const link = linkData(input);
  const linked = await db.getByOAuthAccount(input.oauthName, input.accountId);
  if (linked) return refreshLink(db, linked, input);

  const existing = await manager.findByEmail(link.accountEmail);
  if (existing) return associateByEmail(manager, db, existing, input, options);

  // A first login: a user with a random password nobody knows (its hash is a real one, so
  // password login fails like any wrong password until a reset sets one).
  let user: U;
  try {
    user = await db.create({
      email: link.accountEmail,
      hashedPassword: await manager.passwordHelper.hash(manager.passwordHelper.generate()),
      isActive: true,
      isSuperuser: false,
      isVerified: options.isVerifiedByDefault === true && input.emailVerified === true,
    });
  } catch (error) {
    if (!(error instanceof UserAlreadyExistsError)) throw error;
    // Another request created a user with this email first: most often a parallel first
    // login of this very account (two tabs, a double click), which links it one round trip
    // later. Its user is the answer; any other owner of the email gets the email rules.
    const winner = await waitForLink(db, input, LINK_WAITS_MS);
    if (winner) return refreshLink(db, winner, input);
    const owner = await manager.findByEmail(link.accountEmail);
    if (owner) return associateByEmail(manager, db, owner, input, options, true);
    throw error;
  }
  try {
    await db.addOAuthAccount(user, link);
  } catch (error) {
    const winner =
      error instanceof OAuthAccountAlreadyLinkedError
        ? await db.getByOAuthAccount(input.oauthName, input.accountId)
        : null;
    // A parallel login that gave up waiting linked the account to this very user: done.
    if (!winner || !sameId(winner.id, user.id)) {
      // Not linked, the user would hold the email with a password nobody knows: undo it.
      // (A failing delete must not hide the error that matters: the link's.)
      await db.delete(user).catch(() => undefined);
      if (!winner) throw error;
      return refreshLink(db, winner, input);
    }
  }
  await manager.onAfterRegister(user, options.context);
  return user;
}

/** `UserManager.oauthAssociateCallback`: see its TSDoc. */
export async function oauthAssociateCallback<U extends UserProtocol<ID>, ID>(
  manager: OAuthManagerPort<U, ID>,
  user: U,
  input: OAuthCallbackInput,
  context?: unknown,
): Promise<U> {
  const db = oauthDatabase(manager.userDb);
  try {
    await db.addOAuthAccount(user, linkData(input));
  } catch (error) {
    if (!(error instanceof OAuthAccountAlreadyLinkedError)) throw error;
    const owner = await db.getByOAuthAccount(input.oauthName, input.accountId);
    // Linked to someone else (or unlinked in between): the account stays where it is.
    if (!owner || !sameId(owner.id, user.id)) throw error;
    await refreshLink(db, owner, input);
  }
  await manager.onAfterUpdate(user, {}, context);
  return user;
}

/** `UserManager.removeOAuthAccount`: see its TSDoc. */
export async function removeOAuthAccount<U extends UserProtocol<ID>, ID>(
  manager: OAuthManagerPort<U, ID>,
  user: U,
  id: string,
  context?: unknown,
): Promise<boolean> {
  const db = oauthDatabase(manager.userDb);
  const account = (await db.listOAuthAccounts(user)).find((a) => a.id === id);
  if (!account || !(await db.removeOAuthAccount(user, account))) return false;
  await manager.onAfterUpdate(user, {}, context);
  return true;
}

// What a login stores of the provider's answer.
function linkData(input: OAuthCallbackInput): OAuthAccountCreate {
  if (typeof input.accountEmail !== "string" || !input.accountEmail.includes("@")) {
    // The flow answers OAUTH_NOT_AVAILABLE_EMAIL before calling the manager.
    throw new TypeError("oauthCallback needs the provider account's email (accountEmail)");
  }
  return {
    oauthName: input.oauthName,
    accountId: input.accountId,
    accountEmail: normalizeEmail(input.accountEmail),
    accessToken: input.accessToken,
    expiresAt: input.expiresAt ?? null,
    refreshToken: input.refreshToken ?? null,
  };
}

// The linked user, after writing this login's tokens and email to the link.
async function refreshLink<U extends UserProtocol<ID>, ID>(
  db: OAuthUsers<U, ID>,
  user: U,
  input: OAuthCallbackInput,
): Promise<U> {
  const account = (await db.listOAuthAccounts(user)).find(
    (a: OAuthAccount) => a.oauthName === input.oauthName && a.accountId === input.accountId,
  );
  if (account) {
    const update: OAuthAccountUpdate = {
      accountEmail: normalizeEmail(input.accountEmail),
      accessToken: input.accessToken,
      expiresAt: input.expiresAt ?? null,
    };
    // No new refresh token: the stored one still works (RFC 6749 §6) and is kept.
    if (input.refreshToken != null) update.refreshToken = input.refreshToken;
    await db.updateOAuthAccount(user, account, update);
  }
  return user;
}

// An unknown provider account whose email is a user's.
async function associateByEmail<U extends UserProtocol<ID>, ID>(
  manager: OAuthManagerPort<U, ID>,
  db: OAuthUsers<U, ID>,
  user: U,
  input: OAuthCallbackInput,
  options: OAuthCallbackOptions,
  waited = false,
): Promise<U> {
  // Only a provider's verified email proves the address is the user's: an unverified one
  // would hand anyone who types the victim's address at the provider their account.
  if (!options.associateByEmail || input.emailVerified !== true) {
    // The user may be a parallel first login's of this very account, created and not yet
    // linked: then its user is the answer, not a refusal.
    const winner = waited ? null : await waitForLink(db, input, REFUSAL_LINK_WAITS_MS);
    if (winner) return refreshLink(db, winner, input);
    throw new UserAlreadyExistsError();
  }
  try {
    await db.addOAuthAccount(user, linkData(input));
  } catch (error) {
    if (!(error instanceof OAuthAccountAlreadyLinkedError)) throw error;
    // A parallel login linked it first: whoever it went to is the answer.
    const winner = await db.getByOAuthAccount(input.oauthName, input.accountId);
    if (!winner) throw error;
    return refreshLink(db, winner, input);
  }
  await manager.onAfterUpdate(user, {}, options.context);
  return user;
}

// The user this account is linked to, waiting a little for a parallel login to link it.
async function waitForLink<U extends UserProtocol<ID>, ID>(
  db: OAuthUsers<U, ID>,
  input: OAuthCallbackInput,
  waits: readonly number[],
): Promise<U | null> {
  for (const ms of [0, ...waits]) {
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
    const user = await db.getByOAuthAccount(input.oauthName, input.accountId);
    if (user) return user;
  }
  return null;
}

// Ids compared by value: ObjectId-like ids are objects.
function sameId(a: unknown, b: unknown): boolean {
  return a === b || String(a) === String(b);
}
