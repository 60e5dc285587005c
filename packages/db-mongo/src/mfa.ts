// The MfaDatabase verbs of MongoUserDatabase (issue 17). A user's TOTP factor and recovery
// codes are one document per user in the MFA collection (`_id` = the user's `_id`), passkeys
// one document each in the passkey collection (`_id` = the credential id, so the server's
// `_id` uniqueness decides, across users, on every MongoDB-protocol server).
//
// Once-only writes. MongoDB applies a filtered update atomically per document, so each is
// one conditional updateOne. FerretDB v1 does not: it reads the document, applies the update
// and writes the whole document back, so two updates can both pass the same filter (and an
// update can undo a concurrent one of another field). What both servers decide atomically
// is an insert against `_id` and a deleteOne's count. So every write to an MFA document, and
// every counter update of a passkey, runs under a lock document (`_id` "lock:…" in the MFA
// collection) taken by insertOne and released by deleteOne: the conditional update then
// never overlaps another write of the same document, and "exactly one of N parallel calls"
// holds on FerretDB v1 too. A lock left by a crashed process is taken over after LOCK_STALE_MS
// (a deleteOne of the stale lock decides between takers).
// See docs/packages/db-mongo.md, "Second factors and passkeys".
import { setTimeout as sleep } from "node:timers/promises";
import {
  type MfaState,
  PasskeyAlreadyRegisteredError,
  type PasskeyCredential,
  ServiceUnavailableError,
  type TotpFactor,
  UserNotExistsError,
} from "@tessera/core";
import type { ClientSession, Collection } from "mongodb";
import { isDuplicateKeyError, runDriver, translateDriverError } from "./driver-errors.js";
import type { MongoStoredId } from "./ids.js";
import type { MongoUserDocument } from "./user-document.js";

/**
 * A user's second factors, one document per user in the collection given as
 * `mfaCollection` (`_id` = the user's `_id`). The same collection holds short-lived lock
 * documents (`_id` "lock:…", see docs/packages/db-mongo.md).
 *
 * @example
 * const mfa = db.collection<MongoMfaDocument>("mfa");
 */
export interface MongoMfaDocument {
  _id: MongoStoredId;
  /** The TOTP factor, or null / absent when none. */
  totp?: {
    /** Encrypted by the MFA flow; opaque here. */
    secret: string;
    /** Null while enrolment is pending. */
    confirmed_at: Date | null;
    /** The last accepted time step; -1 when none. */
    last_step: number;
  } | null;
  /** The recovery codes, in the order given: a hash each, and when it was used. */
  recovery_codes?: { hash: string; used_at: Date | null }[];
}

/**
 * A passkey (WebAuthn credential), one document each in the collection given as
 * `passkeyCollection`: the credential id is `_id` (unique across users on every server).
 *
 * @example
 * const passkeys = db.collection<MongoPasskeyDocument>("passkeys");
 */
export interface MongoPasskeyDocument {
  /** The credential id, base64url. */
  _id: string;
  /** The `_id` of the user it belongs to (indexed by `ensureIndexes`). */
  user_id: MongoStoredId;
  public_key: string;
  counter: number;
  transports: string[];
  name: string;
  backed_up: boolean;
  created_at: Date;
  last_used_at: Date | null;
}

/** A lock older than this is a crashed writer's: the next writer takes it over. */
export const LOCK_STALE_MS = 30_000;
/** How often a writer tries for a held lock before it gives up (about two seconds). */
const LOCK_ATTEMPTS = 40;
// WebAuthn credential ids are at most 1023 bytes: 1364 base64url characters.
const MAX_CREDENTIAL_ID = 1364;

const isCredentialId = (value: unknown): value is string =>
  typeof value === "string" && value.length > 0 && value.length <= MAX_CREDENTIAL_ID;

const lockOf = (userId: MongoStoredId) => `mfa:${String(userId)}`;

interface LockDocument {
  _id: string;
  locked_at: Date;
}

const GAVE_UP = Symbol("lock not taken");

/** The MFA verbs over the users, MFA and passkey collections. Internal. */
export class MongoMfa {
  readonly #users: Collection<MongoUserDocument>;
  readonly #mfa: Collection<MongoMfaDocument>;
  readonly #passkeys: Collection<MongoPasskeyDocument>;
  readonly #session: ClientSession | undefined;

