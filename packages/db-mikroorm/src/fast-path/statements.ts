// The fast path's SQL, built once per entity metadata from MikroORM's metadata (table and
// column names, schema, the app's extra columns), so a request pays for none of it.
import type { EntityManager, EntityProperty } from "@mikro-orm/core";
import { column, type EntityModel } from "../lib/model.js";

/**
 * How a batched lookup matches rows to callers: the key column's value as the caller's value
 * would compare in SQL (a UUID in any case, an integer as a number or a string).
 */
export type BatchKey = (value: unknown) => string;

/** Rows of a batch carry their key in this column (removed before a caller sees the row). */
export const BATCH_KEY_COLUMN = "__tessera_key";

/**
 * A lookup by one unique key: `sql`, the single-key statement (`... = ? limit 1`), and
 * `batchSql`, the same for `any(?)` of many keys with the key selected as
 * {@link BATCH_KEY_COLUMN}; `batchKey` matches rows back to callers, null when the key's
 * type has no exact rule (never batched).
 */
export interface KeyedLookup {
  readonly sql: string;
  readonly batchSql: string;
  readonly batchKey: BatchKey | null;
}

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
export function columnsOf(model: EntityModel): string[] {
  let cols = columns.get(model);
  if (!cols) {
    cols = model.fields.filter((p) => !p.formula).flatMap((p) => p.fieldNames ?? []);
    columns.set(model, cols);
  }
  return cols;
}

const built = new WeakMap<object, Map<string, unknown>>();

/** What `build` makes for `model` under `key`, built once per entity metadata. */
function once<T>(model: EntityModel, key: string, build: () => T): T {
  let forMeta = built.get(model.meta);
  if (!forMeta) {
    forMeta = new Map();
    built.set(model.meta, forMeta);
  }
  let made = forMeta.get(key) as T | undefined;
  if (made === undefined) {
    made = build();
    forMeta.set(key, made);
  }
  return made;
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

const uuidKey: BatchKey = (value) => String(value).toLowerCase();

/**
 * Primary keys with an exact matching rule may be batched: UUIDs compare in any case in
 * PostgreSQL, integers whatever JS type carries them. Text keys (a collation of their own...)
 * are not.
 */
function batchKeyOf(model: EntityModel): BatchKey | null {
  if (model.idKind === "uuid") return uuidKey;
  if (model.idKind === "integer") return String;
  return null;
}

/**
 * The row of `model` whose `prop` equals the value: every column, by their names. Lookups
 * by primary key may be batched (see `batchKeyOf`); by another column only when `exactText`
 * says its values are Tessera's own strings compared as the exact text (session handles).
 */
export function rowLookup(
  em: EntityManager,
  model: EntityModel,
  prop: EntityProperty,
  exactText = false,
) {
  return once(model, `one:${prop.name}:${exactText}`, () =>
    keyedLookup(
      model,
      {
        select: columnsOf(model)
          .map((c) => model.platform.quoteIdentifier(c))
          .join(", "),
        from: tableOf(em, model),
        key: column(model, prop),
      },
      // Lookups by primary key (the user of every request), and by a handle, may share a
      // statement.
      prop === model.pk ? batchKeyOf(model) : exactText ? String : null,
    ),
  );
}

/**
 * A token row joined with its user's row (an inner join: a token whose user is gone reads as
 * nothing), columns aliased by position (`t0…`, `u0…`) so names never collide. Digests are
 * our own lowercase hex, compared as the exact text.
 */
export function tokenWithUserLookup(
  em: EntityManager,
  token: EntityModel,
  relation: EntityProperty,
  user: EntityModel,
) {
  return once(token, "with-user", () => {
    const q = token.platform.quoteIdentifier.bind(token.platform);
    const select = [
      ...columnsOf(token).map((c, i) => `${q(`t.${c}`)} as ${q(`t${i}`)}`),
      ...columnsOf(user).map((c, i) => `${q(`u.${c}`)} as ${q(`u${i}`)}`),
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
}
