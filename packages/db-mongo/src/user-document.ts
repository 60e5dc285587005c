import {
  type ExtraFields,
  normalizeEmail,
  type UserProtocol,
  type UserUpdateData,
} from "@tessera/core";
import { idToString, type MongoStoredId } from "./ids.js";
import type { MongoOAuthAccountDocument } from "./oauth-accounts.js";

/**
 * A user as stored in MongoDB: snake_case protocol fields, plus any extra fields of the app
 * stored under the names the app gave them.
 *
 * @example
 * const users = db.collection<MongoUserDocument>("users");
 */
export interface MongoUserDocument {
  /** ObjectId or UUID string, per the adapter's `idType`. */
  _id: MongoStoredId;
  /** Normalized with core's `normalizeEmail`; unique (see `ensureIndexes`). */
  email: string;
  hashed_password: string;
  is_active: boolean;
  is_superuser: boolean;
  is_verified: boolean;
  /** The user's OAuth links, oldest first (absent until the first link). */
  oauth_accounts?: MongoOAuthAccountDocument[];
  /** The app's extra fields, under the names it gave them. */
  [field: string]: unknown;
}

/**
 * The user model `MongoUserDatabase` returns by default: protocol fields plus extras.
 *
 * @example
 * type User = MongoUser & { displayName?: string };
 * const users = new MongoUserDatabase<User>(userCollection);
 */
export type MongoUser = UserProtocol<string> & ExtraFields;

/** Model property -> document field, for the protocol fields. */
const STORED_NAMES = {
  email: "email",
  hashedPassword: "hashed_password",
  isActive: "is_active",
  isSuperuser: "is_superuser",
  isVerified: "is_verified",
} as const;

type ModelKey = keyof typeof STORED_NAMES;

const isModelKey = (key: string): key is ModelKey => Object.hasOwn(STORED_NAMES, key);

// An extra field may not shadow a protocol field under its stored name (an `is_superuser`
// extra would bypass the manager's safe mode, which drops only `isSuperuser`), nor be `_id`,
// `id` or `oauth_accounts` (the OAuth links, written by the OAuth verbs only: a profile
// update must never write links or provider tokens), nor be something MongoDB reads as an
// operator or a path.
const RESERVED = new Set<string>(["_id", "id", "oauth_accounts", ...Object.values(STORED_NAMES)]);
const isStorableExtra = (key: string) =>
  !RESERVED.has(key) && !key.startsWith("$") && !key.includes(".") && !key.includes("\0");

/**
 * The document fields to write for `data` (create or update): protocol fields renamed,
 * email normalized, storable extras kept, `undefined` values and unstorable keys dropped.
 */
export function toDocumentFields(data: UserUpdateData): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    if (value === undefined) continue;
    if (isModelKey(key)) {
      fields[STORED_NAMES[key]] = key === "email" ? normalizeEmail(value as string) : value;
    } else if (isStorableExtra(key)) {
      fields[key] = value;
    }
  }
  return fields;
}

/**
 * The app's user for a stored document: `_id` becomes the string `id`, fields camelCase.
 * The OAuth links (`oauth_accounts`, with their encrypted tokens) are not part of the user:
 * `listOAuthAccounts` reads them.
 */
export function fromUserDocument<U extends UserProtocol<string>>(doc: MongoUserDocument): U {
  const {
    _id,
    email,
    hashed_password,
    is_active,
    is_superuser,
    is_verified,
    oauth_accounts: _links,
    ...extra
  } = doc;
  return {
    ...extra,
    id: idToString(_id),
    email,
    hashedPassword: hashed_password,
    isActive: is_active,
    isSuperuser: is_superuser,
    isVerified: is_verified,
  } as unknown as U;
}
