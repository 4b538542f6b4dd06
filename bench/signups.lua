-- wrk script for bench/run.sh: sign-up submissions, 80% new e-mails, 20% repeats.
--
-- Usage: wrk ... -s bench/signups.lua URL -- MODE RUNTAG
--   MODE   ours : POST {"email": ..., "data": {...}} with x-app-id: bench (our /v1/users)
--          pb   : POST the fields flat (PocketBase /api/collections/signups/records)
--          echo : the same body as "ours" (the bare actix-web /echo ceiling)
--   RUNTAG a word put in every e-mail so that a warm-up and the measured run never share one.
--
-- Each wrk thread has its own Lua state: a per-thread counter makes new e-mails unique; a repeat
-- re-sends one of that thread's last RING new e-mails. done() prints one line
-- "BENCH_JSON {...}" with the latency percentiles (microseconds, over all responses whatever
-- their status) and the status counts. new_sent/repeat_sent count requests written, including
-- the few still in flight when wrk stops (at most one per connection).

local RING = 100
local REPEAT_SHARE = 0.20

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local mode, runtag
local counter, recent, recent_len, recent_pos = 0, {}, 0, 0
-- Status counts; read by done() through thread:get, so plain global numbers.
c2xx, c3xx, c4xx, c5xx, cother = 0, 0, 0, 0, 0
new_sent, repeat_sent = 0, 0

local names = { "Ada Lovelace", "Grace Hopper", "Alan Turing", "Émilie du Châtelet", "Ken Thompson" }

function init(args)
  mode = args[1] or "ours"
  runtag = args[2] or "run"
  math.randomseed(os.time() + (tid or 0) * 7919)
  if mode == "ours" then
    wrk.headers["x-app-id"] = "bench"
  end
  wrk.method = "POST"
  wrk.headers["content-type"] = "application/json"
end

local function pick_email()
  if recent_len > 0 and math.random() < REPEAT_SHARE then
    return recent[math.random(recent_len)], true
  end
  counter = counter + 1
  local email = string.format("u%d.%s.t%d@example.com", counter, runtag, tid or 0)
  recent_pos = recent_pos % RING + 1
  recent[recent_pos] = email
  if recent_len < RING then recent_len = recent_len + 1 end
  return email, false
end

function request()
  local email, is_repeat = pick_email()
  if is_repeat then repeat_sent = repeat_sent + 1 else new_sent = new_sent + 1 end
  local name = names[(counter % #names) + 1]
  local age = 18 + (counter % 60)
  local plan = (counter % 3 == 0) and "free" or "pro"
  local body
  if mode == "pb" then
    body = string.format(
      '{"email":"%s","fullName":"%s","plan":"%s","age":%d,"consentRequired":true}',
      email, name, plan, age)
  else
    body = string.format(
      '{"email":"%s","data":{"fullName":"%s","plan":"%s","age":%d,"consentRequired":true}}',
      email, name, plan, age)
  end
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    c2xx = c2xx + 1
  elseif status < 400 and status >= 300 then
    c3xx = c3xx + 1
  elseif status >= 400 and status < 500 then
    c4xx = c4xx + 1
  elseif status >= 500 then
    c5xx = c5xx + 1
  else
    cother = cother + 1
  end
end

function done(summary, latency, requests)
  local keys = { "c2xx", "c3xx", "c4xx", "c5xx", "cother", "new_sent", "repeat_sent" }
  local totals = {}
  for _, k in ipairs(keys) do totals[k] = 0 end
  for _, t in ipairs(threads) do
    for _, k in ipairs(keys) do totals[k] = totals[k] + (t:get(k) or 0) end
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
  }
  for _, k in ipairs(keys) do
    table.insert(parts, string.format('"%s":%d', k, totals[k]))
  end
  io.write("BENCH_JSON {" .. table.concat(parts, ",") .. "}\n")
end
