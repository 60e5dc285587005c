import { sessionIdFromDigest } from "@tessera/core/internal";
import {
  COMPARE_AND_SET_DATA,
  DELETE_OWNED_SESSION,
  INDEX_ADD,
  INDEX_REMOVE_DEAD,
  MERGE_DATA,
  READ_SESSION,
  REWRITE_SNAPSHOT,
  type RedisClient,
  ROTATE_REFRESH,
  runScript,
  SET_FIELD_IF_LIVE,
  SET_HANDLE,
  WRITE_SESSION,
} from "./scripts.js";
import { orUnavailable, rethrowUnavailable } from "./unavailable.js";

// Enough to bridge each request in flight from its readSession to its data calls.
const HANDLE_MEMO_SIZE = 4096;

/** A session as stored under `prefix + digest`. */
export interface StoredSession {
  userId: string;
  createdAt: number;
  lifetimeSeconds: number;
  snapshot: string | null;
  /**
   * The reply it was read from: read `full`, the fields after `s` (handle,
   * last used at, device, claims) are read from it only when a Session is wanted.
   */
  reply: unknown[];
}

/** What a new session stores besides its lifetimes; null fields are not written. */
export interface NewSession {
  userId: string;
  createdAt: number;
  lifetimeSeconds: number;
  snapshot: string | null;
  handle: string;
  ipAddress: string | null;
  userAgent: string | null;
  /** The data as stored (see `encodeData`). */
  data: string | null;
  claims: string | null;
  /** The digest of the first refresh token of a refresh-token session; null otherwise. */
  refresh?: string | null;
}

/** What ROTATE_REFRESH decided, and the session as it now is (deleted when "reused"). */
export interface RotatedSession {
  outcome: "rotated" | "parent" | "reused";
  stored: StoredSession;
}

/** What MERGE_DATA did: the merged data as stored, or why it wrote nothing. */
export type MergedData =
  | { status: "merged"; data: string }
  | { status: "gone" | "old-format" | "too-large" };

/** Where the fields of a Session sit in a reply read with {@link SessionKeys.read}(full). */
export const FIELD = { handle: 4, lastUsedAt: 5, ipAddress: 6, userAgent: 7, claims: 8 } as const;

/**
 * The Redis side of RedisStrategy and RedisSessionStore: one method per round trip, each
 * touching one key (so one slot on a Cluster), each turning an outage into
 * `ServiceUnavailableError`. Session keys are spread over the cluster by digest; a user's
 * index is one key; a handle's pointer (to its digest) is one key.
 */
