-- wrk script for bench/organizations.sh: the same GET over and over (a page of an
-- organization's members), the API key given with wrk -H.
--
-- Usage: wrk ... -s bench/organizations.lua URL -- EXPECT
--   EXPECT  a text every good answer's body holds (e.g. '"users":[{"id":'); a 200 answer
--           without it is counted as "unexpected" (an empty page would be a bad measurement,
--           not a fast one).
--
-- done() prints one line "BENCH_JSON {...}" with the latency percentiles (microseconds, over
-- all responses whatever their status) and the status counts: c200 (exactly 200, what every
-- answer must be), other 2xx, 3xx, 4xx, 5xx.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local expect
-- Read by done() through thread:get, so plain global numbers.
c200, c2xx, c3xx, c4xx, c5xx, cother, unexpected = 0, 0, 0, 0, 0, 0, 0

function init(args)
  expect = args[1]
end

function response(status, headers, body)
  if status == 200 then
    c200 = c200 + 1
    c2xx = c2xx + 1
    if expect and (body == nil or not string.find(body, expect, 1, true)) then
      unexpected = unexpected + 1
    end
  elseif status >= 200 and status < 300 then
    c2xx = c2xx + 1
  elseif status >= 300 and status < 400 then
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
  local keys = { "c200", "c2xx", "c3xx", "c4xx", "c5xx", "cother", "unexpected" }
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
