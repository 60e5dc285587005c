import {
  type AccessTokenDatabase,
  type AccessTokenProtocol,
  type AccessTokenWithUserReader,
  type CreateSessionOptions,
  type DestroyAllTokensOptions,
  hashToken,
  type Session,
  type SessionInfo,
  type SessionLimits,
  type Strategy,
  type UserManager,
  type UserProtocol,
} from "@tessera/core";
import { isOpaqueTokenShape, sessionIdFromDigest } from "@tessera/core/internal";
import { DatabaseSessionStore } from "./session-store.js";

/** Options of {@link DatabaseStrategy}. */
export interface DatabaseStrategyOptions<
  AT extends AccessTokenProtocol<ID>,
  U extends UserProtocol<ID>,
  ID,
> {
  /** Where token digests live (often request-scoped). */
  database: AccessTokenDatabase<AT, ID> & Partial<AccessTokenWithUserReader<AT, U, ID>>;
  /**
   * Idle lifetime in seconds: a token unused for this long expires. Written per token as
   * `lifetime_seconds` and extended by sliding renewal.
   * @default 3600
   */
  lifetimeSeconds?: number;
  /**
   * Absolute lifetime in seconds from `created_at`: renewal never extends a token past
   * it, however active (piccolo's `max_expiry_date`; ASVS 5.0 7.3.2).
   * @default 2592000 (30 days)
   */
  maxLifetimeSeconds?: number;
  /** Size limits of session data and claims. @default DEFAULT_SESSION_LIMITS */
  limits?: SessionLimits;
  /** Current time in epoch milliseconds. @default Date.now */
  clock?: () => number;
}

const pickUser = <U>(_: unknown, user: U) => user;

/**
 * Opaque session tokens in any {@link AccessTokenDatabase}: 256-bit random tokens of
 * which only the SHA-256 digest is stored, an idle lifetime renewed by sliding (when less
 * than half remains, at most one write per half-lifetime), an absolute cap, and logout,
 * log-out-everywhere and cleanup of expired rows read back. Built on
 * {@link DatabaseSessionStore} (`sessions`): a token is a session with a device, data and
 * claims.
 *
 * @example
 * const backend = new AuthenticationBackend({
 *   name: "db",
 *   transport: new BearerTransport({ tokenUrl: "auth/db/login" }),
 *   getStrategy: (ctx) => new DatabaseStrategy({ database: accessTokenDb(ctx), lifetimeSeconds: 3600 }),
 * });
 */
export class DatabaseStrategy<
  U extends UserProtocol<ID>,
  AT extends AccessTokenProtocol<ID> = AccessTokenProtocol<U["id"]>,
  ID = U["id"],
> implements Strategy<U, ID>
{
  readonly database: DatabaseStrategyOptions<AT, U, ID>["database"];
  readonly lifetimeSeconds: number;
  readonly maxLifetimeSeconds: number;
  /** The sessions of this strategy: the session API without HTTP. */
  readonly sessions: DatabaseSessionStore<ID, AT>;
  /** Present when the database can list a user's tokens (`listByUser`). */
  readonly listSessions?: (user: U, currentToken: string | null) => Promise<SessionInfo[]>;
  /** Present when the database can list a user's tokens (`listByUser`). */
  readonly destroySession?: (user: U, sessionId: string) => Promise<boolean>;
  readonly #pickSession: (accessToken: AT, user: U) => { user: U; session: Session<ID> };

  constructor(options: DatabaseStrategyOptions<AT, U, ID>) {
    this.database = options.database;
    this.sessions = new DatabaseSessionStore<ID, AT>(options);
    this.lifetimeSeconds = this.sessions.lifetimeSeconds;
    this.maxLifetimeSeconds = this.sessions.maxLifetimeSeconds;
    this.#pickSession = (accessToken, user) => ({
      user,
      session: this.sessions.toSession(accessToken),
    });
    if (this.database.listByUser) {
      this.listSessions = async (user, currentToken) => {
        const current =
          currentToken && isOpaqueTokenShape(currentToken) ? hashToken(currentToken) : null;
        const handle = current && sessionIdFromDigest(current);
        return (await this.sessions.listUserSessions(user.id)).map((session) => ({
          id: session.handle,
          createdAt: session.createdAt,
          expiresAt: session.expiresAt,
          lastUsedAt: session.lastUsedAt,
          device: session.device,
          current: session.handle === handle,
        }));
      };
      this.destroySession = (user, sessionId) =>
        this.sessions.invalidateSession(user.id, sessionId);
    }
  }

  readToken(token: string | null, userManager: UserManager<U, ID>): Promise<U | null> {
    return this.sessions.readWith(token, userManager.userDb, pickUser);
  }

  /** The user and the {@link Session} `token` stands for, in the one round trip of `readToken`. */
  readSession(
    token: string | null,
    userManager: UserManager<U, ID>,
  ): Promise<{ user: U; session: Session<ID> } | null> {
    return this.sessions.readWith(token, userManager.userDb, this.#pickSession);
  }

  /** Issues a token for a new session of `user`, with a device, data and claims (a login). */
  async writeSession(user: U, options?: CreateSessionOptions): Promise<string> {
    return (await this.sessions.createSession(user.id, options)).token;
  }

  writeToken(user: U): Promise<string> {
    return this.writeSession(user);
  }

  async destroyToken(token: string, user: U): Promise<void> {
    if (!isOpaqueTokenShape(token)) return;
    const accessToken = await this.database.getByToken(hashToken(token));
    // Only the owner's token: a token of someone else is left alone, whoever presents it.
    if (accessToken && String(accessToken.userId) === String(user.id))
      await this.database.delete(accessToken);
  }

  /**
   * Deletes every token row of `user` (log out everywhere), but the row of
   * `options.exceptToken` when it is one (the session that changed its own password).
   */
  async destroyAllTokens(user: U, options: DestroyAllTokensOptions = {}): Promise<void> {
    const except = options.exceptToken;
    if (except !== undefined && isOpaqueTokenShape(except)) {
      await this.database.deleteAllForUser(user.id, { exceptDigest: hashToken(except) });
    } else if (options.exceptHandle !== undefined) {
      // Another strategy's token whose session may live in this table (a shared one).
      await this.sessions.invalidateUserSessions(user.id, { exceptHandle: options.exceptHandle });
    } else {
      await this.database.deleteAllForUser(user.id);
    }
  }

  /** Deletes every expired token; run it from a cron job. Returns how many were deleted. */
  deleteExpired(now?: Date): Promise<number> {
    return this.sessions.deleteExpiredSessions(now);
  }
}
