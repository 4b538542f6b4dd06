-- wrk script for bench/accounts.sh: the accounts routes, ours and PocketBase's.
--
-- Usage: wrk ... -s bench/accounts.lua URL -- MODE [KEY=VALUE ...]
--   get          the same GET over and over (GET /v1/users/me, PocketBase's view of the user);
--                headers (the token) with wrk -H. expect=TEXT: a 2xx answer whose body lacks
--                TEXT is counted as "unexpected".
--   refresh-ours POST /v1/auth/refresh {"refresh_token": ...}   state=FILE threads=T
--   refresh-pb   POST (PocketBase's auth-refresh) with Authorization: <token>   state=FILE threads=T
--                Chains: FILE holds one token per line. Every request takes a token out of the
--                thread's pool and every 200 answer puts the token it carries back (ours
--                rotates: the new refresh token; PocketBase: the new token), so a token is
--                presented once and only once, never replayed, and the pool never runs dry while
--                it holds at least as many tokens as connections. done() writes the pool back
--                to FILE (the tokens of requests still in flight when wrk stops are dropped:
--                their successors were never read), for the next run to go on with.
--                An answer that is not a 200 with a token breaks its chain ("chain_lost"); a
--                request with an empty pool ("starved") sends a token that cannot be valid.
--   login-ours   POST /v1/auth/login {"email","password"} (x-app-id: bench)   users=FILE
--   login-pb     POST (auth-with-password) {"identity","password"}            users=FILE
--                FILE: "email password" per line, used in turn.
--   signup       POST /v1/users (x-app-id: bench) with a new e-mail each time   tag=WORD
-- Every mode: done() prints one line "BENCH_JSON {...}" with the latency percentiles
-- (microseconds, over all responses whatever their status) and the status counts, as
-- bench/signups.lua does.
-- Low-rate probes: with the environment variable BENCH_DELAY_MS set (> 0), each connection
-- waits that long between an answer and its next request (wrk's delay(); the latency is still
-- timed from the request's sending).

local threads = {}
local next_tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

local DELAY_MS = tonumber(os.getenv("BENCH_DELAY_MS") or "") or 0
if DELAY_MS > 0 then
  function delay()
    return DELAY_MS
  end
end

-- Read by done() through thread:get, so plain globals.
c2xx, c3xx, c4xx, c5xx, cother, unexpected = 0, 0, 0, 0, 0, 0
chain_lost, starved, sent = 0, 0, 0
pool, head, tail = {}, 1, 0 -- the chain pool: pool[head..tail]
local mode, expect, state_file
local users, nusers, next_user = {}, 0, 0
local tag, counter = "run", 0

local function opts(args)
  local o = {}
  for i = 2, #args do
    local k, v = string.match(args[i], "^([%w_]+)=(.*)$")
    if k then o[k] = v else error("accounts.lua: not KEY=VALUE: " .. args[i]) end
  end
  return o
end

local function lines(path)
  local out = {}
  local f = assert(io.open(path, "r"), "accounts.lua: cannot read " .. path)
  for line in f:lines() do
    if line ~= "" then table.insert(out, line) end
  end
  f:close()
  return out
end

function init(args)
  mode = args[1] or error("accounts.lua: MODE is required")
  local o = opts(args)
  local me = tid or 0
  if mode == "get" then
    expect = o.expect
  elseif mode == "refresh-ours" or mode == "refresh-pb" then
    state_file = o.state or error("accounts.lua: state=FILE is required")
    state_path = state_file -- a global, for done() (in the main Lua state) to find
    local nthreads = tonumber(o.threads or "1")
    for i, token in ipairs(lines(state_file)) do
      if (i - 1) % nthreads == me then
        tail = tail + 1
        pool[tail] = token
      end
    end
    wrk.method = "POST"
    if mode == "refresh-ours" then wrk.headers["content-type"] = "application/json" end
  elseif mode == "login-ours" or mode == "login-pb" then
    for _, line in ipairs(lines(o.users or error("accounts.lua: users=FILE is required"))) do
      local email, password = string.match(line, "^(%S+)%s+(%S+)$")
      table.insert(users, { email, password })
    end
    nusers = #users
    next_user = me % math.max(nusers, 1)
    wrk.method = "POST"
    wrk.headers["content-type"] = "application/json"
    if mode == "login-ours" then wrk.headers["x-app-id"] = "bench" end
  elseif mode == "signup" then
    tag = (o.tag or "run") .. ".t" .. me
    wrk.method = "POST"
    wrk.headers["content-type"] = "application/json"
    wrk.headers["x-app-id"] = "bench"
  else
    error("accounts.lua: unknown mode " .. mode)
  end
end

function request()
  sent = sent + 1
  if mode == "refresh-ours" or mode == "refresh-pb" then
    local token = "none.none.none"
    if head <= tail then
      token = pool[head]
      pool[head] = nil
      head = head + 1
    else
      starved = starved + 1
    end
    if mode == "refresh-ours" then
      return wrk.format(nil, nil, nil, '{"refresh_token":"' .. token .. '"}')
    end
    -- (wrk.format's headers argument would replace wrk.headers, the -H ones included)
    wrk.headers["Authorization"] = token
    return wrk.format()
  elseif mode == "login-ours" or mode == "login-pb" then
    next_user = next_user % nusers + 1
    local u = users[next_user]
    if mode == "login-ours" then
      return wrk.format(nil, nil, nil,
        string.format('{"email":"%s","password":"%s"}', u[1], u[2]))
    end
    return wrk.format(nil, nil, nil,
      string.format('{"identity":"%s","password":"%s"}', u[1], u[2]))
  elseif mode == "signup" then
    counter = counter + 1
    return wrk.format(nil, nil, nil, string.format(
      '{"email":"p%d.%s@example.com","data":{"fullName":"Probe Person","plan":"pro","age":%d,"consentRequired":true}}',
      counter, tag, 18 + counter % 60))
  end
  -- get, and wrk's check of the script in its main Lua state (where init never runs).
  return wrk.format()
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    c2xx = c2xx + 1
    if expect and (body == nil or not string.find(body, expect, 1, true)) then
      unexpected = unexpected + 1
    end
  elseif status >= 300 and status < 400 then
    c3xx = c3xx + 1
  elseif status >= 400 and status < 500 then
    c4xx = c4xx + 1
  elseif status >= 500 then
    c5xx = c5xx + 1
  else
    cother = cother + 1
  end
  if mode == "refresh-ours" or mode == "refresh-pb" then
    local token
    if status == 200 and body then
      local key = (mode == "refresh-ours") and '"refresh_token":"([^"]+)"' or '"token":"([^"]+)"'
      token = string.match(body, key)
    end
    if token then
      tail = tail + 1
      pool[tail] = token
    else
      chain_lost = chain_lost + 1
    end
  end
end

function done(summary, latency, requests)
  local keys = { "c2xx", "c3xx", "c4xx", "c5xx", "cother", "unexpected", "chain_lost", "starved",
    "sent" }
  local totals = {}
  for _, k in ipairs(keys) do totals[k] = 0 end
  local left, out = 0, nil
  for _, t in ipairs(threads) do
    for _, k in ipairs(keys) do totals[k] = totals[k] + (t:get(k) or 0) end
    local p, h, tl = t:get("pool"), t:get("head"), t:get("tail")
    if p and h and tl and h <= tl then
      out = out or {}
      for i = h, tl do
        table.insert(out, p[i])
        left = left + 1
      end
    end
  end
  -- The state file: the main Lua state never ran init; every thread has the same one.
  local path
  for _, t in ipairs(threads) do path = path or t:get("state_path") end
  if path then
    local f = assert(io.open(path, "w"))
    for _, token in ipairs(out or {}) do f:write(token, "\n") end
    f:close()
  end
  local e = summary.errors
  local parts = {
    string.format('"requests":%d', summary.requests),
    string.format('"duration_us":%d', summary.duration),
    string.format('"bytes":%d', summary.bytes),
    string.format('"p50_us":%d', latency:percentile(50)),
    string.format('"p90_us":%d', latency:percentile(90)),
    string.format('"p99_us":%d', latency:percentile(99)),
    string.format('"p999_us":%d', latency:percentile(99.9)),
    string.format('"max_us":%d', latency.max),
    string.format('"mean_us":%.1f', latency.mean),
    string.format('"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d',
      e.connect, e.read, e.write, e.status, e.timeout),
    string.format('"pool_left":%d', left),
  }
  for _, k in ipairs(keys) do
    table.insert(parts, string.format('"%s":%d', k, totals[k]))
  end
  io.write("BENCH_JSON {" .. table.concat(parts, ",") .. "}\n")
end
