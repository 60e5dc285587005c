import { lua } from "../lib/scripts.js";

/** Marks a jti revoked for ARGV[1] ms, never shortening a longer revocation already there. */
export const REVOKE_JTI = lua(`
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 1
`);

/**
 * Raises a user's cutoff to ARGV[1] unless a later one is stored, and keeps the key for the
 * longer of ARGV[2] ms and what it had left: a later cutoff replaces an earlier one, an
 * earlier one never lowers it, and neither shortens how long it is remembered. A value is
 * "<cutoff ms>" or "<cutoff ms> <spared jti>": the exception travels with its cutoff.
 */
export const RAISE_CUTOFF = lua(`
local value, ttl = ARGV[1], tonumber(ARGV[2])
local current = redis.call('GET', KEYS[1])
local stored = current and tonumber(string.match(current, '^%S+'))
if stored and stored > tonumber(string.match(value, '^%S+')) then value = current end
local left = redis.call('PTTL', KEYS[1])
if left > ttl then ttl = left end
redis.call('SET', KEYS[1], value, 'PX', ttl)
return 1
`);
