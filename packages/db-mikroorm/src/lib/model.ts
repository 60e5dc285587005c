// What the adapters need to know of an entity, read once from MikroORM's metadata and cached
// per EntityMetadata object (one per ORM instance), so a request pays for none of it.
import {
  type EntityComparator,
  type EntityManager,
  type EntityMetadata,
  type EntityName,
  type EntityProperty,
  type Platform,
  ReferenceKind,
  Utils,
  wrap,
} from "@mikro-orm/core";
import { integerIdParser, objectIdStringParser, uuidIdParser } from "@tessera/core";
import type { EntityTarget } from "../types.js";

/** A row or document as the adapters pass it around: column or field names to values. */
export type Row = Record<string, unknown>;

/** How a primary key is checked before it reaches a query. */
export type IdKind = "uuid" | "integer" | "objectId" | "string";

export interface EntityModel {
  meta: EntityMetadata;
  platform: Platform;
  comparator: EntityComparator;
  mongo: boolean;
  pk: EntityProperty;
  idKind: IdKind;
  /** Key of the id in plain objects: the serialized `id` when the key is mongo's `_id`. */
  idKey: string;
  /** Persisted scalar and to-one properties: what a plain object carries. */
  fields: EntityProperty[];
  /** Names of the lazy scalar fields, which a plain MikroORM read must populate. */
  lazy: string[];
}

const models = new WeakMap<EntityMetadata, EntityModel>();

/** The model of `entity` in `em`'s ORM, built on first use. */
export function modelOf(em: EntityManager, entity: EntityTarget): EntityModel {
  const meta = em.getMetadata().get(entity as EntityName<object>);
  const cached = models.get(meta);
  if (cached) return cached;
  const platform = em.getPlatform();
  const pks = meta.getPrimaryProps();
  const pk = pks[0];
  if (!pk || pks.length !== 1) {
    throw new TypeError(`${meta.className}: Tessera needs exactly one primary key`);
  }
  const fields = meta.props.filter(
    (p) =>
      p.persist !== false &&
      !p.embedded &&
      (p.kind === ReferenceKind.SCALAR ||
        p.kind === ReferenceKind.EMBEDDED ||
        p.kind === ReferenceKind.MANY_TO_ONE ||
        (p.kind === ReferenceKind.ONE_TO_ONE && p.owner)),
  );
  const model: EntityModel = {
    meta,
    platform,
    comparator: em.getComparator(),
    mongo: isMongo(em),
    pk,
    idKind: idKindOf(pk),
    idKey: pk.name === "_id" && meta.serializedPrimaryKey ? meta.serializedPrimaryKey : pk.name,
    fields,
    lazy: fields.filter((p) => p.lazy && p.kind === ReferenceKind.SCALAR).map((p) => p.name),
  };
  models.set(meta, model);
  return model;
}

/**
 * Whether the platform (or one of its base classes) is named like `pattern`. By class name,
 * so a bundler that renames classes costs speed (a plain path), never correctness.
 */
export function platformIs(platform: Platform, pattern: RegExp): boolean {
  for (
    let p = Object.getPrototypeOf(platform);
    p && p !== Object.prototype;
    p = Object.getPrototypeOf(p)
  ) {
    if (pattern.test(String(p.constructor?.name ?? ""))) return true;
  }
  return false;
}

/** The quoted column of `prop`, or a clear error naming what has none. */
export function column(model: EntityModel, prop: EntityProperty): string {
  const name = prop.fieldNames?.[0];
  if (!name) throw new TypeError(`${model.meta.className}.${prop.name} has no column`);
  return model.platform.quoteIdentifier(name);
}

/** MongoDB's connection is the one with collections; every SQL connection executes SQL. */
export function isMongo(em: EntityManager): boolean {
  return typeof (em.getConnection() as { aggregate?: unknown }).aggregate === "function";
}

function idKindOf(pk: EntityProperty): IdKind {
  const type = String(pk.type).toLowerCase();
  if (type === "objectid") return "objectId";
  if (type === "uuid" || type === "uuidtype" || pk.columnTypes?.[0] === "uuid") return "uuid";
  if (pk.runtimeType === "number") return "integer";
  return "string";
}

const MAX_STRING_ID = 255;

/**
 * The id as the database takes it, or `undefined` when `value` cannot be an id of this
 * entity: lookups then answer null without a query (no driver error on `{$ne: null}`, a
 * 10 kB string or "abc" for an integer column).
 */
export function toDbId(model: EntityModel, value: unknown): unknown {
  try {
    switch (model.idKind) {
      case "uuid":
        return uuidIdParser.parse(value);
      case "integer":
        return integerIdParser.parse(value);
      case "objectId": {
        const hex = objectIdStringParser.parse(
          typeof value === "object" ? model.platform.normalizePrimaryKey(value as never) : value,
        );
        return model.platform.denormalizePrimaryKey(hex);
      }
      default:
        return typeof value === "string" && value.length > 0 && value.length <= MAX_STRING_ID
          ? value
          : undefined;
    }
  } catch {
    return undefined;
  }
}

/** A key value as Tessera shows it: the platform's normal form (an ObjectId's hex string). */
export function toPlainId(model: EntityModel, value: unknown): unknown {
  return value != null && typeof value === "object"
    ? model.platform.normalizePrimaryKey(value as never)
    : value;
}

/**
 * A plain object from a row keyed by column names: MikroORM's compiled result mapper
 * (column -> property, booleans, dates), then custom types, then ids in Tessera's form.
 */
export function plainFromRow(model: EntityModel, row: Row): Row {
  return plainFromValues(model, model.comparator.mapResult(model.meta, row) as Row);
}

/** A plain object from an entity instance (after `em.create` + `em.insert`). */
export function plainFromEntity(model: EntityModel, entity: object): Row {
  const values: Row = {};
  for (const prop of model.fields) {
    const value = (entity as Row)[prop.name];
    values[prop.name] =
      value != null && typeof value === "object" && Utils.isEntity(value, true)
        ? wrap(value as object, true).getPrimaryKey()
        : value;
  }
  return plainFromValues(model, values, false);
}

function plainFromValues(model: EntityModel, values: Row, convert = true): Row {
  const plain: Row = {};
  for (const prop of model.fields) {
    let value = values[prop.name];
    if (value === undefined) continue;
    if (convert && value !== null && prop.customType && prop.kind === ReferenceKind.SCALAR) {
      value = prop.customType.convertToJSValue(value, model.platform);
    }
    if (prop === model.pk) {
      plain[model.idKey] = toPlainId(model, value);
    } else if (prop.targetMeta) {
      plain[prop.name] = toPlainId(model, value);
    } else {
      plain[prop.name] = value;
    }
  }
  return plain;
}
