import { createHash } from "node:crypto";
import { ConfigurationError } from "@tessera/core";
import type {
  JwtRevocationStore,
  RevocationQuery,
  RevokedToken,
  RevokedUserTokens,
} from "@tessera/strategy-jwt";
import { type RedisClient, runScript } from "../lib/scripts.js";
import { orUnavailable } from "../lib/unavailable.js";
import { RAISE_CUTOFF, REVOKE_JTI } from "./scripts.js";

/**
 * Number of hash-tag shards. Fixed, not an option: a jti and a cutoff are found by their
 * shard, so changing the count would lose every live revocation (logged-out tokens back).
 */
const SHARDS = 16;

/** Options of {@link RedisJwtRevocationStore}. */
export interface RedisJwtRevocationStoreOptions {
  /** An ioredis `Redis` or `Cluster` (configured to fail fast, see `recommendedRedisOptions`). */
  redis: RedisClient;
  /**
   * Prepended to every key. Must not contain `{` or `}`: the store places its own Cluster
   * hash tag right after it.
   * @default "tessera:jwt:"
   */
  prefix?: string;
  /** Current time in epoch milliseconds, to turn expiry instants into TTLs. @default Date.now */
  clock?: () => number;
}

/**
 * A {@link JwtRevocationStore} in Redis (standalone or Cluster): revoked `jti`s expire with
 * their token, a user's log-out-everywhere cutoff expires once every token it covers has,
 * and `isRevoked` is one MGET.
 *
 * On a Cluster that MGET must name keys of one slot, yet a logout knows only the `jti` and
 * a log-out-everywhere only the user. So both keys carry a hash tag chosen by the `jti`
 * (one of 16 shards): `prefix{s}:jti:<jti>` and `prefix{s}:sub:<sub>`, and a cutoff is
 * written once per shard (16 small writes on a rare operation), so whatever shard a token's
 * `jti` picks holds its user's cutoff too. Reads spread over 16 slots, hence over the nodes.
 *
 * @example
 * const strategy = new JWTStrategy({
 *   secret: process.env.JWT_SECRET,
 *   revocationStore: new RedisJwtRevocationStore({ redis }),
 * });
 */
export class RedisJwtRevocationStore implements JwtRevocationStore {
  /** The ioredis client revocations live in. */
  readonly redis: RedisClient;
  /** Prefix of every key. @default "tessera:jwt:" */
  readonly prefix: string;
  private readonly clock: () => number;

  constructor(options: RedisJwtRevocationStoreOptions) {
    this.redis = options.redis;
    this.prefix = options.prefix ?? "tessera:jwt:";
    this.clock = options.clock ?? Date.now;
    if (typeof this.redis?.evalsha !== "function") {
      throw new ConfigurationError(
        "RedisJwtRevocationStore: redis must be an ioredis Redis or Cluster",
      );
    }
    if (typeof this.prefix !== "string" || /[{}]/.test(this.prefix)) {
      throw new ConfigurationError("RedisJwtRevocationStore: prefix must not contain { or }");
    }
  }

  /** Revokes one token until its `exp` (a logout). An expired token is not stored. */
  async revokeToken(token: RevokedToken): Promise<void> {
    const ttl = token.expiresAt.getTime() - this.clock();
    if (ttl <= 0) return;
    const key = this.jtiKey(shardOf(token.jti), token.jti);
    await orUnavailable(runScript(this.redis, REVOKE_JTI, [key], [ttl]));
  }

  /**
   * Revokes every token of `rule.sub` issued at or before `rule.cutoff` (log out
   * everywhere), but `rule.exceptJti`.
   */
  async revokeUserTokens(rule: RevokedUserTokens): Promise<void> {
    const ttl = rule.expiresAt.getTime() - this.clock();
    if (ttl <= 0) return;
    // One value holds the cutoff and its exception, so they are replaced together.
    const except = rule.exceptJti;
    const cutoff =
      except === undefined || except === ""
        ? String(rule.cutoff.getTime())
        : `${rule.cutoff.getTime()} ${except}`;
    await Promise.all(
      Array.from({ length: SHARDS }, (_, shard) =>
        orUnavailable(
          runScript(this.redis, RAISE_CUTOFF, [this.subKey(shard, rule.sub)], [cutoff, ttl]),
        ),
      ),
    );
  }

  /** True when the token's `jti` is revoked or it was issued at or before its user's cutoff. */
  async isRevoked(query: RevocationQuery): Promise<boolean> {
    const shard = shardOf(query.jti);
    const [jti, cutoff] = await orUnavailable(
      this.redis.mget(this.jtiKey(shard, query.jti), this.subKey(shard, query.sub)),
    );
    if (jti !== null && jti !== undefined) return true;
    if (typeof cutoff !== "string") return false;
    const space = cutoff.indexOf(" ");
    const at = Number(space < 0 ? cutoff : cutoff.slice(0, space));
    const spared = space < 0 ? undefined : cutoff.slice(space + 1);
    return query.issuedAt.getTime() <= at && query.jti !== spared;
  }

  private jtiKey(shard: number, jti: string): string {
    return `${this.prefix}{${shard}}:jti:${jti}`;
  }

  private subKey(shard: number, sub: string): string {
    return `${this.prefix}{${shard}}:sub:${sub}`;
  }
}

/** The shard of a jti: uniform, and the same in every process. */
function shardOf(jti: string): number {
  return (createHash("sha256").update(jti, "utf8").digest()[0] ?? 0) % SHARDS;
}
