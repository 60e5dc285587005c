import { randomUUID } from "node:crypto";
import {
  OAuthAccountAlreadyLinkedError,
  PasskeyAlreadyRegisteredError,
  UserAlreadyExistsError,
  UserNotExistsError,
  UserUpdateConflictError,
} from "../errors.js";
import type {
  MfaDatabase,
  MfaState,
  PasskeyCredential,
  RecoveryCode,
  TotpFactor,
} from "../mfa/models.js";
import type {
  AccessTokenCreate,
  AccessTokenDatabase,
  AccessTokenProtocol,
  AccessTokenRotation,
  AccessTokenUpdate,
  AccessTokenWithUserReader,
  UserCreateData,
  UserDatabase,
  UserProtocol,
  UserUpdateConditions,
  UserUpdateData,
} from "../models.js";
import { accessTokenExpiresAt, normalizeEmail } from "../models.js";
import type {
  OAuthAccount,
  OAuthAccountCreate,
  OAuthAccountDatabase,
  OAuthAccountUpdate,
} from "../oauth/models.js";
import type { JsonObject } from "../session/session.js";

/** A user as {@link MemoryUserDatabase} stores it: protocol fields plus any extras. */
export type MemoryUser = UserProtocol<string> & Record<string, unknown>;

/**
 * In-process {@link UserDatabase} with UUID ids, for tests and prototypes. Not for
 * production: nothing is persisted and nothing is shared between processes. It is the
 * reference the adapter conformance suite is checked against: emails are stored
 * normalized and unique, OAuth accounts unique by `(oauthName, accountId)`, passkeys unique
 * by credential id across users, every once-only MFA write conditional, and deleting a user
 * cascades to its OAuth accounts, second factors, passkeys and access tokens.
 */
