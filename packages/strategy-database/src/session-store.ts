import {
  type AccessTokenDatabase,
  type AccessTokenProtocol,
  type AccessTokenUpdate,
  type AccessTokenWithUserReader,
  boundDevice,
  ConfigurationError,
  type CreateSessionOptions,
  checkSessionJson,
  DEFAULT_SESSION_LIMITS,
  generateOpaqueToken,
  hashToken,
  type JsonObject,
  mergeSessionJson,
  type RefreshRotation,
  type RefreshSessionStore,
  type Session,
  type SessionLimits,
  SessionNotSupportedError,
  type UserProtocol,
} from "@tessera/core";
import { isOpaqueTokenShape, sessionIdFromDigest } from "@tessera/core/internal";

/** Options of {@link DatabaseSessionStore}. */
export interface DatabaseSessionStoreOptions<AT extends AccessTokenProtocol<ID>, ID> {
  /** Where sessions live, by token digest (often request-scoped). */
  database: AccessTokenDatabase<AT, ID> &
    Partial<AccessTokenWithUserReader<AT, UserProtocol<ID>, ID>>;
  /**
   * Idle lifetime in seconds: a session unused for this long expires. Written per row as
   * `lifetime_seconds` and extended by sliding renewal.
   * @default 3600
   */
  lifetimeSeconds?: number;
  /**
   * Absolute lifetime in seconds from `created_at`: renewal never extends a session past it
   * (piccolo's `max_expiry_date`; ASVS 5.0 7.3.2).
   * @default 2592000 (30 days)
   */
  maxLifetimeSeconds?: number;
  /** Size limits of session data and claims. @default DEFAULT_SESSION_LIMITS */
  limits?: SessionLimits;
  /** Current time in epoch milliseconds. @default Date.now */
  clock?: () => number;
}

// Handles are 32 base64url characters; anything else is looked up nowhere.
const isHandle = (handle: unknown): handle is string =>
  typeof handle === "string" && handle.length > 0 && handle.length <= 64;
// Keys and refresh digests are SHA-256 hex digests (64 characters).
const isDigest = (digest: unknown): digest is string =>
  typeof digest === "string" && /^[0-9a-f]{64}$/.test(digest);
// How often a rotation reads again after a concurrent one won its conditional write. Each
// lost write means the row moved on, and digests only move forward: the second read
// already decides (parent, reused or invalid); the bound only guards against a broken adapter.
const MAX_ROTATION_ATTEMPTS = 4;

/**
 * Tessera's {@link SessionStore} over any `AccessTokenDatabase`: the session API for
 * scripts, jobs and websockets, and what `DatabaseStrategy` is built on. A session is a
 * token row; its handle is a hash of the digest, stored so data can be reached by it.
 *
 * @example
 * const sessions = new DatabaseSessionStore({ database: tokens, lifetimeSeconds: 3600 });
 * const { token, session } = await sessions.createSession(user.id, { data: { cart: [] } });
 * const valid = await sessions.validateSession(token); // Session | null
 * await sessions.mergeSessionData(session.handle, { theme: "dark" });
 * await sessions.invalidateUserSessions(user.id);
 *
 * It is also a {@link RefreshSessionStore} (`RefreshTokenStrategy`'s store): a refresh
 * session is a row whose `token` is a key no client holds, with the digests of the current
 * refresh token and its parent; rotation is one conditional write (`rotateRefresh`).
 */
