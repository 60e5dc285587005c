import { lua } from "../lib/scripts.js";

/**
 * GCRA on one key, as core's `gcraConsume`/`gcraRefund`, atomically. KEYS[1]: the key.
 * ARGV: op ("consume" | "refund"), window ms, limit, max block ms, now ms ("" = the
 * server's clock, so app instances with skewed clocks count alike).
 * Returns {allowed 0|1, retry-after ms, remaining}.
 */
export const RATE_LIMIT = lua(`
local window, limit, maxBlock = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local now = tonumber(ARGV[5])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local interval = window / limit
local tolerance = window - interval
local stored = tonumber(redis.call('GET', KEYS[1]))
if stored and stored <= now then stored = nil end
local function save(tat)
  if tat and tat > now then
    redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', string.format('%.0f', math.ceil(tat - now)))
  else
    redis.call('DEL', KEYS[1])
  end
end
if ARGV[1] == 'refund' then
  if stored then save(math.floor(stored - interval)) end
  return {1, 0, 0}
end
local tat = stored or now
if tat < now then tat = now end
if tat - now <= tolerance then
  local nxt = math.ceil(tat + interval)
  save(nxt)
  local remaining = math.floor((now + tolerance - nxt) / interval) + 1
  if remaining < 0 then remaining = 0 end
  return {1, 0, remaining}
end
local nxt = tat
if maxBlock > 0 then
  nxt = math.min(math.ceil(tat + interval), now + tolerance + maxBlock)
  if nxt < tat then nxt = tat end
  save(nxt)
end
local retry = nxt - tolerance - now
if retry < 1 then retry = 1 end
return {0, math.ceil(retry), 0}
`);
