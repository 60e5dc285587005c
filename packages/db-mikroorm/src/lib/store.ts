// The adapters' reads and writes in plain MikroORM (EntityManager and QueryBuilder), one
// surface over SQL and MongoDB. With the `fastPath` option, the per-request reads on SQL try
// ../fast-path first; whatever it does not take is read here.
import {
  type EntityManager,
  type EntityName,
  type EntityProperty,
  type FilterQuery,
  LoadStrategy,
  QueryOrder,
  Reference,
  wrap,
} from "@mikro-orm/core";
import { fastFindOne, fastTokenWithUser, NOT_TAKEN } from "../fast-path/index.js";
import type { AdapterSettings } from "../options.js";
import { type EntityModel, plainFromEntity, type Row } from "./model.js";
import { mongoFindMany, mongoFindOne, mongoTokenWithUser } from "./mongo.js";

const entityOf = (model: EntityModel) => model.meta.class as EntityName<object>;
const where = (filter: Row) => filter as FilterQuery<object>;

// Plain reads run on a throwaway fork (disableIdentityMap), so the caller's identity map stays
// as it was and the global EntityManager works outside any context; and, as on the fast path
// and MongoDB, they see every row by its key: no MikroORM filters.
export const PLAIN = { disableIdentityMap: true, filters: false } as const;

/** The plain read's options: also loading lazy columns, which the fast path always reads. */
export const plainOptions = (populate: string[]) =>
  populate.length > 0 ? { ...PLAIN, populate: populate as never } : PLAIN;

/**
 * One row whose `prop` equals `value` (a database value), as a plain object. `exactText`:
 * the column holds Tessera's own strings (a session handle), so the fast path may batch
 * concurrent lookups by it as it does lookups by primary key.
 */
export async function findOne(
  em: EntityManager,
  model: EntityModel,
  prop: EntityProperty,
  value: unknown,
  settings: AdapterSettings,
  exactText = false,
): Promise<Row | null> {
  if (model.mongo) return mongoFindOne(em, model, prop, value);
  if (settings.fastPath) {
    const row = await fastFindOne(em, model, prop, value, settings, exactText);
    if (row !== NOT_TAKEN) return row;
  }
  const options = plainOptions(model.lazy);
  const entity = await em.findOne(entityOf(model), where({ [prop.name]: value }), options);
  return entity ? plainFromEntity(model, entity) : null;
}

/** Every row whose `prop` equals `value`, oldest `orderBy` first, as plain objects. */
export async function findMany(
  em: EntityManager,
  model: EntityModel,
  prop: EntityProperty,
  value: unknown,
  orderBy: EntityProperty,
): Promise<Row[]> {
  if (model.mongo) return mongoFindMany(em, model, prop, value, orderBy);
  const entities = await em.find(entityOf(model), where({ [prop.name]: value }), {
    ...plainOptions(model.lazy),
    orderBy: { [orderBy.name]: QueryOrder.ASC },
  });
  return entities.map((entity) => plainFromEntity(model, entity));
}

/**
 * A token and its user in one round trip (on MongoDB servers without `$lookup`, two); null
 * when the token is unknown or its user is gone.
 */
export async function findTokenWithUser(
  em: EntityManager,
  token: EntityModel,
  relation: EntityProperty,
  user: EntityModel,
  digest: string,
  settings: AdapterSettings,
): Promise<{ token: Row; user: Row } | null> {
  if (token.mongo) return mongoTokenWithUser(em, token, relation, user, digest);
  if (settings.fastPath) {
    const both = await fastTokenWithUser(em, token, relation, user, digest, settings);
    if (both !== NOT_TAKEN) return both;
  }
  const populate = [relation.name, ...token.lazy, ...user.lazy.map((p) => `${relation.name}.${p}`)];
  const found = await em.findOne(entityOf(token), where({ [token.pk.name]: digest }), {
    ...plainOptions(populate),
    strategy: LoadStrategy.JOINED,
  });
  const owner = found && Reference.unwrapReference((found as Row)[relation.name] as object);
  if (!found || !owner || !wrap(owner, true).isInitialized()) return null;
  return { token: plainFromEntity(token, found), user: plainFromEntity(user, owner) };
}

/**
 * Creates a row through the ORM: `em.create` applies defaults and `onCreate` hooks (the
 * UUID), `em.insert` writes that one entity without touching the EntityManager's unit of
 * work, so concurrent creates on one EntityManager never share a flush.
 */
export async function insert(em: EntityManager, model: EntityModel, data: Row): Promise<Row> {
  const entity = contextual(em).create(model.meta.class, data, { persist: false, partial: false });
  await em.insert(entity);
  return plainFromEntity(model, entity);
}

/**
 * `em` itself, or a throwaway fork of it when it is the global EntityManager outside any
 * request or transaction context, where MikroORM refuses `create` (it touches an identity
 * map). The adapters' other calls read with `disableIdentityMap` or write through
 * `nativeUpdate` / `nativeDelete` / `insert`, which work on any EntityManager and resolve the
 * request or transaction context themselves. So an app may hand the adapters `orm.em` once
 * instead of forking one per request (see docs/packages/db-mikroorm.md, "no fork at all").
 */
export function contextual(em: EntityManager): EntityManager {
  if (!(em as { global?: boolean }).global || em.config.get("allowGlobalContext")) return em;
  const scoped = em.getContext(false);
  return scoped === em ? em.fork() : scoped;
}

/** The property `name` of the model's entity, or a clear error naming what is missing. */
export function prop(model: EntityModel, name: string): EntityProperty {
  const found = model.meta.properties[name];
  if (!found) throw new TypeError(`${model.meta.className} has no property "${name}"`);
  return found;
}
