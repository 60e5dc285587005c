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
// h (handle), a (last used at, ms), ip and ua (device), d (data), k (claims JSON); since
// issue 15, on refresh-token sessions only: r (digest of the current refresh token) and rp
// (digest of its parent).
//
// d is a JSON array of strings, alternately a top-level key and its value, each JSON-encoded
// by the app (`["\"theme\"","\"dark\""]`), in the data's key order: a script merges a
// patch by swapping whole strings, and never decodes the user's JSON (Lua's cjson turns
// `[]` into `{}` and rounds big numbers). A d that starts with `{` is the data as one JSON
// object, as written before this format: still read, and rewritten on its first merge.

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
 * handle, client address, user agent, data, claims JSON, refresh digest (each "" when
 * absent, and then not written).
 */
export const WRITE_SESSION = lua(`
local f = {'u', ARGV[1], 'c', ARGV[2], 'l', ARGV[3]}
local names = {'s', 'h', 'ip', 'ua', 'd', 'k', 'r'}
for i = 1, 7 do
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
 * Compare-and-set of a live session's data, now only to rewrite data stored in the format
 * before MERGE_DATA's (once, before its first merge): writes ARGV[3] only when \`d\` is
 * still what the caller read (ARGV[1] "1" and ARGV[2] the old value, or ARGV[1] "0": none).
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

/**
 * Merges a patch into a live session's data and writes it when the result is within
 * ARGV[3] bytes, in one step. ARGV: now ms, cap ms, max bytes, then pairs of a JSON-encoded
 * key and its JSON-encoded value ("" deletes the key). Only whole strings are moved: a
 * key already there keeps its place, a new one goes last, as with mergeSessionJson. The
 * size is that of the JSON object the entries make (`{k:v,k:v}`), as checkSessionJson
 * counts it. Returns {1, the merged d ("[]" when empty, then the field is deleted)},
 * {0} gone, {-1} data in the format before this one, {-2} over the bound (nothing written).
 */
export const MERGE_DATA = lua(`
local f = redis.call('HMGET', KEYS[1], 'c', 'l', 'd')
local created, life = tonumber(f[1]), tonumber(f[2])
if not created or not life then return {0} end
local now = tonumber(ARGV[1])
if now >= created + life * 1000 or now >= created + tonumber(ARGV[2]) then return {0} end
local entries = {}
if f[3] and f[3] ~= '' then
  if string.sub(f[3], 1, 1) ~= '[' then return {-1} end
  local ok, decoded = pcall(cjson.decode, f[3])
  local valid = ok and type(decoded) == 'table' and #decoded % 2 == 0
  if valid then
    for i = 1, #decoded do
      if type(decoded[i]) ~= 'string' then valid = false end
    end
  end
  -- Anything else was not written by Tessera, and reads as {}: so does the merge.
  if valid then entries = decoded end
end
local at = {}
for i = 1, #entries, 2 do at[entries[i]] = i end
for j = 4, #ARGV - 1, 2 do
  local key, value = ARGV[j], ARGV[j + 1]
  local i = at[key]
  if value == '' then
    if i then entries[i + 1] = false end
  elseif i then
    entries[i + 1] = value
  else
    entries[#entries + 1] = key
    entries[#entries + 1] = value
    at[key] = #entries - 1
  end
end
local merged, size = {}, 1
for i = 1, #entries, 2 do
  local value = entries[i + 1]
  if value then
    merged[#merged + 1] = entries[i]
    merged[#merged + 1] = value
    size = size + #entries[i] + #value + 2
  end
end
if #merged == 0 then size = 2 end
if size > tonumber(ARGV[3]) then return {-2} end
if #merged == 0 then
  redis.call('HDEL', KEYS[1], 'd')
  return {1, '[]'}
end
local encoded = cjson.encode(merged)
redis.call('HSET', KEYS[1], 'd', encoded)
return {1, encoded}
`);

/**
 * Rotates the refresh token of a session (issue 15), deciding and writing in one step.
 * ARGV: presented digest, child digest, now ms, idle ms, cap ms. Expired (idle or past the
 * cap) -> deleted, nil; no refresh digest (not a refresh-token session) -> nil. Then:
 * - r == presented: r = child, rp = presented, the idle lifetime renewed as READ_SESSION
 *   renews it (never past the cap; the TTL follows), a = now -> "rotated";
 * - rp == presented and r == child: the child is not used yet, nothing written -> "parent";
 * - anything else on a live session: a rotated token used again -> deleted -> "reused".
 * Returns {outcome, u, c, l, s, h, a, ip, ua, k} (READ_SESSION's fields, as they now are).
 */
export const ROTATE_REFRESH = lua(`
local f = redis.call('HMGET', KEYS[1], 'u', 'c', 'l', 's', 'h', 'a', 'ip', 'ua', 'k', 'r', 'rp')
if not f[1] or not f[2] or not f[3] or not f[10] then return false end
local now, idle, max = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local created, life = tonumber(f[2]), tonumber(f[3])
if not created or not life then return false end
local expires, cap = created + life * 1000, created + max
if now >= expires or now >= cap then
  redis.call('DEL', KEYS[1])
  return false
end
local outcome
if f[10] == ARGV[1] then
  outcome = 'rotated'
  local renewed = math.floor((math.min(now + idle, cap) - created) / 1000)
  if renewed > life then
    redis.call('HSET', KEYS[1], 'r', ARGV[2], 'rp', ARGV[1], 'a', ARGV[3], 'l', renewed)
    redis.call('PEXPIRE', KEYS[1], created + renewed * 1000 - now)
    f[3] = tostring(renewed)
  else
    redis.call('HSET', KEYS[1], 'r', ARGV[2], 'rp', ARGV[1], 'a', ARGV[3])
  end
  f[6] = ARGV[3]
elseif f[11] == ARGV[1] and f[10] == ARGV[2] then
  outcome = 'parent'
else
  outcome = 'reused'
  redis.call('DEL', KEYS[1])
end
return {outcome, f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9]}
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
