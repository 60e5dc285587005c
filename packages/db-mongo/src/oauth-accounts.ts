// The OAuthAccountDatabase verbs of MongoUserDatabase. Links live in the user document
// (`oauth_accounts`); which user holds a provider account is decided by a key document per
// `(oauth_name, account_id)` in a collection of its own, whose `_id` every MongoDB-protocol
// server keeps unique. A unique multikey index on the embedded pair (ensureIndexes) is the
// second line on MongoDB; FerretDB v1 accepts that index but does not enforce it per array
// element, and lacks `$elemMatch` on fields, positional `$` updates, `arrayFilters` and
// `$pull` by condition. So every write here uses only what both servers have: `_id`
// uniqueness, dotted paths with an array index, and compare-and-set on the whole array.
// See docs/packages/db-mongo.md, "OAuth accounts".
import { randomUUID } from "node:crypto";
import {
  normalizeEmail,
  type OAuthAccount,
  OAuthAccountAlreadyLinkedError,
  type OAuthAccountCreate,
  type OAuthAccountUpdate,
  UserNotExistsError,
} from "@tessera/core";
import type { ClientSession, Collection, Filter, UpdateFilter } from "mongodb";
import { isDuplicateKeyError, runDriver, translateDriverError } from "./driver-errors.js";
import type { MongoStoredId } from "./ids.js";
import type { MongoUserDocument } from "./user-document.js";

/**
 * A provider account linked to a user, as embedded in the user document's `oauth_accounts`
 * array (oldest first).
 *
 * @example
 * const doc = await users.findOne({ "oauth_accounts.oauth_name": "google" });
 * const links: MongoOAuthAccountDocument[] = doc?.oauth_accounts ?? [];
 */
export interface MongoOAuthAccountDocument {
  /** The link's id: a random UUID. */
  id: string;
  oauth_name: string;
  account_id: string;
  /** Normalized with core's `normalizeEmail`. */
  account_email: string;
  /** Encrypted by the OAuth flow; opaque here. */
  access_token: string;
  /** Epoch seconds, or null. */
  expires_at: number | null;
  /** Encrypted by the OAuth flow, or null. */
  refresh_token: string | null;
}

/**
 * The key document of one linked provider account, in the collection given as
 * `oauthAccountKeyCollection`: its `_id` is the JSON array `[oauth_name, account_id]`, so the
 * server's `_id` uniqueness decides which user holds the account, on every MongoDB-protocol
 * server (FerretDB v1 included).
 *
 * @example
 * const keys = db.collection<MongoOAuthAccountKeyDocument>("oauth_account_keys");
 */
export interface MongoOAuthAccountKeyDocument {
  /** `JSON.stringify([oauth_name, account_id])`. */
  _id: string;
  /** The `_id` of the user holding the account. */
  user_id: MongoStoredId;
  /** When the key was taken (a key whose user never stored the link is reclaimed after a minute). */
  created_at: Date;
}

/** A key whose user does not hold the link is an add in flight for this long, then stale. */
export const KEY_GRACE_MS = 60_000;
/** Compare-and-set attempts before a write under constant contention gives up. */
const ATTEMPTS = 8;
/** The longest provider name or account id looked up (OIDC `sub` is at most 255 ASCII characters). */
const MAX_KEY = 1024;

const keyOf = (oauthName: string, accountId: string) => JSON.stringify([oauthName, accountId]);

const isKeyPart = (value: unknown): value is string =>
  typeof value === "string" && value.length > 0 && value.length <= MAX_KEY;

const holds = (doc: { oauth_accounts?: unknown } | null, oauthName: string, accountId: string) =>
  linksOf(doc).some((l) => l.oauth_name === oauthName && l.account_id === accountId);

function linksOf(doc: { oauth_accounts?: unknown } | null): MongoOAuthAccountDocument[] {
  const links = doc?.oauth_accounts;
  return Array.isArray(links) ? (links as MongoOAuthAccountDocument[]) : [];
}

/** The app's view of an embedded link. */
export function fromOAuthAccountDocument(doc: MongoOAuthAccountDocument): OAuthAccount {
  return {
    id: doc.id,
    oauthName: doc.oauth_name,
    accountId: doc.account_id,
    accountEmail: doc.account_email,
    accessToken: doc.access_token,
    expiresAt: doc.expires_at ?? null,
    refreshToken: doc.refresh_token ?? null,
  };
}