export class MemoryUserDatabase
  implements
    UserDatabase<MemoryUser, string>,
    OAuthAccountDatabase<MemoryUser, string>,
    MfaDatabase<string>
{
  readonly users = new Map<string, MemoryUser>();
  /** OAuth accounts by link id, in creation order, with their user's id. */
  readonly oauthAccounts = new Map<string, OAuthAccount & { userId: string }>();
  private readonly byEmail = new Map<string, string>();
  /** Link id by `(oauthName, accountId)`: the unique index. */
  private readonly byOAuthKey = new Map<string, string>();
  private readonly deleteListeners: ((user: MemoryUser) => void)[] = [];
  /** Second factors by user id, as stored (the TOTP secret as the caller encrypted it). */
  readonly mfa = new Map<string, { totp: TotpFactor | null; recoveryCodes: RecoveryCode[] }>();
  /** Passkeys by credential id (the unique index), in registration order, with their owner. */
  readonly passkeys = new Map<string, { userId: string; credential: PasskeyCredential }>();

  async get(id: string): Promise<MemoryUser | null> {
    const user = this.users.get(id);
    return user ? { ...user } : null;
  }

  async getByEmail(email: string): Promise<MemoryUser | null> {
    const id = this.byEmail.get(normalizeEmail(email));
    return id ? this.get(id) : null;
  }

  async create(data: UserCreateData): Promise<MemoryUser> {
    const email = normalizeEmail(data.email);
    // The unique index decides, as a database would: check and insert in one tick.
    if (this.byEmail.has(email)) throw new UserAlreadyExistsError();
    const user: MemoryUser = { ...data, email, id: randomUUID() };
    this.users.set(user.id, user);
    this.byEmail.set(email, user.id);
    return { ...user };
  }

  async update(
    user: MemoryUser,
    data: UserUpdateData,
    conditions: UserUpdateConditions = {},
  ): Promise<MemoryUser> {
    const current = this.users.get(user.id);
    // Checked and written in one tick, as a database checks a WHERE clause in its write.
    if (
      conditions.expectedHashedPassword !== undefined &&
      current?.hashedPassword !== conditions.expectedHashedPassword
    ) {
      throw new UserUpdateConflictError();
    }
    if (!current) return { ...user, ...data };
    const changes = { ...data };
    if (data.email !== undefined) {
      const email = normalizeEmail(data.email);
      changes.email = email;
      if (email !== current.email) {
        if (this.byEmail.has(email)) throw new UserAlreadyExistsError();
        this.byEmail.delete(current.email);
        this.byEmail.set(email, current.id);
      }
    }
    const next = { ...current, ...changes, id: current.id };
    this.users.set(current.id, next);
    return { ...next };
  }

  async delete(user: MemoryUser): Promise<void> {
    const current = this.users.get(user.id);
    if (!current) return;
    this.users.delete(user.id);
    this.byEmail.delete(current.email);
    for (const [id, link] of this.oauthAccounts) {
      if (link.userId !== current.id) continue;
      this.oauthAccounts.delete(id);
      this.byOAuthKey.delete(oauthKey(link.oauthName, link.accountId));
    }
    this.mfa.delete(current.id);
    for (const [id, entry] of this.passkeys)
      if (entry.userId === current.id) this.passkeys.delete(id);
    for (const listener of this.deleteListeners) listener(current);
  }

  async getByOAuthAccount(oauthName: string, accountId: string): Promise<MemoryUser | null> {
    const id = this.byOAuthKey.get(oauthKey(oauthName, accountId));
    const link = id === undefined ? undefined : this.oauthAccounts.get(id);
    return link ? this.get(link.userId) : null;
  }

  async listOAuthAccounts(user: MemoryUser): Promise<OAuthAccount[]> {
    return [...this.oauthAccounts.values()]
      .filter((link) => link.userId === user.id)
      .map(withoutUserId);
  }

  async addOAuthAccount(user: MemoryUser, data: OAuthAccountCreate): Promise<OAuthAccount> {
    const key = oauthKey(data.oauthName, data.accountId);
    // The unique index decides, as a database would: check and insert in one tick.
    if (this.byOAuthKey.has(key)) throw new OAuthAccountAlreadyLinkedError();
    // As a foreign key would: no link to a user that is not (or no longer) stored.
    if (!this.users.has(user.id)) throw new UserNotExistsError();
    const link = {
      id: randomUUID(),
      oauthName: data.oauthName,
      accountId: data.accountId,
      accountEmail: normalizeEmail(data.accountEmail),
      accessToken: data.accessToken,
      expiresAt: data.expiresAt,
      refreshToken: data.refreshToken,
      userId: user.id,
    };
    this.oauthAccounts.set(link.id, link);
    this.byOAuthKey.set(key, link.id);
    return withoutUserId(link);
  }

  async updateOAuthAccount(
    user: MemoryUser,
    account: OAuthAccount,
    data: OAuthAccountUpdate,
  ): Promise<OAuthAccount> {
    const changes: OAuthAccountUpdate = {};
    if (data.accountEmail !== undefined) changes.accountEmail = normalizeEmail(data.accountEmail);
    if (data.accessToken !== undefined) changes.accessToken = data.accessToken;
    if (data.expiresAt !== undefined) changes.expiresAt = data.expiresAt;
    if (data.refreshToken !== undefined) changes.refreshToken = data.refreshToken;
    const current = this.oauthAccounts.get(account.id);
    // As `update` does for a user that is gone: nothing stored, the merge returned.
    if (!current || current.userId !== user.id) return { ...account, ...changes };
    const next = { ...current, ...changes };
    this.oauthAccounts.set(current.id, next);
    return withoutUserId(next);
  }

  async removeOAuthAccount(user: MemoryUser, account: OAuthAccount): Promise<boolean> {
    const current = this.oauthAccounts.get(account.id);
    if (!current || current.userId !== user.id) return false;
    this.oauthAccounts.delete(current.id);
    this.byOAuthKey.delete(oauthKey(current.oauthName, current.accountId));
    return true;
  }

  async getMfa(userId: string): Promise<MfaState> {
    const entry = this.mfa.get(userId);
    return {
      totp: entry?.totp ? copyTotp(entry.totp) : null,
      recoveryCodes: (entry?.recoveryCodes ?? []).map(copyRecoveryCode),
    };
  }

  async setTotp(userId: string, totp: TotpFactor | null): Promise<void> {
    // As a foreign key would: nothing stored for a user that is not (or no longer) stored.
    if (!this.users.has(userId)) return;
    const entry = this.mfaEntry(userId);
    entry.totp = totp ? copyTotp(totp) : null;
  }

  async advanceTotpStep(userId: string, step: number): Promise<boolean> {
    const totp = this.mfa.get(userId)?.totp;
    // Checked and written in one tick, as a database checks the WHERE clause of its UPDATE.
    if (!totp || totp.lastStep >= step) return false;
    totp.lastStep = step;
    return true;
  }

  async setRecoveryCodes(userId: string, hashes: readonly string[]): Promise<void> {
    if (!this.users.has(userId)) return;
    this.mfaEntry(userId).recoveryCodes = hashes.map((hash) => ({ hash, usedAt: null }));
  }

  async useRecoveryCode(userId: string, hash: string, at: Date): Promise<boolean> {
    const code = this.mfa.get(userId)?.recoveryCodes.find((c) => c.hash === hash);
    // Checked and written in one tick, as a database checks the WHERE clause of its UPDATE.
    if (!code || code.usedAt !== null) return false;
    code.usedAt = new Date(at.getTime());
    return true;
  }

  async listPasskeys(userId: string): Promise<PasskeyCredential[]> {
    return [...this.passkeys.values()]
      .filter((entry) => entry.userId === userId)
      .map((entry) => copyPasskey(entry.credential));
  }

  async getPasskey(
    credentialId: string,
  ): Promise<{ userId: string; credential: PasskeyCredential } | null> {
    const entry = this.passkeys.get(credentialId);
    return entry ? { userId: entry.userId, credential: copyPasskey(entry.credential) } : null;
  }

  async addPasskey(userId: string, credential: PasskeyCredential): Promise<void> {
    // The unique index decides, as a database would: check and insert in one tick.
    if (this.passkeys.has(credential.id)) throw new PasskeyAlreadyRegisteredError();
    if (!this.users.has(userId)) throw new UserNotExistsError();
    this.passkeys.set(credential.id, { userId, credential: copyPasskey(credential) });
  }

  async updatePasskeyCounter(
    credentialId: string,
    expectedCounter: number,
    counter: number,
    at: Date,
  ): Promise<boolean> {
    const entry = this.passkeys.get(credentialId);
    // Checked and written in one tick, as a database checks the WHERE clause of its UPDATE.
    if (!entry || entry.credential.counter !== expectedCounter) return false;
    entry.credential = { ...entry.credential, counter, lastUsedAt: new Date(at.getTime()) };
    return true;
  }

  async removePasskey(userId: string, credentialId: string): Promise<boolean> {
    const entry = this.passkeys.get(credentialId);
    if (!entry || entry.userId !== userId) return false;
    this.passkeys.delete(credentialId);
    return true;
  }

  private mfaEntry(userId: string): { totp: TotpFactor | null; recoveryCodes: RecoveryCode[] } {
    let entry = this.mfa.get(userId);
    if (!entry) {
      entry = { totp: null, recoveryCodes: [] };
      this.mfa.set(userId, entry);
    }
    return entry;
  }

  /**
   * Runs `listener` after each deletion; {@link MemoryAccessTokenDatabase} uses it to
   * cascade, as a foreign key with `ON DELETE CASCADE` would.
   */
  onDelete(listener: (user: MemoryUser) => void): void {
    this.deleteListeners.push(listener);
  }
}

