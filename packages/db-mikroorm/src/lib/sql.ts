// The SQL hot path: statements built once per entity metadata, run as prepared statements on
// PostgreSQL or through MikroORM's connection (see query-one.ts), rows mapped to plain objects
// by MikroORM's compiled result mapper. No QueryBuilder, no identity map, no hydration.
import type { EntityManager, EntityProperty, Transaction } from "@mikro-orm/core";
import { type EntityModel, plainFromRow } from "./model.js";
import {
  BATCH_KEY_COLUMN,
  type BatchKey,
  platformIs,
  queryOne,
  queryOneBatched,
} from "./query-one.js";

type Row = Record<string, unknown>;

/** The slice of MikroORM's AbstractSqlConnection this package uses. */
interface SqlConnection {
  execute<T>(
    sql: string,
    params?: readonly unknown[],
    method?: "all" | "get" | "run",
    ctx?: Transaction,
  ): Promise<T>;
}

const conn = (em: EntityManager) => em.getConnection() as unknown as SqlConnection;
const trx = (em: EntityManager) => em.getTransactionContext();

/** The entity's table, schema-qualified and quoted as MikroORM's own queries do. */
export function tableOf(em: EntityManager, model: EntityModel): string {
  const schema = em.getDriver().getSchemaName(model.meta);
  const name =
    schema && schema !== model.platform.getDefaultSchemaName()
      ? `${schema}.${model.meta.tableName}`
      : model.meta.tableName;
  return model.platform.quoteIdentifier(name);
}

const columns = new WeakMap<EntityModel, string[]>();

/** The columns a plain object is read from (computed fields excluded), once per model. */
function columnsOf(model: EntityModel): string[] {
  let cols = columns.get(model);
  if (!cols) {
    cols = model.fields.filter((p) => !p.formula).flatMap((p) => p.fieldNames ?? []);
    columns.set(model, cols);
  }
  return cols;
}

export const column = (model: EntityModel, prop: EntityProperty) => {
  const name = prop.fieldNames?.[0];
  if (!name) throw new TypeError(`${model.meta.className}.${prop.name} has no column`);
  return model.platform.quoteIdentifier(name);
};

const statements = new WeakMap<object, Map<string, unknown>>();

/** What `build` makes for `model` under `key`, built once per entity metadata. */
function statement<T>(model: EntityModel, key: string, build: () => T): T {
  let forMeta = statements.get(model.meta);
  if (!forMeta) {
    forMeta = new Map();
    statements.set(model.meta, forMeta);
  }
  let made = forMeta.get(key) as T | undefined;
  if (made === undefined) {
    made = build();
    forMeta.set(key, made);
  }
  return made;
}

/**
 * A lookup by one unique key: `sql`, the single-key statement, and `batchSql`, the same
 * for `any(?)` of many keys with the key selected as {@link BATCH_KEY_COLUMN}
 * (`queryOneBatched`, query-one.ts); `batchKey` matches rows back to callers, null when
 * the key's type has no exact rule (never batched).
 */
interface KeyedLookup {
  readonly sql: string;
  readonly batchSql: string;
  readonly batchKey: BatchKey | null;
}

function keyedLookup(
  model: EntityModel,
  parts: { select: string; from: string; key: string },
  batchKey: BatchKey | null,
): KeyedLookup {
  const { select, from, key } = parts;
  const alias = model.platform.quoteIdentifier(BATCH_KEY_COLUMN);
  return {
    sql: `select ${select} from ${from} where ${key} = ? limit 1`,
    batchSql: `select ${key} as ${alias}, ${select} from ${from} where ${key} = any(?)`,
    batchKey,
  };
}

/** The row of `lookup` for `value`: batched when its key has a rule, else on its own. */
function runLookup(em: EntityManager, lookup: KeyedLookup, value: unknown) {
  return lookup.batchKey
    ? queryOneBatched(em, lookup.sql, lookup.batchSql, value, lookup.batchKey)
    : queryOne(em, lookup.sql, [value]);
}

/** One row whose `prop` equals `value`, as a plain object; null when there is none. */
export async function sqlFindOne(
  em: EntityManager,
  model: EntityModel,
  prop: EntityProperty,
  value: unknown,
): Promise<Row | null> {
  const lookup = statement(model, `one:${prop.name}`, () =>
    keyedLookup(
      model,
      {
        select: columnsOf(model)
          .map((c) => model.platform.quoteIdentifier(c))
          .join(", "),
        from: tableOf(em, model),
        key: column(model, prop),
      },
      // Lookups by primary key (the user of every request) may share a statement.
      prop === model.pk ? batchKeyOf(model) : null,
    ),
  );
  const row = await runLookup(em, lookup, value);
  return row ? plainFromRow(model, row) : null;
}