export class SessionKeys {
  // Handles this process has seen, with their digests: a request's data calls come right
  // after its readSession, so they skip the pointer's round trip. Never stale (a handle is a
  // function of its digest); the session key is still read to see the session is live.
  private readonly digests = new Map<string, string>();

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly indexPrefix: string,
  ) {}

  /** Remembers that `handle` is the handle of `digest` (a bounded, oldest-out memo). */
  remember(handle: string, digest: string): void {
    const { digests } = this;
    if (digests.has(handle)) return;
    if (digests.size >= HANDLE_MEMO_SIZE) {
      const oldest = digests.keys().next();
      if (!oldest.done) digests.delete(oldest.value);
    }
    digests.set(handle, digest);
  }

  sessionKey(digest: string): string {
    return this.prefix + digest;
  }

  indexKey(userId: string): string {
    return this.indexPrefix + userId;
  }

  /** The key of a handle's pointer: under `prefix`, never a digest (those are 64 hex digits). */
  handleKey(handle: string): string {
    return `${this.prefix}handle:${handle}`;
  }

  /**
   * Reads a session, deleting it when expired and renewing it when due. One trip: a plain
   * HMGET, which costs Redis a fraction of a script call; only when the session read is
   * expired or due for renewal (at most once per half-lifetime) does READ_SESSION run,
   * which re-reads and applies those rules atomically. `full` also reads the fields a
   * Session has (handle, last use, device, claims); without it the HMGET is today's four.
   */
  read(
    digest: string,
    now: number,
    idleMs: number,
    capMs: number,
    full = false,
  ): Promise<StoredSession | null> {
    const key = this.sessionKey(digest);
    const reply = full
      ? this.redis.hmget(key, "u", "c", "l", "s", "h", "a", "ip", "ua", "k")
      : this.redis.hmget(key, "u", "c", "l", "s");
    // Not async: the hot path is the HMGET's own promise and one callback.
    return reply.then((fields) => {
      const session = toSession(fields);
      if (!session) return null;
      const expires = session.createdAt + session.lifetimeSeconds * 1000;
      const cap = session.createdAt + capMs;
      const live = now < expires && now < cap;
      if (live && !(expires - now < idleMs / 2 && expires < cap)) return session;
      return orUnavailable(runScript(this.redis, READ_SESSION, [key], [now, idleMs, capMs])).then(
        (script) => (Array.isArray(script) ? toSession(script) : null),
      );
    }, rethrowUnavailable);
  }

  /**
   * A session's fields by name (`u`, `c`, `l` first, then `fields`), without touching its
   * lifetime; null when absent.
   */
  async peek(digest: string, ...fields: string[]): Promise<StoredSession | null> {
    const key = this.sessionKey(digest);
    const reply = await orUnavailable(this.redis.hmget(key, "u", "c", "l", ...fields));
    return toSession([reply[0], reply[1], reply[2], null, ...reply.slice(3)]);
  }

  /** Sets `field` of a session live at `now`, keeping its TTL; false when gone. */
  async setIfLive(
    digest: string,
    field: string,
    value: string,
    now: number,
    capMs: number,
  ): Promise<boolean> {
    const key = this.sessionKey(digest);
    const args = [field, value, now, capMs];
    return (await orUnavailable(runScript(this.redis, SET_FIELD_IF_LIVE, [key], args))) === 1;
  }

  /** Replaces the data `previous` (null: none yet) with `next`: "set", "gone" or "changed". */
  async compareAndSetData(
    digest: string,
    previous: string | null,
    next: string,
    now: number,
    capMs: number,
  ): Promise<"set" | "gone" | "changed"> {
    const key = this.sessionKey(digest);
    const args = [previous === null ? "0" : "1", previous ?? "", next, now, capMs];
    const reply = await orUnavailable(runScript(this.redis, COMPARE_AND_SET_DATA, [key], args));
    return reply === 1 ? "set" : reply === 0 ? "gone" : "changed";
  }

  /**
   * Merges `entries` (pairs of a JSON-encoded key and value, "" deleting the key) into the
   * data of a session live at `now`, if the result fits `maxBytes`: one script, one trip.
   */
  async mergeData(
    digest: string,
    entries: readonly string[],
    now: number,
    capMs: number,
    maxBytes: number,
  ): Promise<MergedData> {
    const key = this.sessionKey(digest);
    const args = [now, capMs, maxBytes, ...entries];
    const reply = await orUnavailable(runScript(this.redis, MERGE_DATA, [key], args));
    const [status, data] = Array.isArray(reply) ? reply : [];
    if (status === 1 && typeof data === "string") return { status: "merged", data };
    if (status === -1) return { status: "old-format" };
    if (status === -2) return { status: "too-large" };
    return { status: "gone" };
  }

  /**
   * Rotates the refresh token of session `digest` from `presented` to `child` (see
   * ROTATE_REFRESH): null when there is no live refresh-token session under it.
   */
  async rotateRefresh(
    digest: string,
    presented: string,
    child: string,
    now: number,
    idleMs: number,
    capMs: number,
  ): Promise<RotatedSession | null> {
    const key = this.sessionKey(digest);
    const args = [presented, child, now, idleMs, capMs];
    const reply = await orUnavailable(runScript(this.redis, ROTATE_REFRESH, [key], args));
    if (!Array.isArray(reply)) return null;
    const [outcome, ...fields] = reply as unknown[];
    const stored = toSession(fields);
    if (stored === null) return null;
    if (outcome !== "rotated" && outcome !== "parent" && outcome !== "reused") return null;
    return { outcome, stored };
  }

  /**
   * The digest of `handle`: remembered, or read from its pointer; null when unknown
   * (expired with its cap, ended) or when the pointer names a digest `handle` is not the
   * handle of (an edited pointer opens nothing).
   */
  async digestOfHandle(handle: string): Promise<string | null> {
    const known = this.digests.get(handle);
    if (known !== undefined) return known;
    const digest = await orUnavailable(this.redis.get(this.handleKey(handle)));
    if (digest === null || sessionIdFromDigest(digest) !== handle) return null;
    this.remember(handle, digest);
    return digest;
  }

  /** Points `handle` at `digest` for `ttlMs` (the session's remaining cap). */
  async pointHandle(handle: string, digest: string, ttlMs: number): Promise<void> {
    await orUnavailable(this.redis.set(this.handleKey(handle), digest, "PX", Math.max(1, ttlMs)));
  }

  /** Records the handle in a session written by the previous release; false when gone. */
  async setHandle(digest: string, handle: string): Promise<boolean> {
    const key = this.sessionKey(digest);
    return (await orUnavailable(runScript(this.redis, SET_HANDLE, [key], [handle]))) === 1;
  }

  /** Deletes handle pointers (one DEL per key: they span slots). */
  async dropHandles(handles: readonly string[]): Promise<void> {
    for (const handle of handles) this.digests.delete(handle);
    await Promise.all(handles.map((h) => orUnavailable(this.redis.del(this.handleKey(h)))));
  }

  async write(digest: string, session: NewSession, ttlMs: number): Promise<void> {
    const { userId, createdAt, lifetimeSeconds, snapshot, handle } = session;
    const args = [userId, createdAt, lifetimeSeconds, ttlMs, snapshot ?? "", handle];
    args.push(session.ipAddress ?? "", session.userAgent ?? "");
    args.push(session.data ?? "", session.claims ?? "", session.refresh ?? "");
    await orUnavailable(runScript(this.redis, WRITE_SESSION, [this.sessionKey(digest)], args));
  }

  /** Deletes a session of `userId`; false when absent or someone else's. */
  async deleteOwned(digest: string, userId: string): Promise<boolean> {
    const key = this.sessionKey(digest);
    return (
      (await orUnavailable(runScript(this.redis, DELETE_OWNED_SESSION, [key], [userId]))) === 1
    );
  }

  /** Replaces the snapshot of a session of `userId`, keeping its TTL; false when gone. */
  async rewriteSnapshot(digest: string, userId: string, json: string): Promise<boolean> {
    const key = this.sessionKey(digest);
    const reply = await orUnavailable(
      runScript(this.redis, REWRITE_SNAPSHOT, [key], [userId, json]),
    );
    return reply === 1;
  }

  /**
   * Adds `digest` to the index of `userId`, forgets members created before
   * `purgeBefore`, and keeps the index for at least `ttlMs`. Returns the member count.
   */
  async addToIndex(
    userId: string,
    digest: string,
    createdAt: number,
    purgeBefore: number,
    ttlMs: number,
  ): Promise<number> {
    const key = this.indexKey(userId);
    const args = [digest, createdAt, purgeBefore, ttlMs];
    return Number(await orUnavailable(runScript(this.redis, INDEX_ADD, [key], args)));
  }

  async members(userId: string): Promise<string[]> {
    return orUnavailable(this.redis.zrange(this.indexKey(userId), 0, "-1"));
  }

  async removeFromIndex(userId: string, digests: readonly string[]): Promise<void> {
    if (digests.length === 0) return;
    await orUnavailable(this.redis.zrem(this.indexKey(userId), ...digests));
  }

  /** Drops `digests` (sessions known gone) from the index, except those created since `before`. */
  async removeDeadFromIndex(
    userId: string,
    digests: readonly string[],
    before: number,
  ): Promise<void> {
    if (digests.length === 0) return;
    const key = this.indexKey(userId);
    await orUnavailable(runScript(this.redis, INDEX_REMOVE_DEAD, [key], [before, ...digests]));
  }

  /** Which of `digests` still have a session key (one EXISTS per key: they span slots). */
  async existing(digests: readonly string[]): Promise<boolean[]> {
    return Promise.all(
      digests.map(async (d) => (await orUnavailable(this.redis.exists(this.sessionKey(d)))) === 1),
    );
  }
}

export function toSession(reply: unknown[]): StoredSession | null {
  const [userId, createdAt, lifetime, snapshot] = reply;
  if (typeof userId !== "string" || typeof createdAt !== "string" || typeof lifetime !== "string") {
    return null;
  }
  const created = Number(createdAt);
  const lifetimeSeconds = Number(lifetime);
  if (!(Number.isFinite(created) && Number.isFinite(lifetimeSeconds))) return null;
  return {
    userId,
    createdAt: created,
    lifetimeSeconds,
    snapshot: typeof snapshot === "string" ? snapshot : null,
    reply,
  };
}
