import {
  normalizeEmail,
  type OAuthAccount,
  type OAuthAccountCreate,
  type OAuthAccountDatabase,
  type OAuthAccountUpdate,
  UserAlreadyExistsError,
  type UserCreateData,
  type UserDatabase,
  UserNotExistsError,
  type UserProtocol,
  type UserUpdateConditions,
  UserUpdateConflictError,
  type UserUpdateData,
} from "@tessera/core";
import type { ClientSession, Collection } from "mongodb";
import { findById } from "./batched-find.js";
import { isDuplicateKeyError, runDriver, translateDriverError } from "./driver-errors.js";
import { type IdCodec, idCodec, type MongoIdType, type MongoStoredId } from "./ids.js";
import { ensureIndex, ensureUniqueIndex } from "./indexes.js";
import { type MongoOAuthAccountKeyDocument, MongoOAuthAccounts } from "./oauth-accounts.js";
import type { MongoAccessTokenDocument } from "./token-document.js";
import {
  fromUserDocument,
  type MongoUser,
  type MongoUserDocument,
  toDocumentFields,
} from "./user-document.js";

/**
 * Options of {@link MongoUserDatabase}.
 *
 * @example
 * new MongoUserDatabase(userCollection, { idType: "uuid", accessTokenCollection: tokenCollection });
 */
export interface MongoUserDatabaseOptions {
  /**
   * How `_id` is stored: a BSON ObjectId (exposed as its 24-hex-digit string) or a UUID
   * string from `crypto.randomUUID()`. Parse ids from URLs with the matching core parser
   * (`objectIdStringParser` or `uuidIdParser`) in `UserManager`'s `idParser`.
   * @default "objectId"
   */
  idType?: MongoIdType;
  /**
   * The access-token collection: when given, deleting a user also deletes their tokens
   * (`deleteMany({ user_id })`), as a foreign key with ON DELETE CASCADE would.
   * @default undefined (tokens are left to expire)
   */
  accessTokenCollection?: Collection<MongoAccessTokenDocument>;
  /**
   * The collection of OAuth account keys (one document per linked provider account, whose
   * `_id` decides which user holds it): with it the database is an `OAuthAccountDatabase`,
   * links embedded in the user document's `oauth_accounts`. Without it, it has none of the
   * OAuth methods (they read as undefined), so `isOAuthAccountDatabase` is false and the
   * OAuth routes refuse to start instead of failing at a login.
   * @default undefined (no OAuth accounts)
   */
  oauthAccountKeyCollection?: Collection<MongoOAuthAccountKeyDocument>;
  /**
   * A session every operation runs in (causal consistency, or a transaction the caller
   * manages). Make one adapter per request to use per-request sessions.
   * @default undefined
   */
  session?: ClientSession;
}

const EMAIL_INDEX = "email_unique";
const OAUTH_INDEX = "oauth_accounts_unique";
const OAUTH_KEY_USER_INDEX = "user_id";
const OAUTH_VERBS = [
  "getByOAuthAccount",
  "listOAuthAccounts",
  "addOAuthAccount",
  "updateOAuthAccount",
  "removeOAuthAccount",
] as const;

/**
 * A {@link UserDatabase} on a MongoDB collection, through the native driver.
 *
 * Emails are normalized (core's `normalizeEmail`) on create, update and lookup; a unique
 * index on `email` (see {@link MongoUserDatabase.ensureIndexes}) decides duplicates, which
 * surface as `UserAlreadyExistsError`. An unreachable server surfaces as
 * `ServiceUnavailableError`. Malformed ids read as null without a query.
 *
 * With `oauthAccountKeyCollection` it is also an `OAuthAccountDatabase`: a user's links are
 * embedded in their document (`oauth_accounts`), each provider account is held by one user
 * (a key document per account, and on MongoDB a unique multikey index as well), deleting a
 * user deletes their links and keys. See docs/packages/db-mongo.md, "OAuth accounts".
 *
 * @example
 * const db = client.db("app");
 * const users = new MongoUserDatabase(db.collection<MongoUserDocument>("users"), {
 *   accessTokenCollection: db.collection("access_tokens"),
 *   oauthAccountKeyCollection: db.collection("oauth_account_keys"),
 * });
 * await users.ensureIndexes();
 * const manager = new UserManager({ userDb: users, idParser: objectIdStringParser, ... });
 */
