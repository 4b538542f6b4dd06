-- wrk script for bench/organizations.sh: creates exactly TOTAL members of one organization
-- through the accounts API (POST /v1/users with an API key: an admin-created account, no
-- password, joining the organization), each with a unique e-mail, then stops.
--
-- Usage: wrk -t T -c C -d 1800s -H 'X-API-Key: <key>' -s bench/organizations_seed.lua \
--          http://127.0.0.1:PORT -- TOTAL T DONE_DIR ORG
--
-- Member number g (1..TOTAL) has the e-mail m<g>@bench.example. Thread t (0-based) of T sends
-- g = t+1, t+1+T, t+1+2T, ... so every g is sent exactly once, whatever the connections (as
-- bench/seed.lua does).
--
-- A thread stops (wrk.thread:stop(), wrk 4.1) once every one of its creations has been
-- answered, and creates the file DONE_DIR/thread-<t>: wrk itself still waits for its -d to end,
-- so bench/organizations.sh watches for the T files and then ends wrk with SIGINT (wrk then
-- prints its summary). Until its creations are all answered, a connection with nothing left to
-- send sends GET /health instead, which creates nothing. The answers are told apart by their
-- status: a creation answers 201 (or an error, 4xx/5xx), /health 200. A creation answered
-- otherwise than 201 is not retried: bench/organizations.sh sees the shortfall in the count.
-- done() prints one line "BENCH_JSON {...}".

local threads = {}
local next_tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

-- Globals read by done() through thread:get.
created, failed, health_sent, sent = 0, 0, 0, 0
-- The status of the first failed creation (0: none), to tell what went wrong.
first_failure = 0

local total, nthreads, g, share, done_dir, org
local finished = false

function init(args)
  total = tonumber(args[1]) or error("organizations_seed.lua: TOTAL is required")
  -- init runs in the thread's own Lua state, which does not know how many threads there are.
  nthreads = tonumber(args[2]) or error("organizations_seed.lua: THREADS is required")
  done_dir = args[3] or error("organizations_seed.lua: DONE_DIR is required")
  org = args[4] or error("organizations_seed.lua: ORG is required")
  g = tid + 1
  -- How many g this thread owns: |{tid+1, tid+1+T, ...} ∩ [1, total]|.
  share = (total >= g) and (math.floor((total - g) / nthreads) + 1) or 0
  wrk.headers["x-app-id"] = "bench"
  wrk.headers["content-type"] = "application/json"
  if share == 0 then
    finished = true
    local marker = assert(io.open(done_dir .. "/thread-" .. tid, "w"))
    marker:close()
  end
end

local first_call = true

function request()
  -- wrk 4.1 calls request() once in thread 0, before any connection, to check the request it
  -- returns (script_verify_request); that request is never sent. So the first call of thread 0
  -- returns a harmless GET /health rather than consume a creation.
  if first_call then
    first_call = false
    if tid == 0 then
      return wrk.format("GET", "/health", nil, nil)
    end
  end
  if sent < share then
    sent = sent + 1
    local n = g
    g = g + nthreads
    return wrk.format("POST", "/v1/users", nil, string.format(
      '{"email":"m%d@bench.example","organization_id":"%s","role":"member"}', n, org))
  end
  health_sent = health_sent + 1
  return wrk.format("GET", "/health", nil, nil)
end

function response(status, headers, body)
  if status == 201 then
    created = created + 1
  elseif status ~= 200 then
    -- Not a creation and not a healthy /health: an error answer to a creation.
    failed = failed + 1
    if first_failure == 0 then first_failure = status end
  end
  if created + failed >= share and not finished then
    finished = true
    local marker = assert(io.open(done_dir .. "/thread-" .. tid, "w"))
    marker:close()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local t = { created = 0, failed = 0, health_sent = 0, sent = 0 }
  local first = 0
  for _, thread in ipairs(threads) do
    for k in pairs(t) do t[k] = t[k] + (thread:get(k) or 0) end
    if first == 0 then first = thread:get("first_failure") or 0 end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"creations_sent":%d,"created_201":%d,' ..
    '"creations_failed":%d,"first_failure_status":%d,"health_sent":%d,"p50_us":%d,"p99_us":%d,' ..
    '"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d}\n',
    summary.requests, summary.duration, t.sent, t.created, t.failed, first, t.health_sent,
    latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