const STORED = {
  accountEmail: "account_email",
  accessToken: "access_token",
  expiresAt: "expires_at",
  refreshToken: "refresh_token",
} as const;

/** What the OAuth verbs need of the user database. */
export interface OAuthAccountsContext {
  users: Collection<MongoUserDocument>;
  keys: Collection<MongoOAuthAccountKeyDocument>;
  session: ClientSession | undefined;
}

/** The OAuth account verbs over a user collection and a key collection. Internal. */
export class MongoOAuthAccounts {
  readonly #c: OAuthAccountsContext;

  constructor(context: OAuthAccountsContext) {
    this.#c = context;
  }

  #options(): { session?: ClientSession } {
    return this.#c.session ? { session: this.#c.session } : {};
  }

  async #links(_id: MongoStoredId): Promise<{ found: boolean; links: unknown }> {
    const doc = await runDriver(() =>
      this.#c.users.findOne({ _id } as Filter<MongoUserDocument>, {
        ...this.#options(),
        projection: { oauth_accounts: 1 },
      }),
    );
    return { found: doc !== null, links: doc?.oauth_accounts };
  }

  /** The user document holding `(oauthName, accountId)`: its key, then the link in it. */
  async userByAccount(oauthName: unknown, accountId: unknown): Promise<MongoUserDocument | null> {
    if (!isKeyPart(oauthName) || !isKeyPart(accountId)) return null;
    const key = await runDriver(() =>
      this.#c.keys.findOne({ _id: keyOf(oauthName, accountId) }, this.#options()),
    );
    if (!key) return null;
    const doc = await runDriver(() =>
      this.#c.users.findOne({ _id: key.user_id } as Filter<MongoUserDocument>, this.#options()),
    );
    return doc && holds(doc, oauthName, accountId) ? doc : null;
  }

  async list(_id: MongoStoredId): Promise<OAuthAccount[]> {
    const { links } = await this.#links(_id);
    return linksOf({ oauth_accounts: links }).map(fromOAuthAccountDocument);
  }

  async add(_id: MongoStoredId, data: OAuthAccountCreate): Promise<OAuthAccount> {
    if (!isKeyPart(data.oauthName) || !isKeyPart(data.accountId)) {
      throw new TypeError("addOAuthAccount: oauthName and accountId must be non-empty strings");
    }
    const link: MongoOAuthAccountDocument = {
      id: randomUUID(),
      oauth_name: data.oauthName,
      account_id: data.accountId,
      account_email: normalizeEmail(data.accountEmail),
      access_token: data.accessToken,
      expires_at: data.expiresAt ?? null,
      refresh_token: data.refreshToken ?? null,
    };
    const key = keyOf(link.oauth_name, link.account_id);
    await this.#claim(key, _id);
    try {
      await this.#push(_id, link);
    } catch (error) {
      await runDriver(() =>
        this.#c.keys.deleteOne({ _id: key, user_id: _id } as never, this.#options()),
      );
      throw error;
    }
    return fromOAuthAccountDocument(link);
  }

  /**
   * Takes the key of a provider account for user `_id`: an insert, which `_id` uniqueness
   * lets exactly one of concurrent adds win. A key held by a user that does not store the
   * link (a crash between two writes, a user deleted without its keys) is taken over once
   * it is older than {@link KEY_GRACE_MS}; younger, it is an add in flight.
   */
  async #claim(key: string, _id: MongoStoredId): Promise<void> {
    const now = new Date();
    try {
      await runDriver(() =>
        this.#c.keys.insertOne({ _id: key, user_id: _id, created_at: now }, this.#options()),
      );
      return;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
    const held = await runDriver(() => this.#c.keys.findOne({ _id: key }, this.#options()));
    if (!held) throw new OAuthAccountAlreadyLinkedError(); // released meanwhile: another add's turn
    const [oauthName, accountId] = JSON.parse(key) as [string, string];
    const holder = await this.#links(held.user_id);
    const live = holds({ oauth_accounts: holder.links }, oauthName, accountId);
    if (live || now.getTime() - held.created_at.getTime() < KEY_GRACE_MS) {
      throw new OAuthAccountAlreadyLinkedError();
    }
    const taken = await runDriver(() =>
      this.#c.keys.updateOne(
        { _id: key, user_id: held.user_id, created_at: held.created_at } as never,
        { $set: { user_id: _id, created_at: now } },
        this.#options(),
      ),
    );
    if (taken.matchedCount === 0) throw new OAuthAccountAlreadyLinkedError();
  }

  /**
   * Appends `link` to the user's array, compare-and-set: the filter names the array as read
   * (so a document that meanwhile got the same pair is not written twice; a unique multikey
   * index does not stop one document from holding a pair twice), retried on contention.
   */
  async #push(_id: MongoStoredId, link: MongoOAuthAccountDocument): Promise<void> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const { found, links } = await this.#links(_id);
      if (!found) throw new UserNotExistsError();
      if (holds({ oauth_accounts: links }, link.oauth_name, link.account_id)) {
        throw new OAuthAccountAlreadyLinkedError();
      }
      const filter = {
        _id,
        oauth_accounts: links === undefined ? { $exists: false } : links,
      } as Filter<MongoUserDocument>;
      const update = {
        $push: { oauth_accounts: link },
      } as unknown as UpdateFilter<MongoUserDocument>;
      const result = await this.#write(() =>
        this.#c.users.updateOne(filter, update, this.#options()),
      );
      if (result.matchedCount > 0) return;
    }
    throw new Error("addOAuthAccount: the user's links kept changing; try again");
  }

  async update(
    _id: MongoStoredId,
    account: OAuthAccount,
    data: OAuthAccountUpdate,
  ): Promise<OAuthAccount> {
    const set: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(STORED) as [keyof typeof STORED, string][]) {
      const value = data[key];
      if (value === undefined) continue;
      set[field] = key === "accountEmail" ? normalizeEmail(value as string) : value;
    }
    const merged = (stored: MongoOAuthAccountDocument) =>
      fromOAuthAccountDocument({ ...stored, ...set } as MongoOAuthAccountDocument);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const links = linksOf({ oauth_accounts: (await this.#links(_id)).links });
      const index = links.findIndex((l) => l.id === account?.id);
      const stored = links[index];
      // Not this user's link (or gone): nothing written, the merge returned, as `update` does.
      if (!stored) return { ...account, ...fromStoredChanges(set) };
      if (Object.keys(set).length === 0) return fromOAuthAccountDocument(stored);
      // The element at `index` is still this link: a dotted path with the array index, which
      // every server has (positional `$` and arrayFilters are missing on FerretDB v1).
      const at: Record<string, unknown> = {};
      for (const [field, value] of Object.entries(set))
        at[`oauth_accounts.${index}.${field}`] = value;
      const result = await this.#write(() =>
        this.#c.users.updateOne(
          { _id, [`oauth_accounts.${index}.id`]: stored.id } as Filter<MongoUserDocument>,
          { $set: at },
          this.#options(),
        ),
      );
      if (result.matchedCount > 0) return merged(stored);
    }
    throw new Error("updateOAuthAccount: the user's links kept changing; try again");
  }

  async remove(_id: MongoStoredId, account: OAuthAccount): Promise<boolean> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const { links } = await this.#links(_id);
      const list = linksOf({ oauth_accounts: links });
      const stored = list.find((l) => l.id === account?.id);
      if (!stored) return false;
      // Compare-and-set on the whole array ($pull by condition is a no-op on FerretDB v1).
      const result = await this.#write(() =>
        this.#c.users.updateOne(
          { _id, oauth_accounts: links } as Filter<MongoUserDocument>,
          { $set: { oauth_accounts: list.filter((l) => l !== stored) } },
          this.#options(),
        ),
      );
      if (result.matchedCount === 0) continue;
      const key = keyOf(stored.oauth_name, stored.account_id);
      await runDriver(() =>
        this.#c.keys.deleteOne({ _id: key, user_id: _id } as never, this.#options()),
      );
      return true;
    }
    throw new Error("removeOAuthAccount: the user's links kept changing; try again");
  }

  /** Deletes the keys of a deleted user's links. */
  async forget(_id: MongoStoredId): Promise<void> {
    await runDriver(() => this.#c.keys.deleteMany({ user_id: _id } as never, this.#options()));
  }

  /** Runs a write on the users collection; the multikey index's violation is AlreadyLinked. */
  async #write<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      // These writes change nothing but `oauth_accounts`: a duplicate is its multikey index.
      if (isDuplicateKeyError(error)) throw new OAuthAccountAlreadyLinkedError();
      throw translateDriverError(error);
    }
  }
}

function fromStoredChanges(set: Record<string, unknown>): Partial<OAuthAccount> {
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(STORED)) if (field in set) out[key] = set[field];
  return out as Partial<OAuthAccount>;
}
