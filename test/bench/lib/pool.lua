-- wrk script: every request carries one credential picked at random from the pool file
-- named by $TOKENS_FILE (one "Header: value" line per token); prints one JSON line with
-- the figures when done. Requires paths of $BENCH_PATH (default /me).
local path = os.getenv("BENCH_PATH") or "/me"
local headers = {}

local function load()
  local file = assert(io.open(os.getenv("TOKENS_FILE"), "r"))
  for line in file:lines() do
    local name, value = line:match("^([^:]+):%s*(.*)$")
    if name then headers[#headers + 1] = { name, value } end
  end
  file:close()
end

local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

function init(args)
  load()
  math.randomseed(os.time() * 1000 + (id or 0))
end

function request()
  local h = headers[math.random(#headers)]
  return wrk.format("GET", path, { [h[1]] = h[2] })
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\nWRK_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"status_errors":%d,"timeouts":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
