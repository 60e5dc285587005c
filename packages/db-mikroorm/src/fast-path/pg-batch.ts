// Lookups by key of one event-loop turn share one statement on PostgreSQL, through
// `dataloader` (as db-mongo's lookups do): under load, one round trip serves many requests.
// Why and what it saves: docs/packages/db-mikroorm.md, "Internals".
import type { EntityManager } from "@mikro-orm/core";
import DataLoader from "dataloader";
import type { Row } from "../lib/model.js";
import type { PgPool } from "./internals.js";
import { pgRows } from "./query.js";
import { BATCH_KEY_COLUMN, type BatchKey, type KeyedLookup } from "./statements.js";

/** The most keys one statement carries; callers beyond wait for the next. */
export const MAX_BATCH = 128;

interface Lookup {
  readonly em: EntityManager;
  readonly value: unknown;
  /** The value as the key column compares it (see {@link BatchKey}). */
  readonly key: string;
}

type Loader = DataLoader<Lookup, Row | undefined>;

// Per pool, one loader per statement (and statement kind): a batch never mixes statements.
const loaders = new WeakMap<PgPool, Map<string, Loader>>();

/**
 * The row `lookup.sql` gives for `value`, but the callers of the same event-loop turn go to
 * the server as one `lookup.batchSql` (`= any(?)`), sent after the poll phase (setImmediate:
 * every request whose bytes arrived in this turn has asked by then), at most
 * {@link MAX_BATCH} keys each. Each caller gets exactly its own row, read by a statement sent
 * after it asked (nothing is cached); a lone caller sends `lookup.sql`. A failure rejects
 * every caller of the batch with the same error.
 */
export function batchedRow(
  em: EntityManager,
  pool: PgPool,
  lookup: KeyedLookup,
  batchKey: BatchKey,
  value: unknown,
  named: boolean,
): Promise<Row | undefined> {
  let forPool = loaders.get(pool);
  if (!forPool) {
    forPool = new Map();
    loaders.set(pool, forPool);
  }
  const id = named ? lookup.batchSql : `unnamed:${lookup.batchSql}`;
  let loader = forPool.get(id);
  if (!loader) {
    loader = new DataLoader((lookups) => sendBatch(pool, lookup, batchKey, lookups, named), {
      cache: false,
      maxBatchSize: MAX_BATCH,
      batchScheduleFn: (send) => setImmediate(send),
    });
    forPool.set(id, loader);
  }
  return loader.load({ em, value, key: batchKey(value) });
}

async function sendBatch(
  pool: PgPool,
  lookup: KeyedLookup,
  batchKey: BatchKey,
  lookups: readonly Lookup[],
  named: boolean,
): Promise<(Row | undefined)[]> {
  const em = (lookups[0] as Lookup).em; // whose logger sees the statement
  if (lookups.length === 1) {
    return [(await pgRows(em, pool, lookup.sql, [(lookups[0] as Lookup).value], named))[0]];
  }
  // One value per distinct key: two requests with the same token share its row.
  const values: unknown[] = [];
  const seen = new Set<string>();
  for (const { key, value } of lookups) {
    if (seen.has(key)) continue;
    seen.add(key);
    values.push(value);
  }
  const rows = await pgRows(em, pool, lookup.batchSql, [values], named);
  const byKey = new Map<string, Row>();
  for (const row of rows) {
    const key = batchKey(row[BATCH_KEY_COLUMN]);
    delete row[BATCH_KEY_COLUMN];
    if (!byKey.has(key)) byKey.set(key, row);
  }
  return lookups.map(({ key }) => byKey.get(key));
}
