import {
  type CreateSessionOptions,
  checkSessionJson,
  hashToken,
  type JsonObject,
  type RefreshRotation,
  type RefreshSessionStore,
  type Session,
  SessionDataTooLargeError,
} from "@tessera/core";
import { isOpaqueTokenShape, sessionIdFromDigest } from "@tessera/core/internal";
import type { RedisClient } from "./lib/scripts.js";
import { SessionKeys, type StoredSession } from "./lib/session-keys.js";
import {
  createStoredSession,
  decodeData,
  encodeData,
  expiryOf,
  INDEX_GRACE_MS,
  invalidateAll,
  patchEntries,
  type SessionConfig,
  sessionFrom,
  sessionOf,
} from "./lib/session-record.js";
import { type RedisSessionStoreOptions, resolveOptions } from "./options.js";

// The fields a Session is made of, after u, c, l: peek puts them at FIELD's places.
const SESSION_FIELDS = ["h", "a", "ip", "ua", "k"] as const;
// A merge of data in the format before this one rewrites it first; a merge that found the
// old format this often has met a writer on every try: give up rather than spin.
const MERGE_ATTEMPTS = 4;
// What hashToken makes: a storage key and the refresh-token digests are nothing else, so
// no presented string names a key of another kind (a handle pointer, an index).
const DIGEST = /^[0-9a-f]{64}$/;

// The config of each store, for the RedisStrategy built on it (so both share one
// SessionKeys and its memo of handles) without making it public API.
const configs = new WeakMap<object, SessionConfig>();

/** The keys, lifetimes and limits of `store` (for RedisStrategy only). */
export function sessionConfigOf<ID>(store: RedisSessionStore<ID>): SessionConfig {
  const config = configs.get(store);
  if (!config) throw new Error("not a RedisSessionStore");
  return config;
}

/**
 * The sessions of {@link RedisStrategy} as Lucia-style verbs, usable without HTTP (scripts,
 * jobs, websockets): core's `SessionStore` over ioredis `Redis` or `Cluster`. Every command
 * touches one key (a session, a user's index, or a handle's pointer to its session), so
 * it works on a Cluster as on one server. Give it the options the strategy has (prefixes,
 * lifetimes), or take the strategy's own: `strategy.sessions`.
 *
 * It is also core's `RefreshSessionStore`, the store of refresh-token sessions: a session
 * hash keeps the digests of its current refresh token and of that token's parent, and a
 * rotation is decided and written by one script on that one key.
 *
 * @example
 * const sessions = new RedisSessionStore({ redis, parseUserId: Number });
 * const { token, session } = await sessions.createSession(42, { data: { theme: "dark" } });
 * const live = await sessions.validateSession(token); // Session | null
 * await sessions.mergeSessionData(session.handle, { theme: "light" });
 * await sessions.invalidateUserSessions(42); // log out everywhere
 */
export class RedisSessionStore<ID = string> implements RefreshSessionStore<ID> {
  /** The ioredis client sessions live in. */
  readonly redis: RedisClient;
  private readonly config: SessionConfig;
  private readonly parseUserId: (stored: string) => ID;

  constructor(options: RedisSessionStoreOptions<ID>) {
    const resolved = resolveOptions(options, "RedisSessionStore");
    this.redis = resolved.redis;
    this.config = {
      keys: new SessionKeys(resolved.redis, resolved.prefix, resolved.userIndexPrefix),
      lifetimeSeconds: resolved.lifetimeSeconds,
      maxLifetimeSeconds: resolved.maxLifetimeSeconds,
      clock: resolved.clock,
      limits: resolved.limits,
    };
    this.parseUserId = options.parseUserId ?? ((stored) => stored as ID);
    configs.set(this, this.config);
  }

  /** Creates a session for `userId` (no user snapshot); the token is returned once. */
  createSession(
    userId: ID,
    options: CreateSessionOptions = {},
  ): Promise<{ token: string; session: Session<ID> }> {
    return createStoredSession(this.config, userId, options, null).then(({ token, session }) => ({
      token,
      session,
    }));
  }

  /**
   * Creates a refresh-token session for `userId` whose current refresh token has digest
   * `refreshDigest` (no parent). Resolves its storage key (the digest the session hash is
   * stored under, of a random token nobody is given), which the refresh token embeds.
   */
  async createRefreshSession(
    userId: ID,
    refreshDigest: string,
    options: CreateSessionOptions = {},
  ): Promise<{ key: string; session: Session<ID> }> {
    if (typeof refreshDigest !== "string" || !DIGEST.test(refreshDigest)) {
      throw new TypeError("RedisSessionStore: refreshDigest must be a SHA-256 hex digest");
    }
    const created = await createStoredSession(this.config, userId, options, null, refreshDigest);
    return { key: created.digest, session: created.session };
  }

