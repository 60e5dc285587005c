/**
 * The user and access-token shapes every adapter, strategy and router agrees on.
 */
import type { JsonObject } from "./session/session.js";

/** What Tessera needs of a user. Apps add their own fields on top. */
export interface UserProtocol<ID = string> {
  id: ID;
  /** Normalized (see {@link normalizeEmail}); unique case-insensitively. */
  email: string;
  hashedPassword: string;
  isActive: boolean;
  isSuperuser: boolean;
  isVerified: boolean;
}

/** Fields an app's user may carry beyond {@link UserProtocol}. */
export type ExtraFields = Record<string, unknown>;

/** Input to `UserManager.create`. Privileged flags are dropped in safe mode. */
export interface UserCreate extends ExtraFields {
  email: string;
  password: string;
  isActive?: boolean;
  isSuperuser?: boolean;
  isVerified?: boolean;
}

/** Input to `UserManager.update`. Every field is optional. */
export interface UserUpdate extends ExtraFields {
  email?: string;
  password?: string;
  isActive?: boolean;
  isSuperuser?: boolean;
  isVerified?: boolean;
}

/** What the user manager hands to `UserDatabase.create` (password already hashed). */
export interface UserCreateData extends ExtraFields {
  email: string;
  hashedPassword: string;
  isActive: boolean;
  isSuperuser: boolean;
  isVerified: boolean;
}

/** What the user manager hands to `UserDatabase.update`. */
export interface UserUpdateData extends ExtraFields {
  email?: string;
  hashedPassword?: string;
  isActive?: boolean;
  isSuperuser?: boolean;
  isVerified?: boolean;
}

/** Conditions of `UserDatabase.update`, checked by the database in the same write. */
export interface UserUpdateConditions {
  /**
   * Compare-and-set: write only if the stored `hashedPassword` is still this one, else
   * throw `UserUpdateConflictError` and change nothing. Two password resets with one
   * token, or a reset racing a login's hash upgrade, then cannot both win (ASVS 5.0 15.4.2).
   */
  expectedHashedPassword?: string;
}

/**
 * Storage of users. Adapters implement it for their database.
 *
 * `getByEmail` receives a normalized email; storage must enforce uniqueness of the
 * normalized email with a unique index (the database decides races, not a read first).
 * `create`/`update` throw {@link UserAlreadyExistsError} on a unique-email violation.
 * `update` honours {@link UserUpdateConditions} atomically (one conditional write, not a
 * read then a write) and throws `UserUpdateConflictError` when they do not hold.
 */
export interface UserDatabase<U extends UserProtocol<ID>, ID = U["id"]> {
  get(id: ID): Promise<U | null>;
  getByEmail(email: string): Promise<U | null>;
  create(data: UserCreateData): Promise<U>;
  update(user: U, data: UserUpdateData, conditions?: UserUpdateConditions): Promise<U>;
  delete(user: U): Promise<void>;
}

/**
 * What a session keeps beside its token, all optional: a row of an earlier release has
 * none of them (null or absent reads as no data, no claims, an unknown device).
 */
export interface AccessTokenSessionFields {
  /**
   * The session's public handle (`sessionIdFromDigest(token)`), stored so the session can be
   * found by it; null on a row of an earlier release until the session is next read.
   */
  handle?: string | null;
  /** When the session was last used, written with the sliding renewal only. */
  lastUsedAt?: Date | null;
  /** The client address it was created from (bounded). */
  ipAddress?: string | null;
  /** The user agent it was created from (bounded). */
  userAgent?: string | null;
  /** Server-side session data, never sent to the client by Tessera. */
  data?: JsonObject | null;
  /** Custom claims of the session. */
  claims?: JsonObject | null;
  /**
   * SHA-256 digest of the session's current refresh token (refresh-token sessions only;
   * null or absent on every other row).
   */
  refreshDigest?: string | null;
  /** SHA-256 digest of the current refresh token's parent, usable until its child is used. */
  refreshParentDigest?: string | null;
}

/** An access token at rest. `token` is the SHA-256 digest, never the token itself. */
export interface AccessTokenProtocol<ID = string> extends AccessTokenSessionFields {
  token: string;
  userId: ID;
  createdAt: Date;
  lifetimeSeconds: number;
}

/** Input to `AccessTokenDatabase.create`. */
export interface AccessTokenCreate<ID = string> extends AccessTokenSessionFields {
  token: string;
  userId: ID;
  createdAt: Date;
  lifetimeSeconds: number;
}

/**
 * Input to `AccessTokenDatabase.update`: only the fields given change (sliding renewal sets
 * `lifetimeSeconds` with `lastUsedAt`; the session API sets `data` or `claims`).
 */
export interface AccessTokenUpdate {
  lifetimeSeconds?: number;
  handle?: string;
  lastUsedAt?: Date;
  data?: JsonObject;
  claims?: JsonObject;
}

