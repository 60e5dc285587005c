import type { ClientSession, Collection, Filter } from "mongodb";
import type { MongoAccessTokenDocument } from "./token-document.js";

/** `created_at + lifetime_seconds <= now`, evaluated by the server (needs `$expr`). */
export function expiredFilter(now: Date): Filter<MongoAccessTokenDocument> {
  return {
    $expr: {
      $lte: [{ $add: ["$created_at", { $multiply: ["$lifetime_seconds", 1000] }] }, now],
    },
  };
}

/** `created_at + lifetime_seconds > now`: not expired, evaluated by the server (needs `$expr`). */
export function liveFilter(now: Date): Filter<MongoAccessTokenDocument> {
  return {
    $expr: {
      $gt: [{ $add: ["$created_at", { $multiply: ["$lifetime_seconds", 1000] }] }, now],
    },
  };
}

/** Rows deleted per round trip by {@link deleteExpiredByScan}. */
const BATCH = 500;

interface ScannedToken {
  /** The digest. */
  _id: string;
  created_at: Date;
  lifetime_seconds: number;
}

/**
 * `deleteExpired` for servers without `$expr` (FerretDB v1): reads `_id` (the digest),
 * `created_at` and `lifetime_seconds` of the tokens created at or before `now` (no other can
 * have expired), decides expiry here, and deletes by `_id` in batches. Each delete also matches the
 * `lifetime_seconds` it saw, so a token renewed between the read and the delete survives.
 * Cost grows with the number of tokens: prefer a server with `$expr`, or a TTL index.
 */
export async function deleteExpiredByScan(
  collection: Collection<MongoAccessTokenDocument>,
  now: Date,
  options: { session?: ClientSession },
): Promise<number> {
  const cursor = collection.find<ScannedToken>(
    { created_at: { $lte: now } },
    { ...options, projection: { _id: 1, created_at: 1, lifetime_seconds: 1 } },
  );
  let deleted = 0;
  let batch: { _id: string; lifetime_seconds: number }[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const result = await collection.deleteMany({ $or: batch }, options);
    deleted += result.deletedCount;
    batch = [];
  };
  for await (const row of cursor) {
    if (row.created_at.getTime() + row.lifetime_seconds * 1000 > now.getTime()) continue;
    batch.push({ _id: row._id, lifetime_seconds: row.lifetime_seconds });
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  return deleted;
}