  /**
   * Rotates the refresh token of the live session `key` from `presented` to `child` (both
   * digests), decided and written by one script on the session's key (one round trip, so
   * concurrent calls are serialized by Redis): see core's `RefreshRotation`. A rotation
   * renews the idle lifetime (never past the absolute cap) and records `lastUsedAt`. On
   * "reused" the script has deleted the session; its index entry and handle pointer (other
   * slots) go right after, as `invalidateSession` does. Anything not shaped like a digest,
   * or a session that is no refresh-token session, is "invalid" (ASVS 5.0 10.4.5).
   */
  async rotateRefreshToken(
    key: string,
    presented: string,
    child: string,
  ): Promise<RefreshRotation<ID>> {
    if (!isDigest(key) || !isDigest(presented) || !isDigest(child)) return { outcome: "invalid" };
    const { keys, clock, lifetimeSeconds, maxLifetimeSeconds } = this.config;
    const idleMs = Math.min(lifetimeSeconds, maxLifetimeSeconds) * 1000;
    const rotated = await keys.rotateRefresh(
      key,
      presented,
      child,
      clock(),
      idleMs,
      maxLifetimeSeconds * 1000,
    );
    if (rotated === null) return { outcome: "invalid" };
    const { outcome, stored } = rotated;
    const handle = sessionIdFromDigest(key);
    if (outcome === "reused") {
      await Promise.all([keys.removeFromIndex(stored.userId, [key]), keys.dropHandles([handle])]);
    } else {
      keys.remember(handle, key);
    }
    const userId = this.idOf(stored);
    if (userId === null) return { outcome: "invalid" };
    return { outcome, session: sessionFrom(this.config, key, stored, userId) };
  }

  /**
   * The live session `handle` names, read without renewal or any write (one HMGET; two on
   * a handle this process has not seen, which first reads its pointer); null when gone.
   */
  async getSession(handle: string): Promise<Session<ID> | null> {
    const found = await this.live(handle, ...SESSION_FIELDS);
    if (found === null) return null;
    const userId = this.idOf(found.stored);
    return userId === null ? null : sessionFrom(this.config, found.digest, found.stored, userId);
  }

  /**
   * The live session `token` stands for (one round trip, as the strategy's read), renewed
   * when due, which also records `lastUsedAt`; null when unknown or expired.
   */
  async validateSession(token: string): Promise<Session<ID> | null> {
    if (typeof token !== "string" || !isOpaqueTokenShape(token)) return null;
    const digest = hashToken(token);
    const { keys, clock, lifetimeSeconds, maxLifetimeSeconds } = this.config;
    const stored = await keys.read(
      digest,
      clock(),
      lifetimeSeconds * 1000,
      maxLifetimeSeconds * 1000,
      true,
    );
    const userId = stored === null ? null : this.idOf(stored);
    return stored === null || userId === null
      ? null
      : sessionOf(this.config, digest, stored, userId);
  }

  /** The session's data (`{}` when none was set); null when the session is gone. */
  async getSessionData(handle: string): Promise<JsonObject | null> {
    const found = await this.live(handle, "d");
    return found === null ? null : decodeData(found.stored.reply[4]);
  }

  /** Overwrites the session's data (checked against `limits.maxDataBytes`); false when gone. */
  async setSessionData(handle: string, data: JsonObject): Promise<boolean> {
    const checked = checkSessionJson(data, "data", this.config.limits.maxDataBytes);
    return this.setField(handle, "d", encodeData(checked));
  }

  /**
   * Merges `patch` into the data (a top-level `null` deletes the key), atomically and in
   * one round trip (two on a handle this process has not seen, which first reads its
   * pointer): a script sets and deletes the patch's top-level keys in the stored data and
   * writes it only if the result is within `limits.maxDataBytes`, else throws
   * SessionDataTooLargeError and writes nothing. Data is stored as JSON-encoded strings per
   * top-level key, so the script never decodes the user's JSON (see scripts.ts).
   */
  async mergeSessionData(handle: string, patch: JsonObject): Promise<JsonObject | null> {
    const { keys, clock, limits, maxLifetimeSeconds } = this.config;
    const entries = patchEntries(checkSessionJson(patch, "data", limits.maxDataBytes));
    if (typeof handle !== "string" || handle === "") return null;
    const digest = await keys.digestOfHandle(handle);
    if (digest === null) return null;
    const capMs = maxLifetimeSeconds * 1000;
    for (let attempt = 0; attempt < MERGE_ATTEMPTS; attempt++) {
      const merged = await keys.mergeData(digest, entries, clock(), capMs, limits.maxDataBytes);
      if (merged.status === "merged") return decodeData(merged.data);
      if (merged.status === "gone") return null;
      if (merged.status === "too-large") {
        throw new SessionDataTooLargeError("data", limits.maxDataBytes);
      }
      // Data as stored before this format: rewritten in this one (only if unchanged), then merged.
      if (!(await this.rewriteOldData(handle, digest))) return null;
    }
    throw new Error(`RedisSessionStore: session data changed on each of ${MERGE_ATTEMPTS} merges`);
  }

