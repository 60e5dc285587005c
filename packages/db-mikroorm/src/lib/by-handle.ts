// updateByHandle: one conditional write of a session's data or claims by its handle. On SQL
// one `UPDATE … WHERE handle = ? AND <not expired>` (a native update, affected rows); on
// MongoDB one `updateOne` (matched count), where the server has `$expr`.
import { type EntityManager, type FilterQuery, raw } from "@mikro-orm/core";
import { expiresAtSql } from "./expired.js";
import { column, type EntityModel, type Row } from "./model.js";
import { mongoUpdateByHandle } from "./mongo.js";
import { prop } from "./store.js";

/** Which rows may match: not expired at `now`, counting the idle lifetime and the cap. */
export interface LiveAt {
  now: Date;
  maxLifetimeSeconds: number;
}

const where = (filter: Row) => filter as FilterQuery<object>;

/**
 * Writes `changes` (stored form) to the row whose handle is `handle`, live at `live` when
 * given; true when a row matched.
 */
export async function updateByHandle(
  em: EntityManager,
  model: EntityModel,
  handle: string,
  changes: Row,
  live: LiveAt | undefined,
): Promise<boolean> {
  if (model.mongo) return mongoUpdateByHandle(em, model, handle, changes, live);
  const entity = model.meta.class;
  const filter: Row = { handle };
  let expires: string | null = null;
  if (live) {
    filter.createdAt = { $gt: new Date(live.now.getTime() - live.maxLifetimeSeconds * 1000) };
    const createdAt = column(model, prop(model, "createdAt"));
    const lifetime = column(model, prop(model, "lifetimeSeconds"));
    expires = expiresAtSql(model, createdAt, lifetime);
    if (expires === null) return updateAfterRead(em, model, filter, changes, live.now);
    filter[raw(expires) as unknown as string] = {
      $gt: model.platform.processDateProperty(live.now),
    };
  }
  if (Object.keys(changes).length === 0) return (await em.count(entity, where(filter))) > 0;
  return (await em.nativeUpdate(entity, where(filter), changes)) > 0;
}

// For SQL platforms expiresAtSql does not know: the row is read, its lifetime checked here,
// and written only while its lifetime is still the one read.
async function updateAfterRead(
  em: EntityManager,
  model: EntityModel,
  filter: Row,
  changes: Row,
  now: Date,
): Promise<boolean> {
  const entity = model.meta.class;
  const [row] = (await em.find(entity, where(filter), {
    fields: [model.pk.name, "createdAt", "lifetimeSeconds"] as never,
    disableIdentityMap: true,
    filters: false,
    limit: 1,
  })) as Row[];
  if (!row) return false;
  const lifetime = Number(row.lifetimeSeconds);
  if ((row.createdAt as Date).getTime() + lifetime * 1000 <= now.getTime()) return false;
  if (Object.keys(changes).length === 0) return true;
  const byKey = { [model.pk.name]: row[model.pk.name], lifetimeSeconds: lifetime };
  return (await em.nativeUpdate(entity, where(byKey), changes)) > 0;
}
