-- wrk script for bench/list.sh: seeds exactly TOTAL sign-ups through the public API
-- (POST /v1/users, x-app-id: bench), each with a unique e-mail, then stops.
--
-- Usage: wrk -t T -c C -d 600s -s bench/seed.lua http://127.0.0.1:PORT -- TOTAL T DONE_DIR
--
-- Record number g (1..TOTAL) has the e-mail user<g>@example.com and field values that depend on
-- g only; `list_helpers.py pb-seed` gives PocketBase's copy the same values (keep the two in step).
-- Thread t (0-based) of T sends g = t+1, t+1+T, t+1+2T, ... so every g is sent exactly once.
--
-- A thread stops (wrk.thread:stop(), wrk 4.1) once every one of its sign-ups has been answered,
-- and creates the file DONE_DIR/thread-<t>: wrk itself still waits for its -d to end, so
-- bench/list.sh watches for the T files and then ends wrk with SIGINT (wrk then prints its
-- summary as usual). Until its sign-ups are all answered, a connection with nothing left to
-- sign up sends GET /health instead, which creates nothing: answers to sign-ups are told apart
-- by their body (only they carry "createdAt"), so the stop is exact whatever the order in which
-- connections are answered. A sign-up answered non-2xx is not retried: bench/list.sh sees the
-- shortfall in the stored count. done() prints one line "BENCH_JSON {...}".

local threads = {}
local next_tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

-- Globals read by done() through thread:get.
signup_2xx, signup_other, health_sent, sent = 0, 0, 0, 0

local total, nthreads, g, share, done_dir
local finished = false
local names = { "Ada Lovelace", "Grace Hopper", "Alan Turing", "Émilie du Châtelet", "Ken Thompson" }

function init(args)
  total = tonumber(args[1]) or error("seed.lua: TOTAL is required")
  -- init runs in the thread's own Lua state, which does not know how many threads there are.
  nthreads = tonumber(args[2]) or error("seed.lua: THREADS is required")
  done_dir = args[3] or error("seed.lua: DONE_DIR is required")
  g = tid + 1
  -- How many g this thread owns: |{tid+1, tid+1+T, ...} ∩ [1, total]|.
  share = (total >= g) and (math.floor((total - g) / nthreads) + 1) or 0
  wrk.headers["x-app-id"] = "bench"
  wrk.headers["content-type"] = "application/json"
end

-- The field values of record g (bench/list_helpers.py pb_rows mirrors this).
local function body_of(n)
  local parts = {
    string.format('"fullName":"%s"', names[(n % #names) + 1]),
    string.format('"age":%d', 18 + (n % 60)),
    string.format('"plan":"%s"', (n % 3 == 0) and "free" or "pro"),
    '"consentRequired":true',
  }
  if n % 4 == 0 then
    table.insert(parts, string.format('"birthday":"%04d-%02d-%02d"',
      1950 + (n % 50), 1 + (n % 12), 1 + (n % 28)))
  end
  if n % 2 == 0 then
    table.insert(parts, '"consentOptional":' .. ((n % 4 == 0) and "true" or "false"))
  end
  return string.format('{"email":"user%d@example.com","data":{%s}}', n, table.concat(parts, ","))
end

local first_call = true

function request()
  -- wrk 4.1 calls request() once in thread 0, before any connection, to check the request it
  -- returns (script_verify_request); that request is never sent. So the first call of thread 0
  -- returns a harmless GET /health rather than consume a sign-up.
  if first_call then
    first_call = false
    if tid == 0 then
      return wrk.format("GET", "/health", { ["x-app-id"] = "bench" }, nil)
    end
  end
  if sent < share then
    sent = sent + 1
    local n = g
    g = g + nthreads
    return wrk.format("POST", "/v1/users", nil, body_of(n))
  end
  health_sent = health_sent + 1
  return wrk.format("GET", "/health", { ["x-app-id"] = "bench" }, nil)
end

function response(status, headers, body)
  if body ~= nil and string.find(body, '"createdAt"', 1, true) then
    if status >= 200 and status < 300 then
      signup_2xx = signup_2xx + 1
    else
      signup_other = signup_other + 1
    end
  elseif status ~= 200 then
    -- Not a sign-up answer and not a healthy /health: an error answer to a sign-up.
    signup_other = signup_other + 1
  end
  if signup_2xx + signup_other >= share and not finished then
    finished = true
    local marker = assert(io.open(done_dir .. "/thread-" .. tid, "w"))
    marker:close()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local t = { signup_2xx = 0, signup_other = 0, health_sent = 0, sent = 0 }
  for _, thread in ipairs(threads) do
    for k in pairs(t) do t[k] = t[k] + (thread:get(k) or 0) end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"signups_sent":%d,"signups_2xx":%d,' ..
    '"signups_not_2xx":%d,"health_sent":%d,"p50_us":%d,"p99_us":%d,' ..
    '"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d}\n',
    summary.requests, summary.duration, t.sent, t.signup_2xx, t.signup_other, t.health_sent,
    latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
