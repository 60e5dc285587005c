import {
  type CreateSessionOptions,
  type DestroyAllTokensOptions,
  hashToken,
  type Session,
  type SessionInfo,
  type Strategy,
  type UserChange,
  type UserManager,
  type UserProtocol,
} from "@tessera/core";
import { isOpaqueTokenShape, sessionIdFromDigest } from "@tessera/core/internal";
import type { RedisClient } from "./lib/scripts.js";
import type { SessionKeys, StoredSession } from "./lib/session-keys.js";
import {
  createStoredSession,
  INDEX_GRACE_MS,
  invalidateAll,
  type SessionConfig,
  sessionOf,
} from "./lib/session-record.js";
import { type RedisStrategyOptions, resolveOptions } from "./options.js";
import { RedisSessionStore, sessionConfigOf } from "./session-store.js";
import { decodeSnapshot, encodeSnapshot, type UserSnapshotOption } from "./snapshot.js";

const NO_USER: Promise<null> = Promise.resolve(null);

/**
 * Opaque session tokens in Redis (ioredis `Redis` or `Cluster`): 256-bit random tokens
 * of which only the SHA-256 digest is stored, as the key `prefix + digest` with a TTL;
 * the same idle lifetime, throttled sliding renewal and absolute cap as DatabaseStrategy;
 * a per-user index for log-out-everywhere and the session list that works across Cluster
 * slots; optional user snapshots so a request needs no database read.
 *
 * @example
 * const redis = new Redis(process.env.REDIS_URL, { ...recommendedRedisOptions, lazyConnect: true });
 * await redis.connect();
 * const strategy = new RedisStrategy<User>({ redis, lifetimeSeconds: 3600, snapshot: true });
 * const backend = new AuthenticationBackend({
 *   name: "redis",
 *   transport: new BearerTransport({ tokenUrl: "auth/redis/login" }),
 *   getStrategy: () => strategy, // all state is in Redis: one instance serves every request
 * });
 */
export class RedisStrategy<U extends UserProtocol<ID>, ID = U["id"]> implements Strategy<U, ID> {
  /** The ioredis client sessions live in. */
  readonly redis: RedisClient;
  /** Prefix of session keys. @default "tessera:token:" */
  readonly prefix: string;
  /** Prefix of per-user index keys. @default "tessera:user-tokens:" */
  readonly userIndexPrefix: string;
  /** Idle lifetime in seconds. @default 3600 */
  readonly lifetimeSeconds: number;
  /** Absolute lifetime in seconds from creation. @default 2592000 */
  readonly maxLifetimeSeconds: number;
  /** Whether (and how) sessions carry a user snapshot. @default false */
  readonly snapshot: UserSnapshotOption<U>;
  /**
   * The same sessions as verbs, for scripts, jobs and websockets (see RedisSessionStore);
   * its `Session.userId` comes from `options.parseUserId`.
   */
  readonly sessions: RedisSessionStore<ID>;
  private readonly clock: () => number;
  private readonly store: SessionKeys;
  private readonly config: SessionConfig;

  constructor(options: RedisStrategyOptions<U, ID>) {
    const resolved = resolveOptions(options);
    this.redis = resolved.redis;
    this.prefix = resolved.prefix;
    this.userIndexPrefix = resolved.userIndexPrefix;
    this.lifetimeSeconds = resolved.lifetimeSeconds;
    this.maxLifetimeSeconds = resolved.maxLifetimeSeconds;
    this.snapshot = resolved.snapshot;
    this.clock = resolved.clock;
    this.sessions = new RedisSessionStore<ID>(options);
    this.config = sessionConfigOf(this.sessions);
    this.store = this.config.keys;
  }