export class DatabaseSessionStore<ID, AT extends AccessTokenProtocol<ID> = AccessTokenProtocol<ID>>
  implements RefreshSessionStore<ID>
{
  readonly database: DatabaseSessionStoreOptions<AT, ID>["database"];
  readonly lifetimeSeconds: number;
  readonly maxLifetimeSeconds: number;
  readonly limits: Readonly<Required<SessionLimits>>;
  readonly #clock: () => number;

  constructor(options: DatabaseSessionStoreOptions<AT, ID>) {
    this.database = options.database;
    this.lifetimeSeconds = options.lifetimeSeconds ?? 3600;
    this.maxLifetimeSeconds = options.maxLifetimeSeconds ?? 30 * 24 * 3600;
    this.limits = { ...DEFAULT_SESSION_LIMITS, ...options.limits };
    this.#clock = options.clock ?? Date.now;
    if (!(Number.isInteger(this.lifetimeSeconds) && this.lifetimeSeconds > 0)) {
      throw new ConfigurationError("DatabaseStrategy: lifetimeSeconds must be a positive integer");
    }
    if (
      !(
        Number.isInteger(this.maxLifetimeSeconds) && this.maxLifetimeSeconds >= this.lifetimeSeconds
      )
    ) {
      throw new ConfigurationError(
        "DatabaseStrategy: maxLifetimeSeconds must be an integer ≥ lifetimeSeconds",
      );
    }
  }

  async createSession(
    userId: ID,
    options: CreateSessionOptions = {},
  ): Promise<{ token: string; session: Session<ID> }> {
    const token = generateOpaqueToken();
    const at = await this.#create(userId, hashToken(token), options, {});
    return { token, session: this.toSession(at) };
  }

  /**
   * Creates a refresh session: a row keyed by the digest of a random value that is never
   * handed out (so the key is no access token of `validateSession`), holding `refreshDigest`,
   * the digest of the session's first refresh token. Resolves the key, which the refresh
   * token embeds.
   */
  async createRefreshSession(
    userId: ID,
    refreshDigest: string,
    options: CreateSessionOptions = {},
  ): Promise<{ key: string; session: Session<ID> }> {
    if (!isDigest(refreshDigest)) {
      throw new TypeError("createRefreshSession: refreshDigest must be a SHA-256 hex digest");
    }
    const key = hashToken(generateOpaqueToken());
    const at = await this.#create(userId, key, options, { refreshDigest } as Partial<AT>);
    return { key, session: this.toSession(at) };
  }

  /**
   * Rotates the refresh token of session `key` (see `RefreshRotation`): reads the row, then
   * - current digest `presented`: writes `child` as current and `presented` as parent with a
   *   sliding renewal (never past the absolute cap) in one conditional write
   *   (`rotateRefresh`, only while the current digest is still `presented`) → `rotated`; when
   *   a concurrent rotation won that write, reads again and decides again;
   * - parent `presented` and current `child` (the child not used yet) → `parent`, no write;
   * - any other digest of a live refresh session → the session is deleted → `reused`;
   * - no live refresh session (unknown, expired: deleted, or a row of another kind) → `invalid`.
   */
  async rotateRefreshToken(
    key: string,
    presented: string,
    child: string,
  ): Promise<RefreshRotation<ID>> {
    const database = this.database;
    if (!database.rotateRefresh) {
      throw new SessionNotSupportedError(
        "Refresh-token rotation needs an AccessTokenDatabase with rotateRefresh (db-mikroorm and db-mongo have it)",
      );
    }
    if (!isDigest(key) || !isDigest(presented) || !isDigest(child)) return { outcome: "invalid" };
    for (let attempt = 0; attempt < MAX_ROTATION_ATTEMPTS; attempt++) {
      const at = await database.getByToken(key);
      if (!at || at.refreshDigest == null) return { outcome: "invalid" };
      const now = this.#clock();
      const created = at.createdAt.getTime();
      const cap = created + this.maxLifetimeSeconds * 1000;
      if (now >= Math.min(created + at.lifetimeSeconds * 1000, cap)) {
        await database.delete(at);
        return { outcome: "invalid" };
      }
      if (at.refreshDigest === presented) {
        const target = Math.min(now + this.lifetimeSeconds * 1000, cap);
        const rotation = {
          refreshDigest: child,
          refreshParentDigest: presented,
          lifetimeSeconds: Math.max(at.lifetimeSeconds, Math.floor((target - created) / 1000)),
          lastUsedAt: new Date(now),
        };
        if (await database.rotateRefresh(key, presented, rotation)) {
          return { outcome: "rotated", session: this.toSession({ ...at, ...rotation }) };
        }
        continue; // a concurrent rotation won: what is the row now?
      }
      if (at.refreshParentDigest === presented && at.refreshDigest === child) {
        return { outcome: "parent", session: this.toSession(at) };
      }
      // A token used after its child was used: copied. Digests only move forward, so no
      // later write can make `presented` valid again: the delete needs no condition.
      await database.delete(at);
      return { outcome: "reused", session: this.toSession(at) };
    }
    throw new Error(
      `rotateRefreshToken: the row changed under ${MAX_ROTATION_ATTEMPTS} reads in a row (an adapter whose rotateRefresh does not match on the current digest?)`,
    );
  }

  /** The live session `handle` names, without renewal or any write; null when gone. */
  async getSession(handle: string): Promise<Session<ID> | null> {
    const at = await this.#byHandle(handle);
    return at && this.#isLive(at) ? this.toSession(at) : null;
  }

  async #create(
    userId: ID,
    digest: string,
    options: CreateSessionOptions,
    extra: Partial<AT>,
  ): Promise<AT> {
    const row: Partial<AT> = { ...extra };
    if (options.data !== undefined) {
      row.data = checkSessionJson(options.data, "data", this.limits.maxDataBytes);
    }
    if (options.claims !== undefined) {
      row.claims = checkSessionJson(options.claims, "claims", this.limits.maxClaimsBytes);
    }
    const device = boundDevice(options.device);
    if (device.ipAddress !== null) row.ipAddress = device.ipAddress;
    if (device.userAgent !== null) row.userAgent = device.userAgent;
    return this.database.create({
      ...row,
      token: digest,
      userId,
      createdAt: new Date(this.#clock()),
      lifetimeSeconds: Math.min(this.lifetimeSeconds, this.maxLifetimeSeconds),
      handle: sessionIdFromDigest(digest),
    });
  }

  async validateSession(token: string): Promise<Session<ID> | null> {
    if (typeof token !== "string" || !isOpaqueTokenShape(token)) return null;
    const at = await this.database.getByToken(hashToken(token));
    if (!at) return null;
    return (await this.#live(at)) ? this.toSession(at) : null;
  }

  /**
   * `token`'s row and user, in one round trip where the database joins (else two), checked
   * and renewed as {@link validateSession} does, handed to `pick`: `DatabaseStrategy`'s
   * `readToken` and `readSession`, which must cost what reading a token cost before sessions.
   */
  async readWith<U extends UserProtocol<ID>, R>(
    token: string | null,
    users: { get(id: ID): Promise<U | null> },
    pick: (accessToken: AT, user: U) => R,
  ): Promise<R | null> {
    // Anything not shaped like our tokens costs no round trip (and no hash).
    if (token === null || !isOpaqueTokenShape(token)) return null;
    const digest = hashToken(token);
    let accessToken: AT | null;
    let user: U | null;
    if (this.database.getByTokenWithUser) {
      const found = await this.database.getByTokenWithUser(digest);
      if (!found) return null;
      accessToken = found.accessToken;
      user = found.user as U;
    } else {
      accessToken = await this.database.getByToken(digest);
      if (!accessToken) return null;
      user = await users.get(accessToken.userId);
    }
    if (!user) return null;
    const now = this.#clock();
    const created = accessToken.createdAt.getTime();
    const expires = created + accessToken.lifetimeSeconds * 1000;
    const cap = created + this.maxLifetimeSeconds * 1000;
    if (now >= Math.min(expires, cap)) {
      await this.database.delete(accessToken);
      return null;
    }
    await this.#renew(accessToken, now, expires, cap);
    return pick(accessToken, user);
  }

  async getSessionData(handle: string): Promise<JsonObject | null> {
    const at = await this.#byHandle(handle);
    return at && this.#isLive(at) ? (at.data ?? {}) : null;
  }

  async setSessionData(handle: string, data: JsonObject): Promise<boolean> {
    const checked = checkSessionJson(data, "data", this.limits.maxDataBytes);
    return this.#write(handle, { data: checked });
  }

  async mergeSessionData(handle: string, patch: JsonObject): Promise<JsonObject | null> {
    const checked = checkSessionJson(patch, "data", this.limits.maxDataBytes);
    if (this.database.mergeDataByHandle && isHandle(handle)) {
      const live = { now: new Date(this.#clock()), maxLifetimeSeconds: this.maxLifetimeSeconds };
      const merged = await this.database.mergeDataByHandle(
        handle,
        checked,
        this.limits.maxDataBytes,
        live,
      );
      // Else no live row, over the bound as the database measures, or not mergeable there:
      // the read and write below answer exactly.
      if (merged) return merged;
    }
    const at = await this.#byHandle(handle);
    if (!at || !this.#isLive(at)) return null;
    const data = mergeSessionJson(at.data ?? {}, patch, this.limits.maxDataBytes);
    await this.database.update(at, { data });
    return data;
  }

  async setSessionClaims(handle: string, claims: JsonObject): Promise<boolean> {
    const checked = checkSessionJson(claims, "claims", this.limits.maxClaimsBytes);
    return this.#write(handle, { claims: checked });
  }

  async invalidateSession(userId: ID, handle: string): Promise<boolean> {
    if (!isHandle(handle)) return false;
    const at = this.database.getByHandle
      ? await this.#byHandle(handle)
      : (await this.#listRows(userId)).find((row) => this.#handleOf(row) === handle);
    // Only the owner's session: a handle of someone else's is "not one", whoever sends it.
    if (!at || String(at.userId) !== String(userId)) return false;
    await this.database.delete(at);
    return true;
  }

  async invalidateUserSessions(userId: ID, options: { exceptHandle?: string } = {}): Promise<void> {
    const { exceptHandle } = options;
    let keep: AT | undefined | null;
    if (exceptHandle !== undefined && isHandle(exceptHandle)) {
      keep = this.database.getByHandle
        ? await this.#byHandle(exceptHandle)
        : (await this.#listRows(userId)).find((row) => this.#handleOf(row) === exceptHandle);
    }
    if (keep && String(keep.userId) === String(userId)) {
      await this.database.deleteAllForUser(userId, { exceptDigest: keep.token });
    } else {
      await this.database.deleteAllForUser(userId);
    }
  }

  async listUserSessions(userId: ID): Promise<Session<ID>[]> {
    const live = (await this.#listRows(userId)).filter((at) => this.#isLive(at));
    // Rows of an earlier release get their handle now, so data can be reached by it.
    if (this.database.getByHandle) {
      await Promise.all(live.filter((at) => at.handle == null).map((at) => this.#fillHandle(at)));
    }
    return live.map((at) => this.toSession(at));
  }

  deleteExpiredSessions(now: Date = new Date(this.#clock())): Promise<number> {
    return this.database.deleteExpired(now);
  }

  /** The {@link Session} a row stands for (a row of an earlier release reads as empty). */
  toSession(at: AT): Session<ID> {
    const created = at.createdAt.getTime();
    return {
      handle: this.#handleOf(at),
      userId: at.userId,
      createdAt: at.createdAt,
      expiresAt: new Date(this.#expiresAt(at)),
      absoluteExpiresAt: new Date(created + this.maxLifetimeSeconds * 1000),
      lastUsedAt: at.lastUsedAt ?? null,
      device: { ipAddress: at.ipAddress ?? null, userAgent: at.userAgent ?? null },
      claims: at.claims ?? {},
    };
  }

  /** When `at` expires: its idle lifetime, never past the absolute cap. */
  #expiresAt(at: AT): number {
    const created = at.createdAt.getTime();
    return Math.min(created + at.lifetimeSeconds * 1000, created + this.maxLifetimeSeconds * 1000);
  }

  #isLive(at: AT): boolean {
    return this.#clock() < this.#expiresAt(at);
  }

  #handleOf(at: AT): string {
    return at.handle ?? sessionIdFromDigest(at.token);
  }

  /** True when `at` is live (renewed when due); an expired row is deleted. */
  async #live(at: AT): Promise<boolean> {
    const now = this.#clock();
    const created = at.createdAt.getTime();
    const expires = created + at.lifetimeSeconds * 1000;
    const cap = created + this.maxLifetimeSeconds * 1000;
    if (now >= Math.min(expires, cap)) {
      await this.database.delete(at);
      return false;
    }
    await this.#renew(at, now, expires, cap);
    return true;
  }

  /**
   * Sliding renewal, as the Lucia guide: only when less than half the idle lifetime is
   * left, so an active session costs one write per half-lifetime, not one per request; the
   * same write records `lastUsedAt`. `at` is updated in place, so the session read shows it.
   */
  async #renew(at: AT, now: number, expires: number, cap: number): Promise<void> {
    if (expires - now >= (this.lifetimeSeconds * 1000) / 2 || expires >= cap) {
      if (at.handle == null && this.database.getByHandle) await this.#fillHandle(at);
      return;
    }
    const created = at.createdAt.getTime();
    const target = Math.min(now + this.lifetimeSeconds * 1000, cap);
    const lifetimeSeconds = Math.floor((target - created) / 1000);
    if (lifetimeSeconds <= at.lifetimeSeconds) return;
    const update: AccessTokenUpdate = { lifetimeSeconds, lastUsedAt: new Date(now) };
    if (at.handle == null && this.database.getByHandle) update.handle = this.#handleOf(at);
    await this.database.update(at, update);
    Object.assign(at, update);
  }

  /** A row of an earlier release gets its handle (once: a write only for such rows). */
  async #fillHandle(at: AT): Promise<void> {
    const handle = sessionIdFromDigest(at.token);
    await this.database.update(at, { handle });
    at.handle = handle;
  }

  async #byHandle(handle: string): Promise<AT | null> {
    if (!this.database.getByHandle) {
      throw new SessionNotSupportedError(
        "Session data needs an AccessTokenDatabase with getByHandle (db-mikroorm and db-mongo have it)",
      );
    }
    return isHandle(handle) ? this.database.getByHandle(handle) : null;
  }

  async #listRows(userId: ID): Promise<AT[]> {
    if (!this.database.listByUser) {
      throw new SessionNotSupportedError(
        "Listing sessions needs an AccessTokenDatabase with listByUser",
      );
    }
    return this.database.listByUser(userId);
  }

  /** Data or claims by handle: one conditional write where the database has it, else a read then a write. */
  async #write(
    handle: string,
    update: Pick<AccessTokenUpdate, "data" | "claims">,
  ): Promise<boolean> {
    if (this.database.updateByHandle) {
      if (!isHandle(handle)) return false;
      const live = { now: new Date(this.#clock()), maxLifetimeSeconds: this.maxLifetimeSeconds };
      return this.database.updateByHandle(handle, update, live);
    }
    const at = await this.#byHandle(handle);
    if (!at || !this.#isLive(at)) return false;
    await this.database.update(at, update);
    return true;
  }
}