export class MongoUserDatabase<U extends UserProtocol<string> = MongoUser>
  implements UserDatabase<U, string>, OAuthAccountDatabase<U, string>
{
  /** The users collection. */
  readonly collection: Collection<MongoUserDocument>;
  /** How ids are stored; see {@link MongoUserDatabaseOptions.idType}. */
  readonly idType: MongoIdType;
  private readonly ids: IdCodec;
  private readonly accessTokenCollection: Collection<MongoAccessTokenDocument> | undefined;
  private readonly session: ClientSession | undefined;
  /** The OAuth account keys collection, when given. */
  readonly oauthAccountKeyCollection: Collection<MongoOAuthAccountKeyDocument> | undefined;
  private readonly oauth: MongoOAuthAccounts | undefined;

  constructor(collection: Collection<MongoUserDocument>, options: MongoUserDatabaseOptions = {}) {
    this.collection = collection;
    this.idType = options.idType ?? "objectId";
    this.ids = idCodec(this.idType);
    this.accessTokenCollection = options.accessTokenCollection;
    this.session = options.session;
    this.oauthAccountKeyCollection = options.oauthAccountKeyCollection;
    const keys = options.oauthAccountKeyCollection;
    this.oauth = keys && new MongoOAuthAccounts({ users: collection, keys, session: this.session });
    if (!this.oauth) {
      // No key collection, no OAuth accounts: hide the verbs, so a check for them is honest.
      for (const verb of OAUTH_VERBS) {
        Object.defineProperty(this, verb, { value: undefined, configurable: true, writable: true });
      }
    }
  }

  /**
   * The user with this id, or null (also for a malformed id, without querying). Without a
   * session, the lookups of one event-loop turn share one `find({ _id: { $in } })` (see the
   * package docs, "Batched lookups").
   */
  async get(id: string): Promise<U | null> {
    const _id = this.ids.toStored(id);
    if (_id === null) return null;
    const doc = await runDriver(() => findById(this.collection, _id, this.session));
    return doc ? this.toUser(doc) : null;
  }

  /** The user with this email (normalized before the lookup), or null. */
  async getByEmail(email: string): Promise<U | null> {
    if (typeof email !== "string") return null;
    const filter = { email: normalizeEmail(email) };
    const doc = await runDriver(() => this.collection.findOne(filter, this.options()));
    return doc ? this.toUser(doc) : null;
  }

  /** Inserts a user; the unique email index turns a duplicate into `UserAlreadyExistsError`. */
  async create(data: UserCreateData): Promise<U> {
    const doc = { ...toDocumentFields(data), _id: this.ids.generate() } as MongoUserDocument;
    await this.write(() => this.collection.insertOne(doc, this.options()));
    return this.toUser(doc);
  }

  /**
   * Sets the given fields and returns the user as stored afterwards, in one round trip.
   * Throws `UserAlreadyExistsError` when the new email is taken, `UserNotExistsError` when
   * the user is gone (deleted meanwhile). With `expectedHashedPassword` the hash is part of
   * the filter of that one write, which MongoDB applies atomically to the document; no
   * match throws `UserUpdateConflictError`. (FerretDB v1 reads then writes, so two racing
   * writes can both match there: the guarantee is MongoDB's.)
   */
  async update(user: U, data: UserUpdateData, conditions: UserUpdateConditions = {}): Promise<U> {
    const expected = conditions.expectedHashedPassword;
    const _id = this.ids.toStored(user.id);
    if (_id === null) {
      if (expected !== undefined) throw new UserUpdateConflictError();
      throw new UserNotExistsError();
    }
    const fields = toDocumentFields(data);
    // A string, never an operator object: the condition is ours, but stay strict.
    const filter =
      expected === undefined ? { _id } : { _id, hashed_password: { $eq: String(expected) } };
    const doc =
      Object.keys(fields).length === 0
        ? await runDriver(() => this.collection.findOne(filter, this.options()))
        : await this.write(() =>
            this.collection.findOneAndUpdate(
              filter,
              { $set: fields },
              { ...this.options(), returnDocument: "after" },
            ),
          );
    if (!doc) {
      if (expected !== undefined) throw new UserUpdateConflictError();
      throw new UserNotExistsError();
    }
    return this.toUser(doc);
  }

  /**
   * Deletes the user (their embedded OAuth links with it), then their access tokens when
   * `accessTokenCollection` was given and their OAuth account keys when
   * `oauthAccountKeyCollection` was. User first: once it is gone no new token can be issued
   * for it, so none survives.
   */
  async delete(user: U): Promise<void> {
    const _id = this.ids.toStored(user.id);
    if (_id === null) return;
    await runDriver(() => this.collection.deleteOne({ _id }, this.options()));
    const tokens = this.accessTokenCollection;
    if (tokens) await runDriver(() => tokens.deleteMany({ user_id: _id }, this.options()));
    await this.oauth?.forget(_id);
  }

  /** The user holding this provider account, or null. */
  async getByOAuthAccount(oauthName: string, accountId: string): Promise<U | null> {
    const doc = await this.oauthVerbs().userByAccount(oauthName, accountId);
    return doc ? this.toUser(doc) : null;
  }

  /** The user's OAuth links, oldest first. */
  async listOAuthAccounts(user: U): Promise<OAuthAccount[]> {
    const _id = this.ids.toStored(user.id);
    return _id === null ? [] : this.oauthVerbs().list(_id);
  }

  /**
   * Links a provider account to the user (appended to `oauth_accounts`); throws
   * `OAuthAccountAlreadyLinkedError` when any user holds it, `UserNotExistsError` when the
   * user is gone.
   */
  async addOAuthAccount(user: U, data: OAuthAccountCreate): Promise<OAuthAccount> {
    const _id = this.ids.toStored(user.id);
    if (_id === null) throw new UserNotExistsError();
    return this.oauthVerbs().add(_id, data);
  }

  /** Writes the given fields to the user's link `account`; returns it as stored. */
  async updateOAuthAccount(
    user: U,
    account: OAuthAccount,
    data: OAuthAccountUpdate,
  ): Promise<OAuthAccount> {
    const _id = this.ids.toStored(user.id);
    if (_id === null) {
      const merged = { ...account, ...data } as OAuthAccount;
      return { ...merged, accountEmail: normalizeEmail(merged.accountEmail) };
    }
    return this.oauthVerbs().update(_id, account, data);
  }

  /** Unlinks `account` from the user; false when it was not theirs. */
  async removeOAuthAccount(user: U, account: OAuthAccount): Promise<boolean> {
    const _id = this.ids.toStored(user.id);
    return _id === null ? false : this.oauthVerbs().remove(_id, account);
  }

  /**
   * Creates the unique index on `email` that enforces one account per normalized email and,
   * with `oauthAccountKeyCollection`, the unique multikey index on
   * `(oauth_accounts.oauth_name, oauth_accounts.account_id)` (partial: documents with a link)
   * and the keys' `user_id` index. Idempotent; call it at start-up (or from a migration).
   *
   * @example
   * await users.ensureIndexes();
   */
  async ensureIndexes(): Promise<void> {
    await ensureUniqueIndex(this.collection, { email: 1 }, EMAIL_INDEX);
    const keys = this.oauthAccountKeyCollection;
    if (!keys) return;
    // Only documents with a link are indexed: every user without one would be a duplicate
    // (null, null) of the others in a unique index.
    await ensureUniqueIndex(
      this.collection,
      { "oauth_accounts.oauth_name": 1, "oauth_accounts.account_id": 1 },
      OAUTH_INDEX,
      { "oauth_accounts.oauth_name": { $exists: true } },
    );
    await ensureIndex(keys, "user_id", OAUTH_KEY_USER_INDEX);
  }

  /** The stored form of a user id, or null when malformed. Used by the token adapter. */
  toStoredId(id: unknown): MongoStoredId | null {
    return this.ids.toStored(id);
  }

  /** Maps a stored document to the app's user. Override to build a richer model. */
  toUser(doc: MongoUserDocument): U {
    return fromUserDocument<U>(doc);
  }

  private oauthVerbs(): MongoOAuthAccounts {
    if (!this.oauth) throw new TypeError("MongoUserDatabase: no oauthAccountKeyCollection");
    return this.oauth;
  }

  private options(): { session?: ClientSession } {
    return this.session ? { session: this.session } : {};
  }

  /** Runs a write; a unique-email violation becomes `UserAlreadyExistsError`. */
  private async write<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (isDuplicateKeyError(error, "email")) throw new UserAlreadyExistsError();
      throw translateDriverError(error);
    }
  }
}
