import {
  boundDevice,
  type CreateSessionOptions,
  checkSessionJson,
  generateOpaqueToken,
  hashToken,
  type JsonObject,
  type Session,
  type SessionLimits,
} from "@tessera/core";
import { sessionIdFromDigest } from "@tessera/core/internal";
import { FIELD, type SessionKeys, type StoredSession } from "./session-keys.js";

// A login writes its index entry before its session key; an index entry this young with
// no session key may be that login in flight, so pruning leaves it for a later pass.
export const INDEX_GRACE_MS = 60_000;
// Checking every member of an index costs one EXISTS each: done when the index reaches
// 32, 64, 128… members, so its cost is amortized over the logins that grew it.
const PRUNE_FROM = 32;

/** What RedisStrategy and RedisSessionStore share: the keys, lifetimes, clock and limits. */
export interface SessionConfig {
  keys: SessionKeys;
  lifetimeSeconds: number;
  maxLifetimeSeconds: number;
  clock: () => number;
  limits: Readonly<Required<SessionLimits>>;
}

/**
 * Creates a session of `userId` and returns its token (never stored), the digest it is
 * stored under, and the Session. `refreshDigest` makes it a refresh-token session. Three
 * keys, in an order where a failure leaves only harmless leftovers: the user's index and
 * the handle's pointer (dead entries are pruned or expire), then the session key.
 */
export async function createStoredSession<ID>(
  config: SessionConfig,
  userId: ID,
  options: CreateSessionOptions,
  snapshot: string | null,
  refreshDigest: string | null = null,
): Promise<{ token: string; digest: string; session: Session<ID> }> {
  const { keys, limits } = config;
  const data =
    options.data === undefined ? null : checkSessionJson(options.data, "data", limits.maxDataBytes);
  const claims =
    options.claims === undefined
      ? {}
      : checkSessionJson(options.claims, "claims", limits.maxClaimsBytes);
  const device = boundDevice(options.device);
  const token = generateOpaqueToken();
  const digest = hashToken(token);
  const handle = sessionIdFromDigest(digest);
  const stringId = String(userId);
  const now = config.clock();
  const lifetimeSeconds = Math.min(config.lifetimeSeconds, config.maxLifetimeSeconds);
  const capMs = config.maxLifetimeSeconds * 1000;
  keys.remember(handle, digest);
  const [size] = await Promise.all([
    keys.addToIndex(stringId, digest, now, now - capMs, capMs),
    keys.pointHandle(handle, digest, capMs),
  ]);
  await keys.write(
    digest,
    {
      userId: stringId,
      createdAt: now,
      lifetimeSeconds,
      snapshot,
      handle,
      ipAddress: device.ipAddress,
      userAgent: device.userAgent,
      data: data === null || isEmpty(data) ? null : encodeData(data),
      claims: isEmpty(claims) ? null : JSON.stringify(claims),
      refresh: refreshDigest,
    },
    lifetimeSeconds * 1000,
  );
  if (size >= PRUNE_FROM && (size & (size - 1)) === 0) await pruneIndex(config, stringId);
  const session: Session<ID> = {
    handle,
    userId,
    createdAt: new Date(now),
    expiresAt: new Date(now + lifetimeSeconds * 1000),
    absoluteExpiresAt: new Date(now + capMs),
    lastUsedAt: null,
    device,
    claims,
  };
  return { token, digest, session };
}

/** Drops index entries whose session keys are gone (expired, deleted on read). */
export async function pruneIndex(config: SessionConfig, userId: string): Promise<void> {
  const { keys } = config;
  const digests = await keys.members(userId);
  const alive = await keys.existing(digests);
  const gone = digests.filter((_, i) => !alive[i]);
  await keys.removeDeadFromIndex(userId, gone, config.clock() - INDEX_GRACE_MS);
}

/**
 * Deletes every session of the user `id` but those `keep` selects, one check-and-delete
 * per session key (they span slots), then their index entries and handle pointers.
 */
export async function invalidateAll(
  config: SessionConfig,
  id: string,
  keep: (digest: string) => boolean,
): Promise<void> {
  const { keys } = config;
  const digests = (await keys.members(id)).filter((digest) => !keep(digest));
  await Promise.all(digests.map((digest) => keys.deleteOwned(digest, id)));
  await Promise.all([
    keys.removeDeadFromIndex(id, digests, config.clock() - INDEX_GRACE_MS),
    keys.dropHandles(digests.map(sessionIdFromDigest)),
  ]);
}

/**
 * The Session of a stored session read with all its fields (`SessionKeys.read` full, or
 * `peek` of FIELD's names). A session written by the previous release has no handle: it
 * gets one here, with its pointer, once (two writes), so handle-based calls then find it.
 */
