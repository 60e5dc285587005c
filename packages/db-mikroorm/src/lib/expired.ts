// deleteExpired: one DELETE in the platform's own date arithmetic where we know it (a
// QueryBuilder with the condition as raw SQL), else a scan and deletes by primary key.
import type { EntityManager } from "@mikro-orm/core";
import { column, type EntityModel, platformIs, type Row } from "./model.js";
import { mongoDeleteExpired } from "./mongo.js";
import { contextual, prop } from "./store.js";

/** The slice of MikroORM's SQL QueryBuilder a DELETE needs. */
interface DeleteQueryBuilder {
  delete(): DeleteQueryBuilder;
  where(condition: string, params: unknown[]): DeleteQueryBuilder;
  execute(method: "run"): Promise<{ affectedRows: number }>;
}

/**
 * `created_at + lifetime_seconds <= ?` in the platform's own SQL, or null when this platform
 * is not one we know (the caller then scans).
 */
export function expiredCondition(
  model: EntityModel,
  createdAt: string,
  lifetime: string,
): string | null {
  const expires = expiresAtSql(model, createdAt, lifetime);
  return expires === null ? null : `${expires} <= ?`;
}

/**
 * `created_at + lifetime_seconds` in the platform's own SQL (compared with a date as
 * `processDateProperty` gives it), or null when this platform is not one we know.
 */
export function expiresAtSql(
  model: EntityModel,
  createdAt: string,
  lifetime: string,
): string | null {
  const is = (re: RegExp) => platformIs(model.platform, re);
  if (is(/postgre/i)) return `${createdAt} + ${lifetime} * interval '1 second'`;
  if (is(/sqlite/i) && typeof model.platform.processDateProperty(new Date(0)) === "number") {
    // MikroORM stores SQLite datetimes as epoch milliseconds.
    return `${createdAt} + ${lifetime} * 1000`;
  }
  if (is(/mysql|mariadb/i)) return `date_add(${createdAt}, interval ${lifetime} second)`;
  if (is(/mssql/i)) return `dateadd(second, ${lifetime}, ${createdAt})`;
  return null;
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
  if (!condition) return deleteExpiredByScan(em, model, now);
  const qb = (
    em as unknown as { createQueryBuilder(entity: unknown): DeleteQueryBuilder }
  ).createQueryBuilder(model.meta.class);
  // The date as MikroORM stores it (epoch milliseconds on SQLite).
  const param = model.platform.processDateProperty(now);
  return (await qb.delete().where(condition, [param]).execute("run")).affectedRows;
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
