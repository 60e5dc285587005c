// The OAuthAccountDatabase verbs of MikroOrmUserDatabase, over an OAuth account entity built
// on OAuthAccountBase (a table on SQL, a collection on MongoDB) whose `user` relation points
// at the user entity. Plain MikroORM throughout: these run at an OAuth login, not on every
// request, so they need no fast path.
import {
  type EntityManager,
  type EntityName,
  type EntityProperty,
  type FilterQuery,
  ForeignKeyConstraintViolationException,
  LoadStrategy,
  Reference,
  wrap,
} from "@mikro-orm/core";
import {
  normalizeEmail,
  type OAuthAccount,
  OAuthAccountAlreadyLinkedError,
  type OAuthAccountCreate,
  type OAuthAccountDatabase,
  type OAuthAccountUpdate,
  UserNotExistsError,
  type UserProtocol,
} from "@tessera/core";
import type { EntityTarget } from "../types.js";
import { translate } from "./errors.js";
import { type EntityModel, modelOf, plainFromEntity, type Row, toDbId } from "./model.js";
import { findMany, findOne, insert, plainOptions, prop } from "./store.js";

interface Models {
  link: EntityModel;
  user: EntityModel;
  relation: EntityProperty;
}

// The columns' limits (OAuthAccountBase): a longer name or id is no link we stored, and
// PostgreSQL text cannot hold U+0000. Such lookups answer null without a query.
const isKey = (value: unknown, max: number): value is string =>
  typeof value === "string" && value.length > 0 && value.length <= max && !value.includes("\0");

const FAST_OFF = { fastPath: false, preparedStatements: false } as const;

const UPDATABLE = ["accountEmail", "accessToken", "expiresAt", "refreshToken"] as const;

/** The OAuth account verbs for one user entity and one OAuth account entity. */
export class MikroOrmOAuthAccounts<U extends UserProtocol<unknown>>
  implements OAuthAccountDatabase<U, U["id"]>
{
  readonly #em: EntityManager;
  readonly #user: EntityTarget;
  readonly #entity: EntityTarget;
  #models?: Models;

  constructor(em: EntityManager, user: EntityTarget, entity: EntityTarget) {
    this.#em = em;
    this.#user = user;
    this.#entity = entity;
  }

  get #m(): Models {
    if (!this.#models) {
      const link = modelOf(this.#em, this.#entity);
      const user = modelOf(this.#em, this.#user);
      const relation = prop(link, "user");
      if (relation.targetMeta?.class !== user.meta.class) {
        throw new TypeError(
          `${link.meta.className}.user must be a relation to ${user.meta.className} (see oauthAccountUser)`,
        );
      }
      this.#models = { link, user, relation };
    }
    return this.#models;
  }

  async getByOAuthAccount(oauthName: string, accountId: string): Promise<U | null> {
    if (!isKey(oauthName, 100) || !isKey(accountId, 320)) return null;
    const { link, user, relation } = this.#m;
    const populate = [relation.name, ...user.lazy.map((p) => `${relation.name}.${p}`)];
    const found = await this.#guard(() =>
      this.#em.findOne(
        link.meta.class as EntityName<object>,
        { oauthName, accountId } as FilterQuery<object>,
        { ...plainOptions(populate), strategy: LoadStrategy.JOINED },
      ),
    );
    const owner = found && Reference.unwrapReference((found as Row)[relation.name] as object);
    if (!owner || !wrap(owner, true).isInitialized()) return null;
    return plainFromEntity(user, owner) as U;
  }

  async listOAuthAccounts(owner: U): Promise<OAuthAccount[]> {
    const { link, user, relation } = this.#m;
    const userId = toDbId(user, owner.id);
    if (userId === undefined) return [];
    const rows = await this.#guard(() => findMany(this.#em, link, relation, userId, link.pk));
    return rows.map((row) => this.#toAccount(row));
  }

  async addOAuthAccount(owner: U, data: OAuthAccountCreate): Promise<OAuthAccount> {
    const { link, user, relation } = this.#m;
    const userId = toDbId(user, owner.id);
    if (userId === undefined) throw new UserNotExistsError();
    // As a foreign key does on SQL: no link to a user that is not stored. MongoDB has none,
    // so the user is read first (a user deleted right after leaves a link its delete missed
    // only in that window; the link names no user and getByOAuthAccount reads it as null).
    if (
      user.mongo &&
      !(await this.#guard(() => findOne(this.#em, user, user.pk, userId, FAST_OFF)))
    ) {
      throw new UserNotExistsError();
    }
    const row: Row = {
      oauthName: data.oauthName,
      accountId: data.accountId,
      accountEmail: normalizeEmail(data.accountEmail),
      accessToken: data.accessToken,
      expiresAt: data.expiresAt ?? null,
      refreshToken: data.refreshToken ?? null,
      [relation.name]: userId,
    };
    return this.#toAccount(await this.#guard(() => insert(this.#em, link, row)));
  }

  async updateOAuthAccount(
    owner: U,
    account: OAuthAccount,
    data: OAuthAccountUpdate,
  ): Promise<OAuthAccount> {
    const changes: Row = {};
    for (const key of UPDATABLE) if (data[key] !== undefined) changes[key] = data[key];
    if (typeof changes.accountEmail === "string") {
      changes.accountEmail = normalizeEmail(changes.accountEmail);
    }
    const where = this.#whereOwned(owner, account);
    if (where && Object.keys(changes).length > 0) {
      const { link } = this.#m;
      await this.#guard(() => this.#em.nativeUpdate(link.meta.class, where, changes));
    }
    return { ...account, ...changes } as OAuthAccount;
  }

  async removeOAuthAccount(owner: U, account: OAuthAccount): Promise<boolean> {
    const where = this.#whereOwned(owner, account);
    if (!where) return false;
    const { link } = this.#m;
    return (await this.#guard(() => this.#em.nativeDelete(link.meta.class, where))) > 0;
  }

  /** The link `account` of `owner` as a WHERE, or undefined when either id cannot be one. */
  #whereOwned(owner: U, account: OAuthAccount): Row | undefined {
    const { link, user, relation } = this.#m;
    const userId = toDbId(user, owner.id);
    const linkId = toDbId(link, account?.id);
    if (userId === undefined || linkId === undefined) return undefined;
    return { [link.pk.name]: linkId, [relation.name]: userId };
  }

  #toAccount(row: Row): OAuthAccount {
    const expiresAt = row.expiresAt;
    return {
      id: String(row[this.#m.link.idKey]),
      oauthName: row.oauthName as string,
      accountId: row.accountId as string,
      accountEmail: row.accountEmail as string,
      accessToken: row.accessToken as string,
      expiresAt: expiresAt == null ? null : Number(expiresAt),
      refreshToken: (row.refreshToken as string | null | undefined) ?? null,
    };
  }

  async #guard<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (error) {
      if (error instanceof ForeignKeyConstraintViolationException) throw new UserNotExistsError();
      return translate(error, () => new OAuthAccountAlreadyLinkedError());
    }
  }
}