export function sessionOf<ID>(
  config: SessionConfig,
  digest: string,
  stored: StoredSession,
  userId: ID,
): Session<ID> | Promise<Session<ID>> {
  const storedHandle = stored.reply[FIELD.handle];
  const session = sessionFrom(config, digest, stored, userId);
  config.keys.remember(session.handle, digest);
  if (typeof storedHandle === "string") return session;
  const capMs = config.maxLifetimeSeconds * 1000;
  const ttlMs = stored.createdAt + capMs - config.clock();
  return Promise.all([
    config.keys.pointHandle(session.handle, digest, ttlMs),
    config.keys.setHandle(digest, session.handle),
  ]).then(() => session);
}

/** The Session of a stored session read with all its fields, with no write and no memo. */
export function sessionFrom<ID>(
  config: SessionConfig,
  digest: string,
  stored: StoredSession,
  userId: ID,
): Session<ID> {
  const { reply } = stored;
  const storedHandle = reply[FIELD.handle];
  const capMs = config.maxLifetimeSeconds * 1000;
  const lastUsed = Number(reply[FIELD.lastUsedAt] ?? Number.NaN);
  return {
    handle: typeof storedHandle === "string" ? storedHandle : sessionIdFromDigest(digest),
    userId,
    createdAt: new Date(stored.createdAt),
    expiresAt: new Date(
      Math.min(stored.createdAt + stored.lifetimeSeconds * 1000, stored.createdAt + capMs),
    ),
    absoluteExpiresAt: new Date(stored.createdAt + capMs),
    lastUsedAt: Number.isFinite(lastUsed) ? new Date(lastUsed) : null,
    device: {
      ipAddress: stringOrNull(reply[FIELD.ipAddress]),
      userAgent: stringOrNull(reply[FIELD.userAgent]),
    },
    claims: parseObject(reply[FIELD.claims]),
  };
}

/** The expiry of a stored session by the reader's cap: min(idle, absolute). */
export function expiryOf(stored: StoredSession, capMs: number): number {
  return Math.min(stored.createdAt + stored.lifetimeSeconds * 1000, stored.createdAt + capMs);
}

/**
 * A stored JSON object (data or claims): `{}` when absent. Whatever Tessera stored passed
 * checkSessionJson; anything else in the field (an edit by hand) reads as `{}`, with
 * prototype keys dropped, as data never reaches a prototype.
 */
export function parseObject(value: unknown): JsonObject {
  if (typeof value !== "string" || value === "") return {};
  try {
    // The reviver only when a key could be "__proto__" (written plainly or with \u escapes):
    // claims are parsed on every readSession.
    const parsed: unknown =
      value.includes("__proto__") || value.includes("\\u")
        ? JSON.parse(value, (key, inner) => (key === "__proto__" ? undefined : inner))
        : JSON.parse(value);
    return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)
      ? (parsed as JsonObject)
      : {};
  } catch {
    return {};
  }
}

/**
 * Data as stored in `d`: a JSON array of strings, alternately a JSON-encoded top-level key
 * and its JSON-encoded value, so that MERGE_DATA merges by whole strings (see scripts.ts).
 * `data` has passed checkSessionJson.
 */
export function encodeData(data: JsonObject): string {
  const entries: string[] = [];
  for (const [key, value] of Object.entries(data)) {
    entries.push(JSON.stringify(key), JSON.stringify(value));
  }
  return JSON.stringify(entries);
}

/**
 * A patch as MERGE_DATA takes it: pairs of a JSON-encoded key and value, a `null` value
 * (which deletes the key) as "". `patch` has passed checkSessionJson.
 */
export function patchEntries(patch: JsonObject): string[] {
  const entries: string[] = [];
  for (const [key, value] of Object.entries(patch)) {
    entries.push(JSON.stringify(key), value === null ? "" : JSON.stringify(value));
  }
  return entries;
}

/**
 * Data as stored (`encodeData`'s format, or one JSON object as before it): `{}` when absent
 * or not what Tessera writes, prototype keys dropped as `parseObject` drops them.
 */
export function decodeData(value: unknown): JsonObject {
  if (typeof value !== "string" || !value.startsWith("[")) return parseObject(value);
  let entries: unknown;
  try {
    entries = JSON.parse(value);
  } catch {
    return {};
  }
  if (!Array.isArray(entries) || entries.length % 2 !== 0) return {};
  const parts: string[] = [];
  for (let i = 0; i < entries.length; i += 2) {
    const key = entries[i];
    const inner = entries[i + 1];
    if (typeof key !== "string" || typeof inner !== "string") return {};
    parts.push(`${key}:${inner}`);
  }
  // One JSON object text, parsed once (with parseObject's guard against prototype keys);
  // an entry that is not JSON makes it fail to parse, and the data reads as {}.
  return parseObject(`{${parts.join(",")}}`);
}

function stringOrNull(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

function isEmpty(object: JsonObject): boolean {
  for (const _ in object) return false;
  return true;
}
