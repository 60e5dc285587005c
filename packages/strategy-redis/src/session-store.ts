import {
  type CreateSessionOptions,
  checkSessionJson,
  hashToken,
  type JsonObject,
  mergeSessionJson,
  type Session,
  type SessionStore,
} from "@tessera/core";
import { isOpaqueTokenShape, sessionIdFromDigest } from "@tessera/core/internal";
import type { RedisClient } from "./lib/scripts.js";
import { SessionKeys, type StoredSession } from "./lib/session-keys.js";
import {
  createStoredSession,
  expiryOf,
  INDEX_GRACE_MS,
  invalidateAll,
  parseObject,
  type SessionConfig,
  sessionOf,
} from "./lib/session-record.js";
import { type RedisSessionStoreOptions, resolveOptions } from "./options.js";

// The fields a Session is made of, after u, c, l: peek puts them at FIELD's places.
const SESSION_FIELDS = ["h", "a", "ip", "ua", "k"] as const;
// A merge retried this often has met a writer on every try: give up rather than spin.
const MERGE_ATTEMPTS = 16;

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
 * @example
 * const sessions = new RedisSessionStore({ redis, parseUserId: Number });
 * const { token, session } = await sessions.createSession(42, { data: { theme: "dark" } });
 * const live = await sessions.validateSession(token); // Session | null
 * await sessions.mergeSessionData(session.handle, { theme: "light" });
 * await sessions.invalidateUserSessions(42); // log out everywhere
 */
export class RedisSessionStore<ID = string> implements SessionStore<ID> {
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
    return createStoredSession(this.config, userId, options, null);
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
    return found === null ? null : parseObject(found.stored.reply[4]);
  }

  /** Overwrites the session's data (checked against `limits.maxDataBytes`); false when gone. */
  async setSessionData(handle: string, data: JsonObject): Promise<boolean> {
    const json = JSON.stringify(checkSessionJson(data, "data", this.config.limits.maxDataBytes));
    return this.setField(handle, "d", json);
  }

  /**
   * Merges `patch` into the data (a top-level `null` deletes the key), atomically: the merge
   * runs here with core's mergeSessionJson, and a compare-and-set script writes it only if
   * the data is unchanged since it was read, else reads and merges again.
   */
  async mergeSessionData(handle: string, patch: JsonObject): Promise<JsonObject | null> {
    const { keys, clock, limits, maxLifetimeSeconds } = this.config;
    checkSessionJson(patch, "data", limits.maxDataBytes);
    for (let attempt = 0; attempt < MERGE_ATTEMPTS; attempt++) {
      const found = await this.live(handle, "d");
      if (found === null) return null;
      const previous = found.stored.reply[4];
      const stored = typeof previous === "string" ? previous : null;
      const merged = mergeSessionJson(parseObject(stored), patch, limits.maxDataBytes);
      const json = JSON.stringify(merged);
      const outcome = await keys.compareAndSetData(
        found.digest,
        stored,
        json,
        clock(),
        maxLifetimeSeconds * 1000,
      );
      if (outcome === "set") return merged;
      if (outcome === "gone") return null;
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

  /** The digest and `u c l` + `field` of the live session `handle` names, or null. */
  private async live(
    handle: string,
    field: string,
  ): Promise<{ digest: string; stored: StoredSession } | null> {
    const { keys, clock, maxLifetimeSeconds } = this.config;
    if (typeof handle !== "string" || handle === "") return null;
    const digest = await keys.digestOfHandle(handle);
    if (digest === null) return null;
    const stored = await keys.peek(digest, field);
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
