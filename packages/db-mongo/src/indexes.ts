import { ConfigurationError } from "@tessera/core";
import type { Collection, Document } from "mongodb";
import { isNotImplementedError, runDriver } from "./driver-errors.js";

/**
 * Whether expired tokens are garbage-collected by the server:
 * - `"active"`: a TTL index on `created_at` exists with the requested `expireAfterSeconds`;
 * - `"unsupported"`: the server refused TTL indexes (FerretDB v1 answers NotImplemented):
 *   run `deleteExpired` on a schedule instead;
 * - `"disabled"`: no `maxLifetimeSeconds` was given, so no TTL index was asked for.
 *
 * @example
 * const { ttl } = await tokens.ensureIndexes({ maxLifetimeSeconds: 86400 }); // "unsupported" on FerretDB v1
 */
export type MongoTtlIndexStatus = "active" | "unsupported" | "disabled";

const INDEX_OPTIONS_CONFLICT = 85;
const INDEX_KEY_SPECS_CONFLICT = 86;

/** MongoDB refused an index because one with the same name or keys has other options. */
const isIndexConflict = (error: unknown) => {
  const code = (error as { code?: unknown } | null)?.code;
  return code === INDEX_OPTIONS_CONFLICT || code === INDEX_KEY_SPECS_CONFLICT;
};

/**
 * Creates a unique ascending index on `keys` (one field, or several: a compound index) and
 * checks that a unique index on exactly those keys exists afterwards: FerretDB v1 answers OK
 * to a createIndex that conflicts with an existing non-unique index of the same name, and
 * then nothing would stop duplicates. With `partial`, only documents matching it are indexed;
 * a server that does not implement partial indexes gets the index without it.
 */
export async function ensureUniqueIndex<T extends Document>(
  collection: Collection<T>,
  keys: Record<string, 1>,
  name: string,
  partial?: Document,
): Promise<void> {
  const create = (partialFilterExpression?: Document) =>
    runDriver(() =>
      collection.createIndex(keys, {
        unique: true,
        name,
        ...(partialFilterExpression ? { partialFilterExpression } : {}),
      }),
    );
  try {
    try {
      await create(partial);
    } catch (error) {
      if (!partial || !isNotImplementedError(error)) throw error;
      await create();
    }
  } catch (error) {
    // An index on the keys under another name or with other options: fine if it is
    // unique (an app's own `email_1`), which the check below decides.
    if (!isIndexConflict(error)) throw error;
  }
  const wanted = Object.keys(keys).join(",");
  const indexes = await runDriver(() => collection.listIndexes().toArray());
  const unique = indexes.some(
    (index) =>
      Object.keys((index.key ?? {}) as object).join(",") === wanted && index.unique === true,
  );
  if (!unique) {
    throw new ConfigurationError(
      `${collection.namespace}: an index on "${wanted}" exists but is not unique; ` +
        "drop it and call ensureIndexes() again",
    );
  }
}

/** Creates a plain ascending index on `field`. */
export async function ensureIndex<T extends Document>(
  collection: Collection<T>,
  field: string,
  name: string,
): Promise<void> {
  await runDriver(() => collection.createIndex({ [field]: 1 }, { name }));
}

/**
 * Creates (or retunes) a TTL index on `field` that removes a document `seconds` after the
 * date it holds. A TTL index of another `expireAfterSeconds` is dropped and made again
 * (collMod would need the Db object, which a Collection does not expose).
 */
export async function ensureTtlIndex<T extends Document>(
  collection: Collection<T>,
  field: string,
  name: string,
  seconds: number | undefined,
): Promise<MongoTtlIndexStatus> {
  if (seconds === undefined) return "disabled";
  if (!Number.isSafeInteger(seconds) || seconds <= 0) {
    throw new ConfigurationError(`maxLifetimeSeconds must be a positive integer, got ${seconds}`);
  }
  const create = () =>
    collection.createIndex({ [field]: 1 }, { name, expireAfterSeconds: seconds });
  try {
    await runDriver(create);
    return "active";
  } catch (error) {
    if (isNotImplementedError(error)) return "unsupported";
    if (!isIndexConflict(error)) throw error;
  }
  await runDriver(() => collection.dropIndex(name));
  await runDriver(create);
  return "active";
}
