// mergeDataByHandle: a session's data merged by the database itself, in one UPDATE whose
// new value is computed from the row being updated (so concurrent merges of distinct keys
// all land) and whose WHERE bounds the merged value's size. PostgreSQL (`jsonb`: `||`, then
// `-` the keys the patch sets to null) and SQLite (`json_set` / `json_remove` per top-level
// key: `json_patch` would merge nested objects, the store replaces them); elsewhere null.
import type { EntityManager } from "@mikro-orm/core";
import type { JsonObject } from "@tessera/core";
import { sqlConnection } from "../fast-path/internals.js";
import { tableOf } from "../fast-path/statements.js";
import type { LiveAt } from "./by-handle.js";
import { expiresAtSql } from "./expired.js";
import { column, type EntityModel, platformIs, type Row } from "./model.js";
import { prop } from "./store.js";

/** Whether {@link mergeDataByHandle} can merge on this platform. */
export function canMergeInDatabase(model: EntityModel): boolean {
  if (model.mongo) return false;
  const is = (re: RegExp) => platformIs(model.platform, re);
  return (
    is(/postgre/i) ||
    (is(/sqlite/i) && typeof model.platform.processDateProperty(new Date(0)) === "number")
  );
}

/**
 * Merges `patch` (top-level keys; null deletes) into the data of the live row whose handle
 * is `handle`, if the merged value's JSON is at most `maxBytes` (as the database renders
 * it): the merged data, or null when nothing was written (no live row, too large, or a
 * platform or patch this cannot merge).
 */
export async function mergeDataByHandle(
  em: EntityManager,
  model: EntityModel,
  handle: string,
  patch: JsonObject,
  maxBytes: number,
  live: LiveAt,
): Promise<JsonObject | null> {
  if (!canMergeInDatabase(model)) return null;
  const pg = platformIs(model.platform, /postgre/i);
  const data = column(model, prop(model, "data"));
  const createdAt = column(model, prop(model, "createdAt"));
  const lifetime = column(model, prop(model, "lifetimeSeconds"));
  const handleColumn = column(model, prop(model, "handle"));
  const expires = expiresAtSql(model, createdAt, lifetime);
  if (expires === null) return null;
  const entries = Object.entries(patch);
  const set = entries.filter(([, v]) => v !== null);
  const unset = entries.filter(([, v]) => v === null).map(([k]) => k);
  let merged: string;
  let mergedParams: unknown[];
  let size: string;
  if (pg) {
    merged = `((coalesce(${data}, '{}'::jsonb) || ?::jsonb) - array(select jsonb_array_elements_text(?::jsonb)))`;
    mergedParams = [JSON.stringify(Object.fromEntries(set)), JSON.stringify(unset)];
    size = `octet_length(${merged}::text)`;
  } else {
    // A JSON path label cannot hold a double quote: such a patch is merged by the store.
    if (entries.some(([k]) => k.includes('"'))) return null;
    // Paths are bound parameters, like the values: no key of the app's is ever SQL text.
    const path = (key: string) => `$."${key}"`;
    let expr = `coalesce(${data}, '{}')`;
    mergedParams = [];
    if (set.length > 0) {
      expr = `json_set(${expr}, ${set.map(() => "?, json(?)").join(", ")})`;
      for (const [k, v] of set) mergedParams.push(path(k), JSON.stringify(v));
    }
    if (unset.length > 0) {
      expr = `json_remove(${expr}, ${unset.map(() => "?").join(", ")})`;
      mergedParams.push(...unset.map(path));
    }
    merged = expr;
    size = `length(cast(${merged} as blob))`;
  }
  const date = (d: Date) => model.platform.processDateProperty(d);
  const cap = new Date(live.now.getTime() - live.maxLifetimeSeconds * 1000);
  const sql =
    `update ${tableOf(em, model)} set ${data} = ${merged} ` +
    `where ${handleColumn} = ? and ${createdAt} > ? and ${expires} > ? and ${size} <= ? ` +
    `returning ${data} as data`;
  const params = [...mergedParams, handle, date(cap), date(live.now), ...mergedParams, maxBytes];
  const row = await sqlConnection(em).execute<Row | undefined>(
    sql,
    params,
    "get",
    em.getTransactionContext(),
  );
  if (!row) return null;
  const value = row.data;
  return (typeof value === "string" ? JSON.parse(value) : value) as JsonObject;
}