/** Input to `AccessTokenDatabase.rotateRefresh`: the write a refresh-token rotation makes. */
export interface AccessTokenRotation {
  /** The new current refresh digest (the child's). */
  refreshDigest: string;
  /** The new parent digest (the token just presented). */
  refreshParentDigest: string;
  /** The renewed lifetime (`createdAt + lifetimeSeconds` = the new idle expiry). */
  lifetimeSeconds: number;
  /** When the rotation happened (the session's last use). */
  lastUsedAt: Date;
}

/**
 * Storage of opaque access tokens (by digest). An adapter may also implement
 * {@link AccessTokenWithUserReader} to read a token and its user in one round trip.
 */
export interface AccessTokenDatabase<AT extends AccessTokenProtocol<ID>, ID = AT["userId"]> {
  getByToken(digest: string): Promise<AT | null>;
  create(data: AccessTokenCreate<ID>): Promise<AT>;
  /** Writes the given fields of the token's row (no other); returns the token as updated. */
  update(accessToken: AT, data: AccessTokenUpdate): Promise<AT>;
  delete(accessToken: AT): Promise<void>;
  /**
   * Deletes every token of the user but the one whose digest is `options.exceptDigest`
   * (the session that asked: a user changing their own password stays logged in there).
   */
  deleteAllForUser(userId: ID, options?: { exceptDigest?: string }): Promise<void>;
  /** Deletes every token expired at `now`; returns how many were deleted. */
  deleteExpired(now: Date): Promise<number>;
  /** Every token row of the user (expired ones may be included); enables session listing. */
  listByUser?(userId: ID): Promise<AT[]>;
  /** The token row whose `handle` is this one (index it), or null; enables session data by handle. */
  getByHandle?(handle: string): Promise<AT | null>;
  /**
   * Writes `fields` (data, claims or both; no other) of the row whose `handle` is this one,
   * in one conditional write (`UPDATE … WHERE handle = ?`, `updateOne({ handle })`): session
   * data set by handle in one round trip. With `live`, only a row not expired at `live.now`
   * matches, counting both its `createdAt + lifetimeSeconds` and the absolute cap
   * `createdAt + live.maxLifetimeSeconds` (the session store's clock and cap, not the
   * database's). Resolves true when a row matched (even if its value was already this),
   * false for an unknown, malformed or expired handle, which writes nothing.
   */
  updateByHandle?(
    handle: string,
    fields: Pick<AccessTokenUpdate, "data" | "claims">,
    live?: { now: Date; maxLifetimeSeconds: number },
  ): Promise<boolean>;
  /**
   * Merges `patch` into the data of the live row (as {@link updateByHandle}'s `live`) whose
   * `handle` is this one, in one write whose new value the database computes from the row
   * itself, so concurrent merges of distinct keys all land: top-level keys only, a key set to
   * null is deleted, any other value replaces the stored one whole. Written only if the
   * merged data's JSON is at most `maxBytes` (measured as the database renders it, which may
   * be longer than `JSON.stringify`). Resolves with the merged data, or null when nothing was
   * written: no live row, over the bound, or a database or patch it cannot merge in place.
   * The session store then falls back to a read and a write, which answers exactly.
   */
  mergeDataByHandle?(
    handle: string,
    patch: JsonObject,
    maxBytes: number,
    live: { now: Date; maxLifetimeSeconds: number },
  ): Promise<JsonObject | null>;
  /**
   * Writes `rotation` (its four fields, no other) to the row `digest` only if its
   * `refreshDigest` is still `expected`, in one conditional write (`UPDATE … WHERE token = ?
   * AND refresh_digest = ?`, `updateOne({ _id, refresh_digest })`): resolves true when a row
   * matched, false for an unknown or malformed digest, a row whose refresh digest is another
   * one or none, which writes nothing. The refresh-token session store reads, decides, then
   * rotates through this, so of concurrent rotations from one digest exactly one lands.
   */
  rotateRefresh?(digest: string, expected: string, rotation: AccessTokenRotation): Promise<boolean>;
}

/** Optional one-round-trip read of a token row with its user. */
export interface AccessTokenWithUserReader<
  AT extends AccessTokenProtocol<ID>,
  U extends UserProtocol<ID>,
  ID = AT["userId"],
> {
  getByTokenWithUser(digest: string): Promise<{ accessToken: AT; user: U } | null>;
}

/** When an access token expires: `createdAt + lifetimeSeconds`. */
export function accessTokenExpiresAt(
  at: Pick<AccessTokenProtocol<unknown>, "createdAt" | "lifetimeSeconds">,
): Date {
  return new Date(at.createdAt.getTime() + at.lifetimeSeconds * 1000);
}

/**
 * Normalizes an email for storage and lookup: Unicode NFKC (so full-width look-alikes
 * collapse onto ASCII), trimmed, lower-cased. Uniqueness is enforced on this form.
 */
export function normalizeEmail(email: string): string {
  return email.normalize("NFKC").trim().toLowerCase();
}