/** In-process {@link AccessTokenDatabase}, for tests; joins with a {@link MemoryUserDatabase}. */
export class MemoryAccessTokenDatabase
  implements
    AccessTokenDatabase<AccessTokenProtocol<string>, string>,
    AccessTokenWithUserReader<AccessTokenProtocol<string>, MemoryUser, string>
{
  readonly tokens = new Map<string, AccessTokenProtocol<string>>();

  /** With `users`, tokens join their user and are deleted with it. */
  constructor(private readonly users?: MemoryUserDatabase) {
    users?.onDelete((user) => {
      for (const [digest, at] of this.tokens) if (at.userId === user.id) this.tokens.delete(digest);
    });
  }

  async getByToken(digest: string): Promise<AccessTokenProtocol<string> | null> {
    const at = this.tokens.get(digest);
    return at ? copy(at) : null;
  }

  async getByTokenWithUser(
    digest: string,
  ): Promise<{ accessToken: AccessTokenProtocol<string>; user: MemoryUser } | null> {
    const accessToken = await this.getByToken(digest);
    const user = accessToken && (await this.users?.get(accessToken.userId));
    return accessToken && user ? { accessToken, user } : null;
  }

  async getByHandle(handle: string): Promise<AccessTokenProtocol<string> | null> {
    for (const at of this.tokens.values()) if (at.handle === handle) return copy(at);
    return null;
  }

  async updateByHandle(
    handle: string,
    fields: Pick<AccessTokenUpdate, "data" | "claims">,
    live?: { now: Date; maxLifetimeSeconds: number },
  ): Promise<boolean> {
    for (const [digest, at] of this.tokens) {
      if (at.handle !== handle) continue;
      if (live && !isLiveAt(at, live)) return false;
      const changes: AccessTokenUpdate = {};
      if (fields.data !== undefined) changes.data = fields.data;
      if (fields.claims !== undefined) changes.claims = fields.claims;
      this.tokens.set(digest, { ...at, ...copy(changes) });
      return true;
    }
    return false;
  }

  async mergeDataByHandle(
    handle: string,
    patch: JsonObject,
    maxBytes: number,
    live: { now: Date; maxLifetimeSeconds: number },
  ): Promise<JsonObject | null> {
    for (const [digest, at] of this.tokens) {
      if (at.handle !== handle) continue;
      if (!isLiveAt(at, live)) return null;
      // Read, merged and written in one tick, as a database computes it in its UPDATE.
      const merged: JsonObject = { ...at.data };
      for (const [key, value] of Object.entries(patch)) {
        if (value === null) delete merged[key];
        else merged[key] = structuredClone(value);
      }
      if (Buffer.byteLength(JSON.stringify(merged)) > maxBytes) return null;
      this.tokens.set(digest, { ...at, data: merged });
      return structuredClone(merged);
    }
    return null;
  }

  async rotateRefresh(
    digest: string,
    expected: string,
    rotation: AccessTokenRotation,
  ): Promise<boolean> {
    const at = this.tokens.get(digest);
    // Checked and written in one tick, as a database checks the WHERE clause of its UPDATE.
    if (!at || at.refreshDigest == null || at.refreshDigest !== expected) return false;
    const { refreshDigest, refreshParentDigest, lifetimeSeconds, lastUsedAt } = rotation;
    this.tokens.set(digest, {
      ...at,
      refreshDigest,
      refreshParentDigest,
      lifetimeSeconds,
      lastUsedAt: new Date(lastUsedAt.getTime()),
    });
    return true;
  }

  async create(data: AccessTokenCreate<string>): Promise<AccessTokenProtocol<string>> {
    const at = copy(data);
    this.tokens.set(at.token, at);
    return copy(at);
  }

  async update(
    accessToken: AccessTokenProtocol<string>,
    data: AccessTokenUpdate,
  ): Promise<AccessTokenProtocol<string>> {
    const changes = copy(data as AccessTokenProtocol<string>);
    const stored = this.tokens.get(accessToken.token);
    if (stored) this.tokens.set(accessToken.token, { ...stored, ...changes });
    return copy({ ...accessToken, ...changes });
  }

  async delete(accessToken: AccessTokenProtocol<string>): Promise<void> {
    this.tokens.delete(accessToken.token);
  }

  async deleteAllForUser(userId: string, options: { exceptDigest?: string } = {}): Promise<void> {
    for (const [digest, at] of this.tokens) {
      if (at.userId === userId && digest !== options.exceptDigest) this.tokens.delete(digest);
    }
  }

  async listByUser(userId: string): Promise<AccessTokenProtocol<string>[]> {
    return [...this.tokens.values()].filter((at) => at.userId === userId).map(copy);
  }

  async deleteExpired(now: Date): Promise<number> {
    let count = 0;
    for (const [digest, at] of this.tokens) {
      if (accessTokenExpiresAt(at) <= now) {
        this.tokens.delete(digest);
        count++;
      }
    }
    return count;
  }
}

