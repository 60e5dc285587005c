import {
  ConfigurationError,
  type MfaDatabase,
  type MfaState,
  normalizeEmail,
  type OAuthAccount,
  type OAuthAccountCreate,
  type OAuthAccountDatabase,
  type OAuthAccountUpdate,
  type PasskeyCredential,
  type TotpFactor,
  UserAlreadyExistsError,
  type UserCreateData,
  type UserDatabase,
  UserNotExistsError,
  type UserProtocol,
  type UserUpdateConditions,
  UserUpdateConflictError,
  type UserUpdateData,
} from "@tessera/core";
import { MFA_DATABASE_VERBS, OAUTH_ACCOUNT_DATABASE_VERBS } from "@tessera/core/internal";
import type { ClientSession, Collection } from "mongodb";
import { findById } from "./batched-find.js";
import { isDuplicateKeyError, runDriver, translateDriverError } from "./driver-errors.js";
import { type IdCodec, idCodec, idToString, type MongoIdType, type MongoStoredId } from "./ids.js";
import { ensureIndex, ensureUniqueIndex } from "./indexes.js";
import { MongoMfa, type MongoMfaDocument, type MongoPasskeyDocument } from "./mfa.js";
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
   * The collection of second factors (one document per user with a TOTP factor or recovery
   * codes, `_id` = the user's `_id`, plus short-lived lock documents). Given with
   * `passkeyCollection`, the database is an `MfaDatabase`; without both, it has none of
   * its methods (`isMfaDatabase` is false).
   * @default undefined (no second factors)
   */
  mfaCollection?: Collection<MongoMfaDocument>;
  /**
   * The collection of passkeys (one document per credential, `_id` = the credential id, so
   * unique across users). Given with `mfaCollection`.
   * @default undefined (no passkeys)
   */
  passkeyCollection?: Collection<MongoPasskeyDocument>;
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
 * With `mfaCollection` and `passkeyCollection` it is also an `MfaDatabase`: a document of
 * second factors per user, a document per passkey keyed by its credential id (unique across
 * users), every once-only write one conditional update run under a lock document so that it
 * holds on FerretDB v1 too; deleting a user deletes all of it. See docs/packages/db-mongo.md,
 * "Second factors and passkeys".
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
  implements UserDatabase<U, string>, OAuthAccountDatabase<U, string>, MfaDatabase<string>
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
  /** The MFA collection, when given. */
  readonly mfaCollection: Collection<MongoMfaDocument> | undefined;
  /** The passkey collection, when given. */
  readonly passkeyCollection: Collection<MongoPasskeyDocument> | undefined;
  private readonly mfa: MongoMfa | undefined;

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
      for (const verb of OAUTH_ACCOUNT_DATABASE_VERBS) {
        Object.defineProperty(this, verb, { value: undefined, configurable: true, writable: true });
      }
    }
    this.mfaCollection = options.mfaCollection;
    this.passkeyCollection = options.passkeyCollection;
    if (!options.mfaCollection !== !options.passkeyCollection) {
      throw new ConfigurationError(
        "MongoUserDatabase: second factors need both mfaCollection and passkeyCollection",
      );
    }
    this.mfa =
      options.mfaCollection && options.passkeyCollection
        ? new MongoMfa({
            users: collection,
            mfa: options.mfaCollection,
            passkeys: options.passkeyCollection,
            session: this.session,
          })
        : undefined;
    if (!this.mfa) {
      // No MFA collections, no MFA verbs: isMfaDatabase tells the truth.
      for (const verb of MFA_DATABASE_VERBS) {
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
    await this.mfa?.forget(_id);
  }

  /** The user's TOTP factor and recovery codes (one findOne). */
  async getMfa(userId: string): Promise<MfaState> {
    const _id = this.ids.toStored(userId);
    return _id === null ? { totp: null, recoveryCodes: [] } : this.mfaVerbs().get(_id);
  }

  /** Sets or removes (`null`) the user's TOTP factor; nothing for a user not stored. */
  async setTotp(userId: string, totp: TotpFactor | null): Promise<void> {
    const _id = this.ids.toStored(userId);
    if (_id !== null) await this.mfaVerbs().setTotp(_id, totp);
  }

  /** Records the accepted `step` only if the stored last step is below it (see MfaDatabase). */
  async advanceTotpStep(userId: string, step: number): Promise<boolean> {
    const _id = this.ids.toStored(userId);
    return _id === null ? false : this.mfaVerbs().advanceTotpStep(_id, step);
  }

  /** Replaces the user's recovery codes (unused, in the order given). */
  async setRecoveryCodes(userId: string, hashes: readonly string[]): Promise<void> {
    const _id = this.ids.toStored(userId);
    if (_id !== null) await this.mfaVerbs().setRecoveryCodes(_id, hashes);
  }

  /** Marks the unused code with this hash used, once; false when unknown or used. */
  async useRecoveryCode(userId: string, hash: string, at: Date): Promise<boolean> {
    const _id = this.ids.toStored(userId);
    return _id === null ? false : this.mfaVerbs().useRecoveryCode(_id, hash, at);
  }

  /** The user's passkeys, oldest first. */
  async listPasskeys(userId: string): Promise<PasskeyCredential[]> {
    const _id = this.ids.toStored(userId);
    return _id === null ? [] : this.mfaVerbs().listPasskeys(_id);
  }

  /** The passkey with this credential id and its owner's id, or null. */
  async getPasskey(
    credentialId: string,
  ): Promise<{ userId: string; credential: PasskeyCredential } | null> {
    const found = await this.mfaVerbs().getPasskey(credentialId);
    return found && { userId: idToString(found.userId), credential: found.credential };
  }

  /** Registers a passkey; `PasskeyAlreadyRegisteredError` when any user has its credential id. */
  async addPasskey(userId: string, credential: PasskeyCredential): Promise<void> {
    const _id = this.ids.toStored(userId);
    if (_id === null) throw new UserNotExistsError();
    await this.mfaVerbs().addPasskey(_id, credential);
  }

  /** Writes counter and last use only over `expectedCounter`, once (see MfaDatabase). */
  async updatePasskeyCounter(
    credentialId: string,
    expectedCounter: number,
    counter: number,
    at: Date,
  ): Promise<boolean> {
    return this.mfaVerbs().updatePasskeyCounter(credentialId, expectedCounter, counter, at);
  }

  /** Removes the user's passkey; false when it is not one of theirs. */
  async removePasskey(userId: string, credentialId: string): Promise<boolean> {
    const _id = this.ids.toStored(userId);
    return _id === null ? false : this.mfaVerbs().removePasskey(_id, credentialId);
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
   * and the keys' `user_id` index; with `passkeyCollection`, the passkeys' `user_id` index.
   * Idempotent; call it at start-up (or from a migration).
   *
   * @example
   * await users.ensureIndexes();
   */
  async ensureIndexes(): Promise<void> {
    await ensureUniqueIndex(this.collection, { email: 1 }, EMAIL_INDEX);
    await this.mfa?.ensureIndexes();
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

  private mfaVerbs(): MongoMfa {
    if (!this.mfa) throw new TypeError("MongoUserDatabase: no mfaCollection / passkeyCollection");
    return this.mfa;
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