  /** Overwrites the session's claims (checked against `limits.maxClaimsBytes`); false when gone. */
  async setSessionClaims(handle: string, claims: JsonObject): Promise<boolean> {
    const max = this.config.limits.maxClaimsBytes;
    return this.setField(handle, "k", JSON.stringify(checkSessionJson(claims, "claims", max)));
  }

  /** Ends one session of `userId`, found through the user's index: never someone else's. */
  async invalidateSession(userId: ID, handle: string): Promise<boolean> {
    const { keys } = this.config;
    const id = String(userId);
    const digest = (await keys.members(id)).find((d) => sessionIdFromDigest(d) === handle);
    if (digest === undefined) return false;
    // Key first, index and pointer second, so a failure never leaves a live session unindexed.
    const deleted = await keys.deleteOwned(digest, id);
    await Promise.all([keys.removeFromIndex(id, [digest]), keys.dropHandles([handle])]);
    return deleted;
  }

  /** Ends every session of `userId` on every node, but `exceptHandle`'s. */
  async invalidateUserSessions(userId: ID, options: { exceptHandle?: string } = {}): Promise<void> {
    await invalidateAll(this.config, String(userId), (digest) => {
      return (
        options.exceptHandle !== undefined && sessionIdFromDigest(digest) === options.exceptHandle
      );
    });
  }

  /** The live sessions of `userId`, oldest first (one HMGET per session: they span slots). */
  async listUserSessions(userId: ID): Promise<Session<ID>[]> {
    const { keys, clock, maxLifetimeSeconds } = this.config;
    const id = String(userId);
    const now = clock();
    const capMs = maxLifetimeSeconds * 1000;
    const digests = await keys.members(id);
    const stored = await Promise.all(digests.map((d) => keys.peek(d, ...SESSION_FIELDS)));
    const sessions: Session<ID>[] = [];
    const gone: string[] = [];
    for (const [i, digest] of digests.entries()) {
      const session = stored[i];
      if (!session || session.userId !== id) gone.push(digest);
      else if (now < expiryOf(session, capMs)) {
        sessions.push(await sessionOf(this.config, digest, session, userId));
      }
    }
    await keys.removeDeadFromIndex(id, gone, now - INDEX_GRACE_MS);
    return sessions.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  /**
   * Always 0: Redis deletes every session key by its TTL (the remaining lifetime) and every
   * index and handle pointer by theirs (the absolute lifetime), with no job to run; a
   * session found expired on read is deleted at once. Kept for the contract.
   */
  async deleteExpiredSessions(_now?: Date): Promise<number> {
    return 0;
  }

  /** The stored user id as an ID, or null when it does not parse. */
  private idOf(stored: StoredSession): ID | null {
    try {
      return this.parseUserId(stored.userId);
    } catch {
      return null;
    }
  }

  /**
   * Rewrites data stored as one JSON object (the format before the current one) in the
   * current format, if unchanged meanwhile; false when the session is gone.
   */
  private async rewriteOldData(handle: string, digest: string): Promise<boolean> {
    const { keys, clock, maxLifetimeSeconds } = this.config;
    const found = await this.live(handle, "d");
    if (found === null) return false;
    const previous = found.stored.reply[4];
    if (typeof previous !== "string" || previous.startsWith("[")) return true;
    const json = encodeData(decodeData(previous));
    const now = clock();
    const outcome = await keys.compareAndSetData(
      digest,
      previous,
      json,
      now,
      maxLifetimeSeconds * 1000,
    );
    return outcome !== "gone";
  }

  /** The digest and `u c l` + `fields` of the live session `handle` names, or null. */
  private async live(
    handle: string,
    ...fields: string[]
  ): Promise<{ digest: string; stored: StoredSession } | null> {
    const { keys, clock, maxLifetimeSeconds } = this.config;
    if (typeof handle !== "string" || handle === "") return null;
    const digest = await keys.digestOfHandle(handle);
    if (digest === null) return null;
    const stored = await keys.peek(digest, ...fields);
    if (stored === null || clock() >= expiryOf(stored, maxLifetimeSeconds * 1000)) return null;
    return { digest, stored };
  }

  private async setField(handle: string, field: string, json: string): Promise<boolean> {
    const { keys, clock, maxLifetimeSeconds } = this.config;
    if (typeof handle !== "string" || handle === "") return false;
    const digest = await keys.digestOfHandle(handle);
    if (digest === null) return false;
    return keys.setIfLive(digest, field, json, clock(), maxLifetimeSeconds * 1000);
  }
}

function isDigest(value: unknown): value is string {
  return typeof value === "string" && DIGEST.test(value);
}
