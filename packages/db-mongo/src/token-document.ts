import type { AccessTokenProtocol } from "@tessera/core";
import { idToString, type MongoStoredId } from "./ids.js";

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
}

/** The core model of a stored token row. */
export const fromTokenDocument = (doc: MongoAccessTokenDocument): AccessTokenProtocol<string> => ({
  token: doc._id,
  userId: idToString(doc.user_id),
  createdAt: doc.created_at,
  lifetimeSeconds: doc.lifetime_seconds,
});

// A digest is 64 hex digits; anything that is not a short string is no token at all.
const MAX_DIGEST_LENGTH = 512;

/** True for a value that may be a digest: a non-empty, short string (never an object). */
export const isDigest = (value: unknown): value is string =>
  typeof value === "string" && value.length > 0 && value.length <= MAX_DIGEST_LENGTH;