// The unique index's key; JSON keeps ("a:b", "c") and ("a", "b:c") apart.
const oauthKey = (oauthName: string, accountId: string): string =>
  JSON.stringify([oauthName, accountId]);

function withoutUserId({ userId: _, ...link }: OAuthAccount & { userId: string }): OAuthAccount {
  return link;
}

// Second-factor rows are copied in and out too, dates included.
const copyDate = (date: Date | null): Date | null => (date ? new Date(date.getTime()) : null);
const copyTotp = (totp: TotpFactor): TotpFactor => ({
  secret: totp.secret,
  confirmedAt: copyDate(totp.confirmedAt),
  lastStep: totp.lastStep,
});
const copyRecoveryCode = (code: RecoveryCode): RecoveryCode => ({
  hash: code.hash,
  usedAt: copyDate(code.usedAt),
});
const copyPasskey = (credential: PasskeyCredential): PasskeyCredential => ({
  ...credential,
  transports: [...credential.transports],
  createdAt: new Date(credential.createdAt.getTime()),
  lastUsedAt: copyDate(credential.lastUsedAt),
});

// Live at `now`: neither its idle lifetime nor the absolute cap is over.
function isLiveAt(
  at: AccessTokenProtocol<string>,
  live: { now: Date; maxLifetimeSeconds: number },
): boolean {
  const created = at.createdAt.getTime();
  const cap = created + live.maxLifetimeSeconds * 1000;
  return live.now.getTime() < Math.min(accessTokenExpiresAt(at).getTime(), cap);
}

// Rows are copied in and out, JSON fields deeply, as a database would: a caller changing
// what it got back changes nothing stored.
function copy<T extends { data?: unknown; claims?: unknown }>(row: T): T {
  const out = { ...row };
  if (row.data) out.data = structuredClone(row.data);
  if (row.claims) out.claims = structuredClone(row.claims);
  return out;
}