  constructor(options: {
    users: Collection<MongoUserDocument>;
    mfa: Collection<MongoMfaDocument>;
    passkeys: Collection<MongoPasskeyDocument>;
    session: ClientSession | undefined;
  }) {
    this.#users = options.users;
    this.#mfa = options.mfa;
    this.#passkeys = options.passkeys;
    this.#session = options.session;
  }

  async get(userId: MongoStoredId): Promise<MfaState> {
    const doc = await runDriver(() => this.#mfa.findOne({ _id: userId }, this.#options()));
    const totp = doc?.totp;
    return {
      totp: totp
        ? {
            secret: totp.secret,
            confirmedAt: totp.confirmed_at ?? null,
            lastStep: Number(totp.last_step),
          }
        : null,
      recoveryCodes: (doc?.recovery_codes ?? []).map((c) => ({
        hash: c.hash,
        usedAt: c.used_at ?? null,
      })),
    };
  }

  async setTotp(userId: MongoStoredId, totp: TotpFactor | null): Promise<void> {
    const value =
      totp === null
        ? null
        : { secret: totp.secret, confirmed_at: totp.confirmedAt, last_step: totp.lastStep };
    if (value === null) {
      await this.#write(userId, () =>
        this.#mfa.updateOne({ _id: userId }, { $set: { totp: null } }, this.#options()),
      );
      return;
    }
    // No foreign keys: nothing is stored for a user that is not stored.
    if (!(await this.#userStored(userId))) return;
    await this.#write(userId, () =>
      this.#mfa.updateOne(
        { _id: userId },
        { $set: { totp: value } },
        { ...this.#options(), upsert: true },
      ),
    );
  }

  async advanceTotpStep(userId: MongoStoredId, step: number): Promise<boolean> {
    if (!Number.isSafeInteger(step)) return false;
    // A pending factor advances too: confirming enrolment accepts its first code this way.
    const result = await this.#locked(lockOf(userId), () =>
      this.#mfa.updateOne(
        { _id: userId, "totp.last_step": { $lt: step } },
        { $set: { "totp.last_step": step } },
        this.#options(),
      ),
    );
    return result !== GAVE_UP && result.modifiedCount > 0;
  }

  async setRecoveryCodes(userId: MongoStoredId, hashes: readonly string[]): Promise<void> {
    if (!(await this.#userStored(userId))) return;
    const codes = hashes.map((hash) => ({ hash: String(hash), used_at: null }));
    await this.#write(userId, () =>
      this.#mfa.updateOne(
        { _id: userId },
        { $set: { recovery_codes: codes } },
        { ...this.#options(), upsert: true },
      ),
    );
  }

  async useRecoveryCode(userId: MongoStoredId, hash: string, at: Date): Promise<boolean> {
    if (typeof hash !== "string") return false;
    // Under the document's lock: the index read here is still the code's when the update
    // runs (FerretDB v1 has no positional `$` or arrayFilters to find it in the update).
    const result = await this.#locked(lockOf(userId), async () => {
      const doc = await this.#mfa.findOne({ _id: userId }, this.#options());
      const index = (doc?.recovery_codes ?? []).findIndex(
        (c) => c.hash === hash && (c.used_at ?? null) === null,
      );
      if (index < 0) return false;
      const path = `recovery_codes.${index}`;
      const updated = await this.#mfa.updateOne(
        { _id: userId, [`${path}.hash`]: hash, [`${path}.used_at`]: null },
        { $set: { [`${path}.used_at`]: at } },
        this.#options(),
      );
      return updated.modifiedCount > 0;
    });
    return result === true;
  }

  async listPasskeys(userId: MongoStoredId): Promise<PasskeyCredential[]> {
    const docs = await runDriver(() =>
      this.#passkeys
        .find({ user_id: userId }, this.#options())
        .sort({ created_at: 1, _id: 1 })
        .toArray(),
    );
    return docs.map(toPasskey);
  }

  async getPasskey(
    credentialId: string,
  ): Promise<{ userId: MongoStoredId; credential: PasskeyCredential } | null> {
    if (!isCredentialId(credentialId)) return null;
    const doc = await runDriver(() =>
      this.#passkeys.findOne({ _id: credentialId }, this.#options()),
    );
    return doc ? { userId: doc.user_id, credential: toPasskey(doc) } : null;
  }

  async addPasskey(userId: MongoStoredId, credential: PasskeyCredential): Promise<void> {
    if (!isCredentialId(credential.id)) {
      throw new TypeError("a credential id is a base64url string of at most 1364 characters");
    }
    if (!(await this.#userStored(userId))) throw new UserNotExistsError();
    const doc: MongoPasskeyDocument = {
      _id: credential.id,
      user_id: userId,
      public_key: credential.publicKey,
      counter: credential.counter,
      transports: [...credential.transports],
      name: credential.name,
      backed_up: credential.backedUp,
      created_at: credential.createdAt,
      last_used_at: credential.lastUsedAt,
    };
    try {
      await this.#passkeys.insertOne(doc, this.#options());
    } catch (error) {
      if (isDuplicateKeyError(error)) throw new PasskeyAlreadyRegisteredError();
      throw translateDriverError(error);
    }
  }

  async updatePasskeyCounter(
    credentialId: string,
    expectedCounter: number,
    counter: number,
    at: Date,
  ): Promise<boolean> {
    if (!isCredentialId(credentialId) || !Number.isSafeInteger(expectedCounter)) return false;
    const result = await this.#locked(`passkey:${credentialId}`, () =>
      this.#passkeys.updateOne(
        { _id: credentialId, counter: expectedCounter },
        { $set: { counter, last_used_at: at } },
        this.#options(),
      ),
    );
    return result !== GAVE_UP && result.matchedCount > 0;
  }

  async removePasskey(userId: MongoStoredId, credentialId: string): Promise<boolean> {
    if (!isCredentialId(credentialId)) return false;
    const removed = await runDriver(() =>
      this.#passkeys.deleteOne({ _id: credentialId, user_id: userId }, this.#options()),
    );
    return removed.deletedCount > 0;
  }

  /** Deletes everything of a deleted user: their MFA document and passkeys. */
  async forget(userId: MongoStoredId): Promise<void> {
    await runDriver(() => this.#mfa.deleteOne({ _id: userId }, this.#options()));
    await runDriver(() => this.#passkeys.deleteMany({ user_id: userId }, this.#options()));
  }

  /** Creates the passkeys' `user_id` index (listPasskeys, the cascade). */
  async ensureIndexes(): Promise<void> {
    await runDriver(() => this.#passkeys.createIndex({ user_id: 1 }, { name: "user_id" }));
  }

  async #userStored(userId: MongoStoredId): Promise<boolean> {
    const found = await runDriver(() =>
      this.#users.findOne({ _id: userId }, { ...this.#options(), projection: { _id: 1 } }),
    );
    return found !== null;
  }

  /** A write of the user's MFA document under its lock; a lock held too long is an outage. */
  async #write<T>(userId: MongoStoredId, op: () => Promise<T>): Promise<T> {
    const result = await this.#locked(lockOf(userId), op);
    if (result === GAVE_UP) {
      throw new ServiceUnavailableError("The MFA document stayed locked by another write");
    }
    return result;
  }

  /**
   * Runs `op` holding the lock `key` (see the top of this file), trying for about two
   * seconds; GAVE_UP when others held it throughout (a once-only write then answers false).
   */
  async #locked<T>(key: string, op: () => Promise<T>): Promise<T | typeof GAVE_UP> {
    const locks = this.#mfa as unknown as Collection<LockDocument>;
    const _id = `lock:${key}`;
    for (let attempt = 0; attempt < LOCK_ATTEMPTS; attempt++) {
      if (await this.#take(locks, _id)) {
        try {
          return await runDriver(op);
        } finally {
          await runDriver(() => locks.deleteOne({ _id }, this.#options())).catch(() => {});
        }
      }
      // A crashed writer's lock: the deleteOne that removes it decides who may take over.
      const stale = new Date(Date.now() - LOCK_STALE_MS);
      await runDriver(() => locks.deleteOne({ _id, locked_at: { $lt: stale } }, this.#options()));
      await sleep(10 + Math.floor(Math.random() * 40));
    }
    return GAVE_UP;
  }

  async #take(locks: Collection<LockDocument>, _id: string): Promise<boolean> {
    try {
      await locks.insertOne({ _id, locked_at: new Date() }, this.#options());
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw translateDriverError(error);
    }
  }

  #options(): { session?: ClientSession } {
    return this.#session ? { session: this.#session } : {};
  }
}

function toPasskey(doc: MongoPasskeyDocument): PasskeyCredential {
  return {
    id: doc._id,
    publicKey: doc.public_key,
    counter: Number(doc.counter),
    transports: [...(doc.transports ?? [])],
    name: doc.name,
    backedUp: doc.backed_up === true,
    createdAt: doc.created_at,
    lastUsedAt: doc.last_used_at ?? null,
  };
}