/** Every row whose `prop` equals `value`, oldest `orderBy` first, as plain objects. */
export async function sqlFindMany(
  em: EntityManager,
  model: EntityModel,
  prop: EntityProperty,
  value: unknown,
  orderBy: EntityProperty,
): Promise<Row[]> {
  const sql = statement(model, `many:${prop.name}:${orderBy.name}`, () => {
    const cols = columnsOf(model)
      .map((c) => model.platform.quoteIdentifier(c))
      .join(", ");
    return (
      `select ${cols} from ${tableOf(em, model)} where ${column(model, prop)} = ? ` +
      `order by ${column(model, orderBy)}`
    );
  });
  const rows = await conn(em).execute<Row[]>(sql, [value], "all", trx(em));
  return rows.map((row) => plainFromRow(model, row));
}

const uuidKey: BatchKey = (value) => String(value).toLowerCase();

/**
 * How rows of a batched primary-key lookup are matched to callers: UUIDs compare in any
 * case in PostgreSQL, integers whatever JS type carries them; other key types (text with
 * a collation of its own...) are not batched.
 */
function batchKeyOf(model: EntityModel): BatchKey | null {
  if (model.idKind === "uuid") return uuidKey;
  if (model.idKind === "integer") return String;
  return null;
}

/**
 * A token row and its user's row in one round trip (an inner join: a token whose user is
 * gone reads as nothing). Columns are aliased by position so names never collide.
 */
export async function sqlTokenWithUser(
  em: EntityManager,
  token: EntityModel,
  relation: EntityProperty,
  user: EntityModel,
  digest: string,
): Promise<{ token: Row; user: Row } | null> {
  const tokenCols = columnsOf(token);
  const userCols = columnsOf(user);
  // Every request's lookup: on PostgreSQL those of one event-loop turn share a statement
  // (query-one.ts). Digests are our own lowercase hex, compared as the exact text.
  const lookup = statement(token, "with-user", () => {
    const q = token.platform.quoteIdentifier.bind(token.platform);
    const select = [
      ...tokenCols.map((c, i) => `${q(`t.${c}`)} as ${q(`t${i}`)}`),
      ...userCols.map((c, i) => `${q(`u.${c}`)} as ${q(`u${i}`)}`),
    ].join(", ");
    const on = (relation.joinColumns ?? relation.fieldNames)
      .map((c, i) => `${q(`u.${relation.referencedColumnNames[i]}`)} = ${q(`t.${c}`)}`)
      .join(" and ");
    return keyedLookup(
      token,
      {
        select,
        from: `${tableOf(em, token)} as ${q("t")} join ${tableOf(em, user)} as ${q("u")} on ${on}`,
        key: q(`t.${token.pk.fieldNames[0]}`),
      },
      String,
    );
  });
  const row = await runLookup(em, lookup, digest);
  if (!row) return null;
  const tokenRow: Row = {};
  const userRow: Row = {};
  tokenCols.forEach((c, i) => {
    tokenRow[c] = row[`t${i}`];
  });
  userCols.forEach((c, i) => {
    userRow[c] = row[`u${i}`];
  });
  return { token: plainFromRow(token, tokenRow), user: plainFromRow(user, userRow) };
}

/**
 * `created_at + lifetime_seconds <= now` in the platform's own SQL, or null when this
 * platform is not one we know (the caller then scans). Detected from the platform's class
 * names, so a bundler that renames classes costs speed, never correctness.
 */
export function expiredCondition(
  model: EntityModel,
  createdAt: string,
  lifetime: string,
): string | null {
  const is = (re: RegExp) => platformIs(model.platform, re);
  if (is(/postgre/i)) return `${createdAt} + ${lifetime} * interval '1 second' <= ?`;
  if (is(/sqlite/i) && typeof model.platform.processDateProperty(new Date(0)) === "number") {
    // MikroORM stores SQLite datetimes as epoch milliseconds.
    return `${createdAt} + ${lifetime} * 1000 <= ?`;
  }
  if (is(/mysql|mariadb/i)) return `date_add(${createdAt}, interval ${lifetime} second) <= ?`;
  if (is(/mssql/i)) return `dateadd(second, ${lifetime}, ${createdAt}) <= ?`;
  return null;
}

/** Deletes the rows `condition` selects at `now`; returns how many. */
export async function sqlDeleteWhere(
  em: EntityManager,
  model: EntityModel,
  key: string,
  condition: string,
  now: Date,
): Promise<number> {
  const sql = statement(model, key, () => `delete from ${tableOf(em, model)} where ${condition}`);
  const param = model.platform.processDateProperty(now);
  const res = await conn(em).execute<{ affectedRows: number }>(sql, [param], "run", trx(em));
  return res.affectedRows;
}
