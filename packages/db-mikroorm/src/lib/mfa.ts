// The MfaDatabase verbs of MikroOrmUserDatabase (issue 17), over three entities whose `user`
// relation points at the user entity: a TOTP factor per user, a row per recovery code, a row
// per passkey keyed by its credential id. Plain MikroORM throughout (these run at a login or
// in account settings, not on every request). Each once-only write is one `nativeUpdate`:
// one `UPDATE … WHERE <condition>` on SQL, one filtered update on MongoDB. FerretDB v1 runs
// a filtered update as a read then a write, and has no transactions: so on MongoDB every
// write of a user's factor or codes, and every counter update of a passkey, runs under a lock
// document (`_id` "mfa:…" / "passkey:…" in the collection `<totp collection>_locks`), taken by
// insertOne and released by deleteOne (both atomic on FerretDB v1 too), as db-mongo does.
import { setTimeout as sleep } from "node:timers/promises";
import {
  type EntityManager,
  type EntityProperty,
  type FilterQuery,
  ForeignKeyConstraintViolationException,
  LockMode,
  QueryOrder,
} from "@mikro-orm/core";
import {
  type MfaDatabase,
  type MfaState,
  PasskeyAlreadyRegisteredError,
  type PasskeyCredential,
  type RecoveryCode,
  ServiceUnavailableError,
  type TotpFactor,
  UserNotExistsError,
} from "@tessera/core";
import type { MikroOrmMfaEntities } from "../options.js";
import type { EntityTarget } from "../types.js";
import { isUniqueViolation, translate } from "./errors.js";
import { type EntityModel, modelOf, plainFromEntity, type Row, toDbId } from "./model.js";
import { findOne, PLAIN, prop } from "./store.js";

interface Models {
  user: EntityModel;
  totp: EntityModel;
  code: EntityModel;
  passkey: EntityModel;
  /** The `user` relation of each. */
  totpUser: EntityProperty;
  codeUser: EntityProperty;
  passkeyUser: EntityProperty;
}

// WebAuthn credential ids are at most 1023 bytes: 1364 base64url characters. A longer (or
// non-string, or NUL-holding) id is no passkey stored: lookups answer without a query.
const MAX_CREDENTIAL_ID = 1364;
const isCredentialId = (value: unknown): value is string =>
  typeof value === "string" &&
  value.length > 0 &&
  value.length <= MAX_CREDENTIAL_ID &&
  !value.includes("\0");
const isText = (value: unknown): value is string =>
  typeof value === "string" && !value.includes("\0");

const FAST_OFF = { fastPath: false, preparedStatements: false } as const;
/** A lock older than this is a crashed writer's: the next writer takes it over. */
const LOCK_STALE_MS = 30_000;
/** How often a writer tries for a held lock before it gives up (about two seconds). */
const LOCK_ATTEMPTS = 40;
const GAVE_UP = Symbol("lock not taken");

// The few calls made on the driver's collection of locks (this package does not import mongodb).
interface LockCollection {
  insertOne(doc: { _id: string; locked_at: Date }): Promise<unknown>;
  deleteOne(filter: object): Promise<unknown>;
}
const where = (filter: Row) => filter as FilterQuery<object>;
const date = (value: unknown): Date | null =>
  value == null ? null : new Date((value as Date).getTime?.() ?? (value as number));

/** The MfaDatabase verbs for one user entity and its three MFA entities. */
export class MikroOrmMfa<ID = unknown> implements MfaDatabase<ID> {
  readonly #em: EntityManager;
  readonly #user: EntityTarget;
  readonly #entities: MikroOrmMfaEntities;
  #models?: Models;

  constructor(em: EntityManager, user: EntityTarget, entities: MikroOrmMfaEntities) {
    this.#em = em;
    this.#user = user;
    this.#entities = entities;
  }

