// mergeDataByHandle on plain update operators, so that it is one round trip on MongoDB and
// on FerretDB v1 alike (no update pipelines, no `$expr` there): each patch key is its own
// `$set` / `$unset` of `data.<escaped key>`, the merged size is bounded by `data_bytes` (an
// upper bound of the data's JSON bytes kept by every data write) and liveness by
// `expires_at` (`created_at + lifetime_seconds`, kept by every lifetime write). A row
// without either field (written by an earlier release, or data set to null) never
// matches: the session store's exact read and write answer, and re-establish both.
import type { JsonObject } from "@tessera/core";
import { toMongoJson } from "@tessera/core/internal";
import type { Filter, UpdateFilter } from "mongodb";
import type { MongoAccessTokenDocument } from "./token-document.js";

/** The UTF-8 bytes of a value's JSON, as the session store measures session data. */
export const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

/** `expires_at` of a row created at `createdAt` with this lifetime. */
export const expiresAt = (createdAt: Date, lifetimeSeconds: number): Date =>
  new Date(createdAt.getTime() + lifetimeSeconds * 1000);

/**
 * The filter and update of one merge, or null for a patch this cannot merge in place (none
 * of its keys, or an empty key: `data.` is no field path).
 */
export function mergeWrite(
  handle: string,
  patch: JsonObject,
  maxBytes: number,
  live: { now: Date; maxLifetimeSeconds: number },
): {
  filter: Filter<MongoAccessTokenDocument>;
  update: UpdateFilter<MongoAccessTokenDocument>;
} | null {
  const entries = Object.entries(patch);
  if (entries.length === 0 || entries.some(([key]) => key === "")) return null;
  const $set: Record<string, unknown> = {};
  const $unset: Record<string, ""> = {};
  // Each key set adds at most `"key":value,` to the stored JSON; one deleted adds nothing.
  let grows = 0;
  for (const [key, value] of Object.entries(toMongoJson(patch))) {
    if (value === null) {
      $unset[`data.${key}`] = "";
    } else {
      $set[`data.${key}`] = value;
    }
  }
  for (const [key, value] of entries) {
    if (value !== null) grows += jsonBytes(key) + 1 + jsonBytes(value) + 1;
  }
  const cap = new Date(live.now.getTime() - live.maxLifetimeSeconds * 1000);
  const filter: Filter<MongoAccessTokenDocument> = {
    handle,
    created_at: { $gt: cap },
    expires_at: { $gt: live.now },
    data_bytes: { $lte: maxBytes - grows },
  };
  const update: UpdateFilter<MongoAccessTokenDocument> = { $inc: { data_bytes: grows } };
  if (Object.keys($set).length > 0)
    update.$set = $set as UpdateFilter<MongoAccessTokenDocument>["$set"];
  if (Object.keys($unset).length > 0) {
    update.$unset = $unset as UpdateFilter<MongoAccessTokenDocument>["$unset"];
  }
  return { filter, update };
}
