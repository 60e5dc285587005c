import type { EntityManager, EntityProperty } from "@mikro-orm/core";
import {
  type MfaDatabase,
  normalizeEmail,
  type OAuthAccountDatabase,
  type UserCreateData,
  type UserDatabase,
  type UserProtocol,
  type UserUpdateConditions,
  UserUpdateConflictError,
  type UserUpdateData,
} from "@tessera/core";
import { MFA_DATABASE_VERBS, OAUTH_ACCOUNT_DATABASE_VERBS } from "@tessera/core/internal";
import { guard } from "./lib/errors.js";
import { MikroOrmMfa } from "./lib/mfa.js";
import { type EntityModel, modelOf, type Row, toDbId } from "./lib/model.js";
import { MikroOrmOAuthAccounts } from "./lib/oauth.js";
import { findOne, insert, prop } from "./lib/store.js";
import {
  type AdapterSettings,
  type MikroOrmMfaEntities,
  type MikroOrmUserDatabaseOptions,
  settingsOf,
} from "./options.js";
import type { EntityTarget, PlainUser, UserIdOf } from "./types.js";

type DefaultUser<E> = PlainUser<E> & UserProtocol<UserIdOf<E>>;

class UserDatabaseImpl<E extends object, U extends UserProtocol<unknown> = DefaultUser<E>>
  implements UserDatabase<U, U["id"]>
{
  readonly #em: EntityManager;
  readonly #entity: EntityTarget<E>;
  readonly #settings: AdapterSettings;
  #model?: EntityModel;

  constructor(em: EntityManager, entity: EntityTarget<E>, options?: MikroOrmUserDatabaseOptions) {
    this.#em = em;
    this.#entity = entity;
    this.#settings = settingsOf(options);
    // The OAuth verbs exist only with an OAuth account entity: without one this database
    // does not claim OAuthAccountDatabase, so a check for its methods tells the truth.
    if (options?.oauthAccount) {
      const links = new MikroOrmOAuthAccounts<U>(em, entity, options.oauthAccount);
      for (const verb of OAUTH_ACCOUNT_DATABASE_VERBS) {
        Object.defineProperty(this, verb, {
          value: links[verb].bind(links),
          configurable: true,
          writable: true,
        });
      }
    }
    // Likewise the MFA verbs exist only with the MFA entities (isMfaDatabase tells the truth).
    if (options?.mfa) {
      const mfa = new MikroOrmMfa<U["id"]>(em, entity, options.mfa);
      for (const verb of MFA_DATABASE_VERBS) {
        Object.defineProperty(this, verb, {
          value: mfa[verb].bind(mfa),
          configurable: true,
          writable: true,
        });
      }
    }
  }

  get #m(): EntityModel {
    this.#model ??= modelOf(this.#em, this.#entity);
    return this.#model;
  }

  /** The user with this id, or null (also for values that cannot be an id). */
  async get(id: U["id"]): Promise<U | null> {
    const dbId = toDbId(this.#m, id);
    if (dbId === undefined) return null;
    return guard(() =>
      findOne(this.#em, this.#m, this.#m.pk, dbId, this.#settings),
    ) as Promise<U | null>;
  }

  /** The user with this email, compared in normalized form; null when there is none. */
  async getByEmail(email: string): Promise<U | null> {
    if (typeof email !== "string") return null;
    const normalized = normalizeEmail(email);
    // A login form's username arrives here unvalidated. PostgreSQL text cannot hold U+0000
    // (it fails the whole query), and no email holds one: nobody has this address.
    if (normalized.includes("\u0000")) return null;
    return guard(() =>
      findOne(this.#em, this.#m, prop(this.#m, "email"), normalized, this.#settings),
    ) as Promise<U | null>;
  }

  /** Inserts a user (email normalized); `UserAlreadyExistsError` when the email is taken. */
  async create(data: UserCreateData): Promise<U> {
    const values = this.#known({ ...data, email: normalizeEmail(data.email) });
    return guard(() => insert(this.#em, this.#m, values), true) as Promise<U>;
  }

  /**
   * Updates the given fields (email normalized) and returns the user as now stored. With
   * `expectedHashedPassword`, the hash is part of the UPDATE's WHERE (one atomic statement):
   * no row matched means another write won, and `UserUpdateConflictError` is thrown.
   */
  async update(user: U, data: UserUpdateData, conditions: UserUpdateConditions = {}): Promise<U> {
    const values = this.#known(
      data.email === undefined ? data : { ...data, email: normalizeEmail(data.email) },
    );
    const expected = conditions.expectedHashedPassword;
    const dbId = toDbId(this.#m, user.id);
    if (dbId === undefined) {
      if (expected !== undefined) throw new UserUpdateConflictError();
      return { ...user, ...values } as U;
    }
    const where: Row = { [this.#m.pk.name]: dbId };
    if (expected !== undefined) where[prop(this.#m, "hashedPassword").name] = expected;
    if (Object.keys(values).length > 0) {
      const changed = await guard(
        () => this.#em.nativeUpdate(this.#m.meta.class, where, values),
        true,
      );
      if (expected !== undefined && changed === 0) throw new UserUpdateConflictError();
    } else if (expected !== undefined) {
      const stored = await this.get(user.id);
      if (stored?.hashedPassword !== expected) throw new UserUpdateConflictError();
    }
    return { ...user, ...values } as U;
  }

  /**
   * Deletes the user. SQL cascades to their tokens, OAuth account links, second factors and
   * passkeys with the foreign keys; MongoDB has none, so every relation to the user entity
   * declared `deleteRule("cascade")` (as `accessTokenUser`, `oauthAccountUser` and `mfaUser`
   * do) is followed here.
   */
  async delete(user: U): Promise<void> {
    const dbId = toDbId(this.#m, user.id);
    if (dbId === undefined) return;
    await guard(async () => {
      await this.#em.nativeDelete(this.#m.meta.class, { [this.#m.pk.name]: dbId });
      if (!this.#m.mongo) return;
      for (const rel of cascadingRelations(this.#em, this.#m)) {
        await this.#em.nativeDelete(rel.meta.class, { [rel.prop.name]: dbId });
      }
    });
  }

  /** The fields of `data` the entity has (an id is never written); others are ignored. */
  #known(data: Row): Row {
    const out: Row = {};
    for (const [key, value] of Object.entries(data)) {
      const p = this.#m.meta.properties[key];
      if (value !== undefined && p && p.persist !== false && !p.primary && p !== this.#m.pk)
        out[key] = value;
    }
    return out;
  }
}

/**
 * Tessera's `UserDatabase` on MikroORM (PostgreSQL, SQLite, MongoDB, and any other driver
 * MikroORM supports), over a request-scoped EntityManager and a user entity built on
 * `UserBase`. Reads leave the unit of work alone and return plain objects: on the fast path
 * (the default on PostgreSQL and TesseraSqliteDialect) one precompiled statement, else
 * `em.findOne`. Writes go through `em.create` + `em.insert` / `em.nativeUpdate`, so entity
 * defaults and `onCreate` hooks apply and the unique email index decides races.
 *
 * With the `oauthAccount` option (an entity built on `OAuthAccountBase`: `OAuthAccount`,
 * `MongoOAuthAccount`, or the app's own) it is also an `OAuthAccountDatabase`: links in the
 * `oauth_accounts` table or collection, whose unique `(oauth_name, account_id)` index decides
 * races (`OAuthAccountAlreadyLinkedError`), deleted with their user. Without it, it has no
 * OAuth methods at all (not methods that throw), so `oauthCallback` sees it keeps no links.
 *
 * With the `mfa` option (the TOTP, recovery code and passkey entities: `MfaTotp`,
 * `MfaRecoveryCode`, `Passkey`, their `Mongo…` twins, or the app's own) it is also an
 * `MfaDatabase`: every once-only write (a TOTP step, a recovery code, a passkey counter) is
 * one conditional `UPDATE … WHERE`, the credential id is the passkeys' primary key (so
 * unique across users: `PasskeyAlreadyRegisteredError`), and all of it goes with the user.
 * Without it, `isMfaDatabase` is false.
 *
 * Errors: a unique violation is `UserAlreadyExistsError`; an unreachable or timed-out
 * database is `ServiceUnavailableError` (the driver's error as `cause`). Ids that cannot
 * be ids of the entity (not a UUID, not a positive integer, not an ObjectId, objects such
 * as `{ $ne: null }`) read as null without a query.
 *
 * @example
 * const users = new MikroOrmUserDatabase(em.fork(), User);
 * const manager = new UserManager({ userDb: users, ... });
 * // with OAuth accounts (the constructor's type says so: users.addOAuthAccount is there)
 * const withLinks = new MikroOrmUserDatabase(em, User, { oauthAccount: OAuthAccount });
 * // behind PgBouncer in transaction mode (before 1.21):
 * new MikroOrmUserDatabase(em, User, { preparedStatements: false });
 */
export const MikroOrmUserDatabase = UserDatabaseImpl as MikroOrmUserDatabaseConstructor;

/** An instance of {@link MikroOrmUserDatabase}: a `UserDatabase` for the entity `E`. */
export interface MikroOrmUserDatabase<
  E extends object,
  U extends UserProtocol<unknown> = DefaultUser<E>,
> extends UserDatabaseImpl<E, U> {}

/**
 * The constructor of {@link MikroOrmUserDatabase}: given `oauthAccount`, its instances are
 * `OAuthAccountDatabase`s too; given `mfa`, `MfaDatabase`s.
 */
export interface MikroOrmUserDatabaseConstructor {
  /**
   * @param em the request's fork, or the ORM's global `orm.em`
   * @param entity the user entity
   * @param options with the OAuth account entity and the MFA entities
   */
  new <E extends object, U extends UserProtocol<unknown> = DefaultUser<E>>(
    em: EntityManager,
    entity: EntityTarget<E>,
    options: MikroOrmUserDatabaseOptions & {
      oauthAccount: EntityTarget;
      mfa: MikroOrmMfaEntities;
    },
  ): MikroOrmUserDatabase<E, U> & OAuthAccountDatabase<U, U["id"]> & MfaDatabase<U["id"]>;
  /**
   * @param em the request's fork, or the ORM's global `orm.em`
   * @param entity the user entity
   * @param options with the MFA entities (see {@link MikroOrmUserDatabaseOptions})
   */
  new <E extends object, U extends UserProtocol<unknown> = DefaultUser<E>>(
    em: EntityManager,
    entity: EntityTarget<E>,
    options: MikroOrmUserDatabaseOptions & { mfa: MikroOrmMfaEntities },
  ): MikroOrmUserDatabase<E, U> & MfaDatabase<U["id"]>;
  /**
   * @param em the request's fork (see `withRequestEntityManager`), or the ORM's global `orm.em`
   *   made once: no fork per request (see the package docs, "no fork at all")
   * @param entity the user entity: `User`, `MongoUser`, or the app's own built on `UserBase`
   * @param options the OAuth account entity, the fast path and prepared statements (see
   *   {@link MikroOrmUserDatabaseOptions})
   */
  new <E extends object, U extends UserProtocol<unknown> = DefaultUser<E>>(
    em: EntityManager,
    entity: EntityTarget<E>,
    options: MikroOrmUserDatabaseOptions & { oauthAccount: EntityTarget },
  ): MikroOrmUserDatabase<E, U> & OAuthAccountDatabase<U, U["id"]>;
  new <E extends object, U extends UserProtocol<unknown> = DefaultUser<E>>(
    em: EntityManager,
    entity: EntityTarget<E>,
    options?: MikroOrmUserDatabaseOptions,
  ): MikroOrmUserDatabase<E, U>;
  readonly prototype: MikroOrmUserDatabase<object>;
}

type Cascade = { meta: EntityModel["meta"]; prop: EntityProperty };
const cascades = new WeakMap<EntityModel, Cascade[]>();

// Relations to the user entity that cascade on delete, found once per model. Compared by
// class: a relation's targetMeta is not always the very object the metadata storage holds.
function cascadingRelations(em: EntityManager, user: EntityModel): Cascade[] {
  let found = cascades.get(user);
  if (found) return found;
  found = [];
  for (const meta of new Set(em.getMetadata().getAll().values())) {
    if (meta.abstract || meta.embeddable) continue;
    for (const p of meta.relations) {
      if (
        p.targetMeta?.class === user.meta.class &&
        p.deleteRule === "cascade" &&
        p.fieldNames?.length
      ) {
        found.push({ meta, prop: p });
      }
    }
  }
  cascades.set(user, found);
  return found;
}
