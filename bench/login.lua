-- login.lua — wrk script for scripts/bench.sh: POST /v1/auth/login with the right password.
--
-- Reads the user name and password from the environment (FG_BENCH_USERNAME, default "admin";
-- FG_BENCH_PASSWORD, required) so no secret is on a command line. Every request carries a
-- device_id no other request used ("bench-<thread>-<n>"), as distinct clients would.
-- Each thread counts answers by status; done() sums them over the threads and prints one
-- line "LOGIN ok=<200s> limited=<429s> other=<other statuses> errors=<socket errors>
-- duration_us=<run time>" for the script to turn into rates.
-- Defining response() makes wrk parse every answer in Lua: a little slower, fine at the
-- ~100 logins/s Argon2id allows.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
end

local prefix, suffix, headers
local n = 0
ok, limited, other = 0, 0, 0

function init(args)
  local password = os.getenv("FG_BENCH_PASSWORD")
  if password == nil or password == "" then
    error("login.lua: FG_BENCH_PASSWORD is not set")
  end
  local username = os.getenv("FG_BENCH_USERNAME") or "admin"
  prefix = '{"username":' .. json_string(username) .. ',"password":' .. json_string(password) ..
           ',"device_id":"bench-' .. tostring(id) .. '-'
  suffix = '"}'
  headers = { ["Content-Type"] = "application/json" }
end

function request()
  n = n + 1
  return wrk.format("POST", nil, headers, prefix .. n .. suffix)
end

function response(status, hdrs, body)
  if status == 200 then
    ok = ok + 1
  elseif status == 429 then
    limited = limited + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local t_ok, t_limited, t_other = 0, 0, 0
  for _, thread in ipairs(threads) do
    t_ok = t_ok + thread:get("ok")
    t_limited = t_limited + thread:get("limited")
    t_other = t_other + thread:get("other")
  end
  local e = summary.errors
  io.write(string.format("LOGIN ok=%d limited=%d other=%d errors=%d duration_us=%d\n",
                         t_ok, t_limited, t_other, e.connect + e.read + e.write + e.timeout,
                         summary.duration))
end
