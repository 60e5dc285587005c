import { createHash } from "node:crypto";
import type { Cluster, Redis } from "ioredis";

/** An ioredis client: a standalone (or Sentinel) `Redis`, or a `Cluster`. */
export type RedisClient = Redis | Cluster;

/** A Lua script with its SHA-1, sent by hash once the node has cached it. */
export interface LuaScript {
  readonly source: string;
  readonly sha: string;
}

/** Prepares a Lua script once, at module load. */
export function lua(source: string): LuaScript {
  return { source, sha: createHash("sha1").update(source).digest("hex") };
}

/**
 * Runs `script` with EVALSHA, falling back to EVAL (which caches it) the first time a
 * node has not seen it. A script touches only `keys`, so on a Cluster every key passed
 * must hash to one slot; ioredis routes the call to the node that owns it.
 */
export async function runScript(
  client: RedisClient,
  script: LuaScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  try {
    return await client.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error && error.message.startsWith("NOSCRIPT"))) throw error;
    return client.eval(script.source, keys.length, ...keys, ...args);
  }
}

// Token key: a hash of u (user id), c (created at, ms), l (lifetime, s), s (snapshot JSON),
// and, since issue 14 (each optional, so sessions of the previous release still read):
// h (handle), a (last used at, ms), ip and ua (device), d (data JSON), k (claims JSON).

/**
 * Reads a session and, in the same trip, applies the lifetime rules of DatabaseStrategy:
 * expired (idle or past the absolute cap) -> deleted, nil; less than half the idle
 * lifetime left and below the cap -> `l` and the TTL extended and `a` set to now (the only
 * write a read makes, so at most one per half-lifetime). ARGV: now ms, idle ms, cap ms.
 * Returns {u, c, l, s, h, a, ip, ua, k} (absent fields nil).
 */
export const READ_SESSION = lua(`
local f = redis.call('HMGET', KEYS[1], 'u', 'c', 'l', 's', 'h', 'a', 'ip', 'ua', 'k')
if not f[1] or not f[2] or not f[3] then return false end
local now, idle, max = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local created, life = tonumber(f[2]), tonumber(f[3])
if not created or not life then return false end
local expires, cap = created + life * 1000, created + max
if now >= expires or now >= cap then
  redis.call('DEL', KEYS[1])
  return false
end
if expires - now < idle / 2 and expires < cap then
  local renewed = math.floor((math.min(now + idle, cap) - created) / 1000)
  if renewed > life then
    redis.call('HSET', KEYS[1], 'l', renewed, 'a', ARGV[1])
    redis.call('PEXPIRE', KEYS[1], created + renewed * 1000 - now)
    f[3], f[6] = tostring(renewed), ARGV[1]
  end
end
return f
`);

/**
 * Creates a session. ARGV: user id, created ms, lifetime s, ttl ms, then snapshot JSON,
 * handle, client address, user agent, data JSON, claims JSON (each "" when absent, and
 * then not written).
 */
export const WRITE_SESSION = lua(`
local f = {'u', ARGV[1], 'c', ARGV[2], 'l', ARGV[3]}
local names = {'s', 'h', 'ip', 'ua', 'd', 'k'}
for i = 1, 6 do
  if ARGV[4 + i] ~= '' then
    f[#f + 1] = names[i]
    f[#f + 1] = ARGV[4 + i]
  end
end
redis.call('HSET', KEYS[1], unpack(f))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`);

/**
 * Sets one field (ARGV[1] = ARGV[2]) of a session that is still live by the app's clock
 * (ARGV[3] now ms, ARGV[4] cap ms); HSET keeps the TTL. Returns 0 when it is gone.
 */
export const SET_FIELD_IF_LIVE = lua(`
local f = redis.call('HMGET', KEYS[1], 'c', 'l')
local created, life = tonumber(f[1]), tonumber(f[2])
if not created or not life then return 0 end
local now = tonumber(ARGV[3])
if now >= created + life * 1000 or now >= created + tonumber(ARGV[4]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`);

/**
 * Compare-and-set of a live session's data: writes ARGV[3] only when \`d\` is still what the
 * caller merged into (ARGV[1] "1" and ARGV[2] the old JSON, or ARGV[1] "0": no data yet).
 * ARGV[4] now ms, ARGV[5] cap ms. Returns 1 written, 0 gone, -1 changed meanwhile.
 */
export const COMPARE_AND_SET_DATA = lua(`
local f = redis.call('HMGET', KEYS[1], 'c', 'l', 'd')
local created, life = tonumber(f[1]), tonumber(f[2])
if not created or not life then return 0 end
local now = tonumber(ARGV[4])
if now >= created + life * 1000 or now >= created + tonumber(ARGV[5]) then return 0 end
if ARGV[1] == '1' then
  if f[3] ~= ARGV[2] then return -1 end
elseif f[3] then
  return -1
end
redis.call('HSET', KEYS[1], 'd', ARGV[3])
return 1
`);

/** Records the handle of a session written by the previous release (ARGV[1]); 0 if gone. */
export const SET_HANDLE = lua(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'h', ARGV[1])
return 1
`);

/** Deletes a session only when it belongs to ARGV[1] (a user id); returns 1 if deleted. */
export const DELETE_OWNED_SESSION = lua(`
if redis.call('HGET', KEYS[1], 'u') ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
`);

/**
 * Replaces the snapshot of a session of ARGV[1] (a user id) with ARGV[2]; HSET keeps the
 * key's TTL. Returns 0 when the session is gone or not the user's.
 */
export const REWRITE_SNAPSHOT = lua(`
if redis.call('HGET', KEYS[1], 'u') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 's', ARGV[2])
return 1
`);

// User index: a sorted set of the user's token digests, scored by creation time (ms).

/**
 * Adds a digest to a user's index: first forgets members past the absolute cap (created
 * before ARGV[3]), then keeps the index alive at least as long as its newest session can
 * live (ARGV[4] ms). ARGV: digest, created ms, purge-before ms, ttl ms. Returns ZCARD.
 */
export const INDEX_ADD = lua(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[4]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return redis.call('ZCARD', KEYS[1])
`);

/**
 * Removes digests whose sessions are gone (ARGV[2..]), but only those created before
 * ARGV[1]: a login writes the index before its session key, so a very young member with
 * no key yet may be a login in flight, and dropping it would leave that session out of
 * every later log-out-everywhere. Returns how many were removed.
 */
export const INDEX_REMOVE_DEAD = lua(`
local removed, before = 0, tonumber(ARGV[1])
for i = 2, #ARGV do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) < before then
    removed = removed + redis.call('ZREM', KEYS[1], ARGV[i])
  end
end
return removed
`);