  get #m(): Models {
    if (!this.#models) {
      const user = modelOf(this.#em, this.#user);
      const relation = (model: EntityModel) => {
        const found = prop(model, "user");
        if (found.targetMeta?.class !== user.meta.class) {
          throw new TypeError(
            `${model.meta.className}.user must be a relation to ${user.meta.className} (see mfaUser)`,
          );
        }
        return found;
      };
      const totp = modelOf(this.#em, this.#entities.totp);
      const code = modelOf(this.#em, this.#entities.recoveryCode);
      const passkey = modelOf(this.#em, this.#entities.passkey);
      prop(passkey, "credentialId");
      this.#models = {
        user,
        totp,
        code,
        passkey,
        totpUser: relation(totp),
        codeUser: relation(code),
        passkeyUser: relation(passkey),
      };
    }
    return this.#models;
  }

  async getMfa(userId: ID): Promise<MfaState> {
    const { user, totp, code, totpUser, codeUser } = this.#m;
    const dbId = toDbId(user, userId);
    if (dbId === undefined) return { totp: null, recoveryCodes: [] };
    // Both reads at once: one round trip's wait.
    const [factor, codes] = await this.#guard(() =>
      Promise.all([
        this.#em.findOne(totp.meta.class, where({ [totpUser.name]: dbId }), PLAIN),
        this.#em.find(code.meta.class, where({ [codeUser.name]: dbId }), {
          ...PLAIN,
          orderBy: { [code.pk.name]: QueryOrder.ASC },
        }),
      ]),
    );
    return {
      totp: factor ? toTotp(plainFromEntity(totp, factor)) : null,
      recoveryCodes: codes.map((c) => toCode(plainFromEntity(code, c))),
    };
  }

  async setTotp(userId: ID, factor: TotpFactor | null): Promise<void> {
    const { user, totp, totpUser } = this.#m;
    const dbId = toDbId(user, userId);
    if (dbId === undefined) return;
    const key = { [totpUser.name]: dbId };
    if (factor === null) {
      await this.#write(dbId, () => this.#em.nativeDelete(totp.meta.class, where(key)));
      return;
    }
    const values: Row = {
      secret: factor.secret,
      confirmedAt: factor.confirmedAt,
      lastStep: factor.lastStep,
    };
    // An update, else an insert; an insert that loses to a concurrent one updates after all.
    const update = () => this.#em.nativeUpdate(totp.meta.class, where(key), values);
    if (totp.mongo && !(await this.#userStored(dbId))) return;
    await this.#write(dbId, async () => {
      if ((await update()) > 0) return;
      try {
        await this.#em.insert(totp.meta.class, { ...values, ...key });
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        await update();
      }
    });
  }

  async advanceTotpStep(userId: ID, step: number): Promise<boolean> {
    const { user, totp, totpUser } = this.#m;
    const dbId = toDbId(user, userId);
    if (dbId === undefined || !Number.isSafeInteger(step)) return false;
    // UPDATE mfa_totp SET last_step = ? WHERE user_id = ? AND last_step < ?: a pending
    // factor advances too (confirming enrolment accepts its first code this way).
    const changed = await this.#once(`mfa:${String(dbId)}`, () =>
      this.#em.nativeUpdate(
        totp.meta.class,
        where({ [totpUser.name]: dbId, lastStep: { $lt: step } }),
        { lastStep: step },
      ),
    );
    return changed > 0;
  }

  async setRecoveryCodes(userId: ID, hashes: readonly string[]): Promise<void> {
    const { user, code, codeUser } = this.#m;
    const dbId = toDbId(user, userId);
    if (dbId === undefined) return;
    const rows = hashes.map((hash) => ({ hash, usedAt: null, [codeUser.name]: dbId }));
    const replace = async (em: EntityManager) => {
      await em.nativeDelete(code.meta.class, where({ [codeUser.name]: dbId }));
      if (rows.length > 0) await em.insertMany(code.meta.class, rows);
    };
    if (code.mongo) {
      // No multi-document transactions on every MongoDB server (FerretDB v1 has none): the
      // old set goes, then the new one comes, for a user read first (no foreign keys).
      if (!(await this.#userStored(dbId))) return;
      await this.#write(dbId, () => replace(this.#em));
      return;
    }
    // The user's row locked first (FOR UPDATE on PostgreSQL; SQLite runs one writer at a
    // time): concurrent regenerations run one after the other, so one whole set remains.
    const stored = await this.#guard(() =>
      this.#em.transactional(async (em) => {
        const owner = await em.findOne(user.meta.class, where({ [user.pk.name]: dbId }), {
          ...PLAIN,
          fields: [user.pk.name] as never,
          lockMode: LockMode.PESSIMISTIC_WRITE,
        });
        if (owner) await replace(em);
        return owner !== null;
      }),
    );
    if (!stored) throw new UserNotExistsError();
  }

  async useRecoveryCode(userId: ID, hash: string, at: Date): Promise<boolean> {
    const { user, code, codeUser } = this.#m;
    const dbId = toDbId(user, userId);
    if (dbId === undefined || !isText(hash)) return false;
    // UPDATE mfa_recovery_codes SET used_at = ? WHERE user_id = ? AND hash = ? AND used_at IS NULL
    const changed = await this.#once(`mfa:${String(dbId)}`, () =>
      this.#em.nativeUpdate(code.meta.class, where({ [codeUser.name]: dbId, hash, usedAt: null }), {
        usedAt: at,
      }),
    );
    return changed > 0;
  }

  async listPasskeys(userId: ID): Promise<PasskeyCredential[]> {
    const { user, passkey, passkeyUser } = this.#m;
    const dbId = toDbId(user, userId);
    if (dbId === undefined) return [];
    const found = await this.#guard(() =>
      this.#em.find(passkey.meta.class, where({ [passkeyUser.name]: dbId }), {
        ...PLAIN,
        orderBy: { createdAt: QueryOrder.ASC, credentialId: QueryOrder.ASC } as never,
      }),
    );
    return found.map((entity) => toPasskey(plainFromEntity(passkey, entity)));
  }

  async getPasskey(
    credentialId: string,
  ): Promise<{ userId: ID; credential: PasskeyCredential } | null> {
    if (!isCredentialId(credentialId)) return null;
    const { passkey, passkeyUser } = this.#m;
    const found = await this.#guard(() =>
      this.#em.findOne(passkey.meta.class, where({ credentialId }), PLAIN),
    );
    if (!found) return null;
    const row = plainFromEntity(passkey, found);
    return { userId: row[passkeyUser.name] as ID, credential: toPasskey(row) };
  }

  async addPasskey(userId: ID, credential: PasskeyCredential): Promise<void> {
    const { user, passkey, passkeyUser } = this.#m;
    const dbId = toDbId(user, userId);
    if (dbId === undefined) throw new UserNotExistsError();
    if (!isCredentialId(credential.id)) {
      throw new TypeError("a credential id is a base64url string of at most 1364 characters");
    }
    if (!(await this.#userStored(dbId))) throw new UserNotExistsError();
    const row: Row = {
      credentialId: credential.id,
      publicKey: credential.publicKey,
      counter: credential.counter,
      transports: [...credential.transports],
      name: credential.name,
      backedUp: credential.backedUp,
      createdAt: credential.createdAt,
      lastUsedAt: credential.lastUsedAt,
      [passkeyUser.name]: dbId,
    };
    // The primary key (the credential id) decides races, across users.
    await this.#guard(
      () => this.#em.insert(passkey.meta.class, row),
      () => new PasskeyAlreadyRegisteredError(),
    );
  }

  async updatePasskeyCounter(
    credentialId: string,
    expectedCounter: number,
    counter: number,
    at: Date,
  ): Promise<boolean> {
    if (!isCredentialId(credentialId) || !Number.isSafeInteger(expectedCounter)) return false;
    const { passkey } = this.#m;
    // UPDATE passkeys SET counter = ?, last_used_at = ? WHERE id = ? AND counter = ?
    const changed = await this.#once(`passkey:${credentialId}`, () =>
      this.#em.nativeUpdate(passkey.meta.class, where({ credentialId, counter: expectedCounter }), {
        counter,
        lastUsedAt: at,
      }),
    );
    return changed > 0;
  }

  async removePasskey(userId: ID, credentialId: string): Promise<boolean> {
    const { user, passkey, passkeyUser } = this.#m;
    const dbId = toDbId(user, userId);
    if (dbId === undefined || !isCredentialId(credentialId)) return false;
    const removed = await this.#guard(() =>
      this.#em.nativeDelete(passkey.meta.class, where({ credentialId, [passkeyUser.name]: dbId })),
    );
    return removed > 0;
  }

  /**
   * Whether the user is stored, asked only on MongoDB (no foreign keys there); on SQL the
   * foreign key answers when the write runs. A user deleted in between leaves rows its delete
   * missed only in that window, which name no user.
   */
  async #userStored(dbId: unknown): Promise<boolean> {
    const { user } = this.#m;
    if (!user.mongo) return true;
    return (await this.#guard(() => findOne(this.#em, user, user.pk, dbId, FAST_OFF))) !== null;
  }

  /** A once-only update: on MongoDB under its lock (0 when others held it throughout). */
  async #once(key: string, op: () => Promise<number>): Promise<number> {
    const result = await this.#locked(key, op);
    return result === GAVE_UP ? 0 : result;
  }

  /** A write of the user's factor or codes: on MongoDB under the user's lock. */
  async #write(dbId: unknown, op: () => Promise<unknown>): Promise<void> {
    const result = await this.#locked(`mfa:${String(dbId)}`, op);
    if (result === GAVE_UP) {
      throw new ServiceUnavailableError("The MFA rows stayed locked by another write");
    }
  }

  /**
   * `op` on SQL (its statements decide races); on MongoDB, `op` holding the lock `key`,
   * tried for about two seconds; GAVE_UP when others held it throughout.
   */
  async #locked<T>(key: string, op: () => Promise<T>): Promise<T | typeof GAVE_UP> {
    const { totp } = this.#m;
    if (!totp.mongo) return this.#guard(op);
    const connection = this.#em.getConnection() as unknown as {
      getCollection(name: string): LockCollection;
    };
    const locks = connection.getCollection(`${totp.meta.collection}_locks`);
    const _id = key;
    for (let attempt = 0; attempt < LOCK_ATTEMPTS; attempt++) {
      let taken = false;
      try {
        await locks.insertOne({ _id, locked_at: new Date() });
        taken = true;
      } catch (error) {
        if (!isUniqueViolation(error)) return this.#rethrow(error);
      }
      if (taken) {
        try {
          return await this.#guard(op);
        } finally {
          await locks.deleteOne({ _id }).catch(() => {});
        }
      }
      // A crashed writer's lock: the deleteOne that removes it decides who may take over.
      const stale = new Date(Date.now() - LOCK_STALE_MS);
      await this.#guard(() => locks.deleteOne({ _id, locked_at: { $lt: stale } }));
      await sleep(10 + Math.floor(Math.random() * 40));
    }
    return GAVE_UP;
  }

  async #guard<T>(op: () => Promise<T>, onUnique?: () => Error): Promise<T> {
    try {
      return await op();
    } catch (error) {
      return this.#rethrow(error, onUnique);
    }
  }

  #rethrow(error: unknown, onUnique?: () => Error): never {
    if (error instanceof ForeignKeyConstraintViolationException) throw new UserNotExistsError();
    return translate(error, onUnique);
  }
}

const toTotp = (row: Row): TotpFactor => ({
  secret: row.secret as string,
  confirmedAt: date(row.confirmedAt),
  lastStep: Number(row.lastStep),
});

const toCode = (row: Row): RecoveryCode => ({
  hash: row.hash as string,
  usedAt: date(row.usedAt),
});

const toPasskey = (row: Row): PasskeyCredential => ({
  id: row.credentialId as string,
  publicKey: row.publicKey as string,
  counter: Number(row.counter),
  transports: [...((row.transports as string[] | null) ?? [])],
  name: row.name as string,
  backedUp: Boolean(row.backedUp),
  createdAt: date(row.createdAt) as Date,
  lastUsedAt: date(row.lastUsedAt),
});
