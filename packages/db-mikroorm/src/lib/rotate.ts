// rotateRefresh: a refresh-token rotation as one conditional write, matched on the row's key
// and its current refresh digest. On SQL one `UPDATE … WHERE token = ? AND refresh_digest = ?`
// (affected rows); on MongoDB one `updateOne` (matched count).
import type { EntityManager, FilterQuery } from "@mikro-orm/core";
import type { EntityModel, Row } from "./model.js";
import { mongoUpdateWhere } from "./mongo.js";

/** The write of a rotation, by property name. */
export interface RotationChanges {
  refreshDigest: string;
  refreshParentDigest: string;
  lifetimeSeconds: number;
  lastUsedAt: Date;
}

/** Writes `changes` to the row `digest` only while its refresh digest is `expected`. */
export async function rotateRefresh(
  em: EntityManager,
  model: EntityModel,
  digest: string,
  expected: string,
  changes: RotationChanges,
): Promise<boolean> {
  const where: Row = { [model.pk.name]: digest, refreshDigest: expected };
  const set: Row = { ...changes };
  if (model.mongo) return mongoUpdateWhere(em, model, where, set);
  return (await em.nativeUpdate(model.meta.class, where as FilterQuery<object>, set)) > 0;
}
