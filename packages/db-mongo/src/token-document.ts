import type { AccessTokenProtocol, AccessTokenUpdate, JsonObject } from "@tessera/core";
import { fromMongoJson, toMongoJson } from "@tessera/core/internal";
import { idToString, type MongoStoredId } from "./ids.js";
import { jsonBytes } from "./merge-data.js";

/**
 * An access token as stored in MongoDB. `_id` is the token's SHA-256 digest, never the
 * token: every read and write by digest is an `_id` equality, which MongoDB answers from
 * the `_id` index and FerretDB v1 hands down to its backend (on any other field FerretDB v1
 * reads and decodes every document of the collection).
 *
 * @example
 * const tokens = db.collection<MongoAccessTokenDocument>("access_tokens");
 */
export interface MongoAccessTokenDocument {
  /** The SHA-256 digest of the token. */
  _id: string;
  /** The user's `_id`, stored the same way (ObjectId or UUID string). */
  user_id: MongoStoredId;
  created_at: Date;
  lifetime_seconds: number;
  // The session fields (issue 14): absent on documents of an earlier release.
  /** The session's public handle (a hash of the digest), indexed: data is reached by it. */
  handle?: string | null;
  /** When the session was last used, written with the sliding renewal only. */
  last_used_at?: Date | null;
  ip_address?: string | null;
  user_agent?: string | null;
  /** Server-side session data, as a subdocument. */
  data?: JsonObject | null;
  /** The session's custom claims, as a subdocument. */
  claims?: JsonObject | null;
  /**
   * An upper bound of `data`'s JSON bytes (exact when data is set whole, plus each merged
   * patch's bytes): what `mergeDataByHandle`'s one write checks the size against.
   */
  data_bytes?: number;
  /**
   * `created_at + lifetime_seconds`, written with either (absent on rows of an earlier
   * release): the idle expiry `mergeDataByHandle`'s one write checks, with no `$expr`.
   */
  expires_at?: Date;
  // The refresh-token fields (issue 15): on refresh sessions only.
  /** SHA-256 hex digest of the session's current refresh token. */
  refresh_digest?: string | null;
  /** SHA-256 hex digest of its parent, accepted until the current one is used. */
  refresh_parent_digest?: string | null;
}

/** Field names of the session and refresh-token fields, by the core model's names. */
export const SESSION_FIELDS = {
  handle: "handle",
  lastUsedAt: "last_used_at",
  ipAddress: "ip_address",
  userAgent: "user_agent",
  data: "data",
  claims: "claims",
  refreshDigest: "refresh_digest",
  refreshParentDigest: "refresh_parent_digest",
} as const satisfies Record<string, keyof MongoAccessTokenDocument>;

/** `$set` of an {@link AccessTokenUpdate}: the given fields only. */
export function tokenUpdateSet(data: AccessTokenUpdate): Partial<MongoAccessTokenDocument> {
  const set: Partial<MongoAccessTokenDocument> = {};
  if (data.lifetimeSeconds !== undefined) set.lifetime_seconds = data.lifetimeSeconds;
  if (data.handle !== undefined) set.handle = data.handle;
  if (data.lastUsedAt !== undefined) set.last_used_at = data.lastUsedAt;
  if (data.data !== undefined) {
    set.data = toMongoJson(data.data);
    set.data_bytes = jsonBytes(data.data);
  }
  if (data.claims !== undefined) set.claims = toMongoJson(data.claims);
  return set;
}

/** The core model of a stored token row. */
export const fromTokenDocument = (doc: MongoAccessTokenDocument): AccessTokenProtocol<string> => ({
  token: doc._id,
  userId: idToString(doc.user_id),
  createdAt: doc.created_at,
  lifetimeSeconds: doc.lifetime_seconds,
  handle: doc.handle ?? null,
  lastUsedAt: doc.last_used_at ?? null,
  ipAddress: doc.ip_address ?? null,
  userAgent: doc.user_agent ?? null,
  data: doc.data ? fromMongoJson(doc.data) : null,
  claims: doc.claims ? fromMongoJson(doc.claims) : null,
  refreshDigest: doc.refresh_digest ?? null,
  refreshParentDigest: doc.refresh_parent_digest ?? null,
});

// A digest is 64 hex digits; anything that is not a short string is no token at all.
const MAX_DIGEST_LENGTH = 512;

/** True for a value that may be a digest: a non-empty, short string (never an object). */
export const isDigest = (value: unknown): value is string =>
  typeof value === "string" && value.length > 0 && value.length <= MAX_DIGEST_LENGTH;
