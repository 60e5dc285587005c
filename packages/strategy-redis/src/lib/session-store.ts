import {
  DELETE_OWNED_SESSION,
  INDEX_ADD,
  INDEX_REMOVE_DEAD,
  READ_SESSION,
  REWRITE_SNAPSHOT,
  type RedisClient,
  runScript,
  WRITE_SESSION,
} from "./scripts.js";
import { orUnavailable, rethrowUnavailable } from "./unavailable.js";

/** A session as stored under `prefix + digest`. */
export interface StoredSession {
  userId: string;
  createdAt: number;
  lifetimeSeconds: number;
  snapshot: string | null;
}

/**
 * The Redis side of RedisStrategy: one method per round trip, each touching one key
 * (so one slot on a Cluster), each turning an outage into `ServiceUnavailableError`.
 * Session keys are spread over the cluster by digest; a user's index is one key.
 */
export class SessionStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly indexPrefix: string,
  ) {}

  sessionKey(digest: string): string {
    return this.prefix + digest;
  }

  indexKey(userId: string): string {
    return this.indexPrefix + userId;
  }

  /**
   * Reads a session, deleting it when expired and renewing it when due. One trip: a plain
   * HMGET, which costs Redis a fraction of a script call; only when the session read is
   * expired or due for renewal (at most once per half-lifetime) does READ_SESSION run,
   * which re-reads and applies those rules atomically.
   */
  read(digest: string, now: number, idleMs: number, capMs: number): Promise<StoredSession | null> {
    const key = this.sessionKey(digest);
    // Not async: the hot path is the HMGET's own promise and one callback.
    return this.redis.hmget(key, "u", "c", "l", "s").then((reply) => {
      const session = toSession(reply);
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

  /** The stored fields of a session, without touching its lifetime; null when absent. */
  async peek(digest: string): Promise<StoredSession | null> {
    const reply = await orUnavailable(this.redis.hmget(this.sessionKey(digest), "u", "c", "l"));
    return toSession([...reply, null]);
  }

  async write(digest: string, session: StoredSession, ttlMs: number): Promise<void> {
    const { userId, createdAt, lifetimeSeconds, snapshot } = session;
    await orUnavailable(
      runScript(
        this.redis,
        WRITE_SESSION,
        [this.sessionKey(digest)],
        [userId, createdAt, lifetimeSeconds, ttlMs, snapshot ?? ""],
      ),
    );
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

function toSession(reply: unknown[]): StoredSession | null {
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
  };
}