  /**
   * The user `token` authenticates, or null. One Redis round trip reads the session and,
   * when due, renews it; then the user comes from the snapshot or `userDb.get`.
   */
  readToken(token: string | null, userManager: UserManager<U, ID>): Promise<U | null> {
    // Anything not shaped like our tokens costs no round trip; anything shaped like one is
    // hashed, so no presented string can name a key of its choosing.
    if (token === null || !isOpaqueTokenShape(token)) return NO_USER;
    // Not async (this runs on every request): one promise, the store's, and its callback.
    try {
      return this.store
        .read(
          hashToken(token),
          this.clock(),
          this.lifetimeSeconds * 1000,
          this.maxLifetimeSeconds * 1000,
        )
        .then((session) => (session === null ? null : this.userOf(session, userManager)));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * The user and the Session `token` stands for, in readToken's one round trip: the same
   * HMGET also reads the handle, last use, device and claims (not the data).
   */
  async readSession(
    token: string | null,
    userManager: UserManager<U, ID>,
  ): Promise<{ user: U; session: Session<ID> } | null> {
    if (token === null || !isOpaqueTokenShape(token)) return null;
    const digest = hashToken(token);
    const stored = await this.store.read(
      digest,
      this.clock(),
      this.lifetimeSeconds * 1000,
      this.maxLifetimeSeconds * 1000,
      true,
    );
    if (stored === null) return null;
    const user = await this.userOf(stored, userManager);
    if (user === null) return null;
    return { user, session: await sessionOf(this.config, digest, stored, user.id) };
  }

  /** The session's user: from its snapshot when there is one, else from the database. */
  private userOf(
    session: StoredSession,
    userManager: UserManager<U, ID>,
  ): U | null | Promise<U | null> {
    let id: ID;
    try {
      id = userManager.parseId(session.userId);
    } catch {
      return null;
    }
    if (this.snapshot !== false && session.snapshot !== null) {
      const user = decodeSnapshot<U, ID>(session.snapshot, id);
      if (user) return user;
    }
    return userManager.userDb.get(id);
  }

  /** Issues a new token for `user` (a login); stores only its digest. */
  writeToken(user: U): Promise<string> {
    return this.writeSession(user);
  }

  /**
   * Issues a token for a new session of `user`, with its device, data and claims (checked
   * against `limits`), and the user's snapshot when on; stores only the token's digest.
   */
  async writeSession(user: U, options: CreateSessionOptions = {}): Promise<string> {
    const snapshot = this.snapshot === false ? null : encodeSnapshot(user, this.snapshot);
    return (await createStoredSession(this.config, user.id, options, snapshot)).token;
  }

  /** Destroys `token` if it is one of `user`'s (a logout; ASVS 5.0 7.4.1). */
  async destroyToken(token: string, user: U): Promise<void> {
    if (!isOpaqueTokenShape(token)) return;
    const digest = hashToken(token);
    const userId = String(user.id);
    // Only the owner's token: a token of someone else is left alone, whoever presents it.
    // Key first, index second, so a failure never leaves a live session out of the index.
    const deleted = await this.store.deleteOwned(digest, userId);
    await Promise.all([
      this.store.removeFromIndex(userId, [digest]),
      // Someone else's session keeps its pointer, or its data calls would stop finding it.
      deleted ? this.store.dropHandles([sessionIdFromDigest(digest)]) : undefined,
    ]);
  }

  /**
   * Destroys every session of `user` (log out everywhere; ASVS 5.0 7.4.2/7.4.3), but the
   * one of `options.exceptToken` when it is the user's: one delete per session key, since
   * on a Cluster they live in different slots.
   */
  async destroyAllTokens(user: U, options: DestroyAllTokensOptions = {}): Promise<void> {
    const keep = this.digestOf(options.exceptToken);
    const handle = options.exceptHandle;
    await invalidateAll(
      this.config,
      String(user.id),
      (digest) =>
        digest === keep || (handle !== undefined && sessionIdFromDigest(digest) === handle),
    );
  }

  /**
   * Reacts to a change of `user` made through the user manager: ends every session (but
   * `change.exceptToken`'s) when `change.revokeSessions`; otherwise, and for the session
   * kept, rewrites the snapshot of every live session, keeping each one's TTL. Changes made
   * to the database directly are not seen.
   */
  async onUserChanged(user: U, change: UserChange): Promise<void> {
    if (change.revokeSessions) {
      const keep = change.exceptToken;
      await this.destroyAllTokens(
        user,
        keep === undefined
          ? {}
          : {
              exceptToken: keep,
              ...(change.exceptHandle === undefined ? {} : { exceptHandle: change.exceptHandle }),
            },
      );
      if (keep === undefined) return;
    }
    const option = this.snapshot;
    if (option === false) return;
    const userId = String(user.id);
    const json = encodeSnapshot(user, option);
    const digests = await this.store.members(userId);
    const rewritten = await Promise.all(
      digests.map((digest) => this.store.rewriteSnapshot(digest, userId, json)),
    );
    const gone = digests.filter((_, i) => !rewritten[i]);
    await this.store.removeDeadFromIndex(userId, gone, this.clock() - INDEX_GRACE_MS);
  }

  /**
   * The user's live sessions, oldest first, with last use and device; `current` marks the
   * one `currentToken` opens.
   */
  async listSessions(user: U, currentToken: string | null): Promise<SessionInfo[]> {
    const digest = currentToken === null ? null : this.digestOf(currentToken);
    const current = digest === null ? null : sessionIdFromDigest(digest);
    return (await this.sessions.listUserSessions(user.id)).map((session) => ({
      id: session.handle,
      createdAt: session.createdAt,
      expiresAt: session.expiresAt,
      lastUsedAt: session.lastUsedAt,
      device: session.device,
      current: session.handle === current,
    }));
  }

  /** Ends one of `user`'s sessions by its public id (its handle); false when not found. */
  destroySession(user: U, sessionId: string): Promise<boolean> {
    return this.sessions.invalidateSession(user.id, sessionId);
  }

  /** The digest of `token` when it is shaped like one of ours, else null. */
  private digestOf(token: string | undefined): string | null {
    return token !== undefined && isOpaqueTokenShape(token) ? hashToken(token) : null;
  }
}
