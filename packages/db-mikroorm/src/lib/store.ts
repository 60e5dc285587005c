// One read/write surface over SQL and MongoDB, so the adapters hold no driver branches.
import type { EntityManager, EntityProperty } from "@mikro-orm/core";
import { type EntityModel, plainFromEntity } from "./model.js";
import { mongoDeleteExpired, mongoFindMany, mongoFindOne, mongoTokenWithUser } from "./mongo.js";
import {
  column,
  expiredCondition,
  sqlDeleteWhere,
  sqlFindMany,
  sqlFindOne,
  sqlTokenWithUser,
} from "./sql.js";

type Row = Record<string, unknown>;

/** One row whose `prop` equals `value` (a database value), as a plain object. */
export function findOne(
  em: EntityManager,
  model: EntityModel,
  prop: EntityProperty,
  value: unknown,
): Promise<Row | null> {
  return model.mongo ? mongoFindOne(em, model, prop, value) : sqlFindOne(em, model, prop, value);
}

/** Every row whose `prop` equals `value`, ordered by `orderBy`, as plain objects. */
export function findMany(
  em: EntityManager,
  model: EntityModel,
  prop: EntityProperty,
  value: unknown,
  orderBy: EntityProperty,
): Promise<Row[]> {
  return model.mongo
    ? mongoFindMany(em, model, prop, value, orderBy)
    : sqlFindMany(em, model, prop, value, orderBy);
}

/** A token and its user in one round trip (two on servers without `$lookup`). */
export function findTokenWithUser(
  em: EntityManager,
  token: EntityModel,
  relation: EntityProperty,
  user: EntityModel,
  digest: string,
): Promise<{ token: Row; user: Row } | null> {
  return token.mongo
    ? mongoTokenWithUser(em, token, relation, user, digest)
    : sqlTokenWithUser(em, token, relation, user, digest);
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
 * request or transaction context, where MikroORM refuses `create` and `find` (they touch an
 * identity map). The adapters' other calls run on the connection or through `nativeUpdate` /
 * `nativeDelete` / `insert`, which work on any EntityManager and resolve the request or
 * transaction context themselves. So an app may hand the adapters `orm.em` once instead of
 * forking one per request, which costs every request 15-20 µs under load (docs/benchmarks.md).
 */
function contextual(em: EntityManager): EntityManager {
  if (!(em as { global?: boolean }).global || em.config.get("allowGlobalContext")) return em;
  const scoped = em.getContext(false);
  return scoped === em ? em.fork() : scoped;
}

/** Deletes the tokens expired at `now`; returns how many. */
export async function deleteExpired(
  em: EntityManager,
  model: EntityModel,
  now: Date,
): Promise<number> {
  if (model.mongo) return mongoDeleteExpired(em, model, now);
  const createdAt = column(model, prop(model, "createdAt"));
  const lifetime = column(model, prop(model, "lifetimeSeconds"));
  const condition = expiredCondition(model, createdAt, lifetime);
  if (condition) return sqlDeleteWhere(em, model, "expired", condition, now);
  return deleteExpiredByScan(em, model, now);
}

const BATCH = 500;

// For SQL platforms expiredCondition does not know: read the candidates, delete in batches,
// each row conditioned on the lifetime read (a renewal in between is not undone).
async function deleteExpiredByScan(
  em: EntityManager,
  model: EntityModel,
  now: Date,
): Promise<number> {
  const rows = (await contextual(em).find(
    model.meta.class,
    { createdAt: { $lte: now } },
    { fields: [model.pk.name, "createdAt", "lifetimeSeconds"], disableIdentityMap: true },
  )) as Row[];
  const expired = rows.filter(
    (r) => (r.createdAt as Date).getTime() + Number(r.lifetimeSeconds) * 1000 <= now.getTime(),
  );
  let deleted = 0;
  for (let i = 0; i < expired.length; i += BATCH) {
    const batch = expired.slice(i, i + BATCH);
    const where = {
      $or: batch.map((r) => ({
        [model.pk.name]: r[model.pk.name],
        lifetimeSeconds: r.lifetimeSeconds,
      })),
    };
    deleted += await em.nativeDelete(model.meta.class, where);
  }
  return deleted;
}

/** The property `name` of the model's entity, or a clear error naming what is missing. */
export function prop(model: EntityModel, name: string): EntityProperty {
  const found = model.meta.properties[name];
  if (!found) throw new TypeError(`${model.meta.className} has no property "${name}"`);
  return found;
}
