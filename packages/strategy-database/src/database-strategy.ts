import {
  type AccessTokenDatabase,
  type AccessTokenProtocol,
  type AccessTokenWithUserReader,
  ConfigurationError,
  type DestroyAllTokensOptions,
  generateOpaqueToken,
  hashToken,
  type SessionInfo,
  type Strategy,
  type UserManager,
  type UserProtocol,
} from "@tessera/core";
import { isOpaqueTokenShape, sessionIdFromDigest } from "@tessera/core/internal";

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
  /** Current time in epoch milliseconds. @default Date.now */
  clock?: () => number;
}

/**
 * Opaque session tokens in any {@link AccessTokenDatabase}: 256-bit random tokens of
 * which only the SHA-256 digest is stored, an idle lifetime renewed by sliding (when less
 * than half remains, at most one write per half-lifetime), an absolute cap, and logout,
 * log-out-everywhere and cleanup of expired rows read back.
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
  private readonly clock: () => number;
  /** Present when the database can list a user's tokens (`listByUser`). */
  readonly listSessions?: (user: U, currentToken: string | null) => Promise<SessionInfo[]>;
  /** Present when the database can list a user's tokens (`listByUser`). */
  readonly destroySession?: (user: U, sessionId: string) => Promise<boolean>;

  constructor(options: DatabaseStrategyOptions<AT, U, ID>) {
    this.database = options.database;
    this.lifetimeSeconds = options.lifetimeSeconds ?? 3600;
    this.maxLifetimeSeconds = options.maxLifetimeSeconds ?? 30 * 24 * 3600;
    this.clock = options.clock ?? Date.now;
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
    const listByUser = this.database.listByUser?.bind(this.database);
    if (listByUser) {
      this.listSessions = async (user, currentToken) => {
        const current =
          currentToken && isOpaqueTokenShape(currentToken) ? hashToken(currentToken) : null;
        const now = this.clock();
        return (await listByUser(user.id))
          .map((at) => ({ at, expires: this.expiresAt(at) }))
          .filter(({ expires }) => expires > now)
          .map(({ at, expires }) => ({
            id: sessionIdFromDigest(at.token),
            createdAt: at.createdAt,
            expiresAt: new Date(expires),
            current: at.token === current,
          }));
      };
      this.destroySession = async (user, sessionId) => {
        const match = (await listByUser(user.id)).find(
          (at) => sessionIdFromDigest(at.token) === sessionId,
        );
        if (match) await this.database.delete(match);
        return match !== undefined;
      };
    }
  }

  /** When `at` expires: its idle lifetime, never past the absolute cap. */
  private expiresAt(at: AT): number {
    const created = at.createdAt.getTime();
    return Math.min(created + at.lifetimeSeconds * 1000, created + this.maxLifetimeSeconds * 1000);
  }

  async readToken(token: string | null, userManager: UserManager<U, ID>): Promise<U | null> {
    // Anything not shaped like our tokens costs no round trip (and no hash).
    if (token === null || !isOpaqueTokenShape(token)) return null;
    const digest = hashToken(token);
    let accessToken: AT | null;
    let user: U | null;
    if (this.database.getByTokenWithUser) {
      const found = await this.database.getByTokenWithUser(digest);
      if (!found) return null;
      ({ accessToken, user } = found);
    } else {
      accessToken = await this.database.getByToken(digest);
      if (!accessToken) return null;
      user = await userManager.userDb.get(accessToken.userId);
    }
    if (!user) return null;
    const now = this.clock();
    const created = accessToken.createdAt.getTime();
    const expires = created + accessToken.lifetimeSeconds * 1000;
    const cap = created + this.maxLifetimeSeconds * 1000;
    if (now >= this.expiresAt(accessToken)) {
      await this.database.delete(accessToken);
      return null;
    }
    await this.renew(accessToken, now, expires, cap);
    return user;
  }

  /**
   * Sliding renewal, as the Lucia guide: only when less than half the idle lifetime is
   * left, so an active session costs one write per half-lifetime, not one per request.
   */
  private async renew(accessToken: AT, now: number, expires: number, cap: number): Promise<void> {
    if (expires - now >= (this.lifetimeSeconds * 1000) / 2 || expires >= cap) return;
    const created = accessToken.createdAt.getTime();
    const target = Math.min(now + this.lifetimeSeconds * 1000, cap);
    const lifetimeSeconds = Math.floor((target - created) / 1000);
    if (lifetimeSeconds > accessToken.lifetimeSeconds) {
      await this.database.update(accessToken, { lifetimeSeconds });
    }
  }

  async writeToken(user: U): Promise<string> {
    const token = generateOpaqueToken();
    await this.database.create({
      token: hashToken(token),
      userId: user.id,
      createdAt: new Date(this.clock()),
      lifetimeSeconds: Math.min(this.lifetimeSeconds, this.maxLifetimeSeconds),
    });
    return token;
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
    } else {
      await this.database.deleteAllForUser(user.id);
    }
  }

  /** Deletes every expired token; run it from a cron job. Returns how many were deleted. */
  deleteExpired(now: Date = new Date(this.clock())): Promise<number> {
    return this.database.deleteExpired(now);
  }
}
