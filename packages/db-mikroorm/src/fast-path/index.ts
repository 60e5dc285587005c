// The fast path, behind the adapters' `fastPath` option (docs/packages/db-mikroorm.md, "Fast
// path"): the reads of every request as SQL built once per entity, run on MikroORM's `pg` pool
// or TesseraSqliteDialect. Each read answers NOT_TAKEN when it cannot run natively; the
// caller then reads through plain MikroORM (lib/store.ts).
import type { EntityManager, EntityProperty } from "@mikro-orm/core";
import { type EntityModel, plainFromRow, type Row } from "../lib/model.js";
import type { AdapterSettings } from "../options.js";
import { batchedRow } from "./pg-batch.js";
import { isSqlite, NOT_TAKEN, type NotTaken, nativeTarget, pgRows, sqliteRow } from "./query.js";
import { columnsOf, type KeyedLookup, rowLookup, tokenWithUserLookup } from "./statements.js";

export { NOT_TAKEN, type NotTaken } from "./query.js";

async function lookupRow(
  em: EntityManager,
  lookup: KeyedLookup,
  value: unknown,
  settings: AdapterSettings,
): Promise<Row | undefined | NotTaken> {
  const { batchKey } = lookup;
  // An `onQuery` hook is asked about the statement that may be sent: the batch's, if any.
  const target = batchKey
    ? await nativeTarget(em, lookup.batchSql, [[value]])
    : await nativeTarget(em, lookup.sql, [value]);
  if (!target) return NOT_TAKEN;
  // SQLite reads synchronously: nothing to share.
  if (isSqlite(target)) return sqliteRow(em, target, lookup.sql, [value]);
  const named = settings.preparedStatements;
  if (batchKey) return batchedRow(em, target, lookup, batchKey, value, named);
  return (await pgRows(em, target, lookup.sql, [value], named))[0];
}

/**
 * The row whose `prop` equals `value`, as a plain object; null when there is none. With
 * `exactText` (the column holds Tessera's own strings, compared as the exact text),
 * concurrent lookups by a column other than the primary key are batched too.
 */
export async function fastFindOne(
  em: EntityManager,
  model: EntityModel,
  prop: EntityProperty,
  value: unknown,
  settings: AdapterSettings,
  exactText = false,
): Promise<Row | null | NotTaken> {
  const row = await lookupRow(em, rowLookup(em, model, prop, exactText), value, settings);
  if (row === NOT_TAKEN) return row;
  return row ? plainFromRow(model, row) : null;
}

/** A token and its user in one statement (a join), as plain objects; null when either is missing. */
export async function fastTokenWithUser(
  em: EntityManager,
  token: EntityModel,
  relation: EntityProperty,
  user: EntityModel,
  digest: string,
  settings: AdapterSettings,
): Promise<{ token: Row; user: Row } | null | NotTaken> {
  const lookup = tokenWithUserLookup(em, token, relation, user);
  const row = await lookupRow(em, lookup, digest, settings);
  if (row === NOT_TAKEN || !row) return row ?? null;
  const tokenRow: Row = {};
  const userRow: Row = {};
  columnsOf(token).forEach((c, i) => {
    tokenRow[c] = row[`t${i}`];
  });
  columnsOf(user).forEach((c, i) => {
    userRow[c] = row[`u${i}`];
  });
  return { token: plainFromRow(token, tokenRow), user: plainFromRow(user, userRow) };
}
