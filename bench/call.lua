-- wrk script of the load benchmark (bench/load.sh): POSTs one JSON-RPC
-- message over and over, and prints machine-readable figures at the end.
--
-- Environment: BENCH_BODY (the JSON-RPC message), BENCH_TOKEN (bearer),
-- BENCH_PROTOCOL (MCP-Protocol-Version, optional), BENCH_SESSION
-- (Mcp-Session-Id, optional), BENCH_MCP_METHOD / BENCH_MCP_NAME (the
-- 2026-07-28 routing headers, optional).
--
-- Each wrk thread runs its own Lua state, so `done()` (run in the main
-- state) sees none of the threads' globals: the threads are kept from
-- `setup()` and their counters read with `thread:get()`.

local function optional_header(name, variable)
  local value = os.getenv(variable)
  if value ~= nil and value ~= "" then
    wrk.headers[name] = value
  end
end

wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
optional_header("Authorization", "BENCH_AUTHORIZATION")
optional_header("MCP-Protocol-Version", "BENCH_PROTOCOL")
optional_header("Mcp-Session-Id", "BENCH_SESSION")
optional_header("Mcp-Method", "BENCH_MCP_METHOD")
optional_header("Mcp-Name", "BENCH_MCP_NAME")

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  non2xx = 0
  first_bad = ""
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first_bad == "" then
      first_bad = status .. " " .. string.sub(body or "", 1, 200)
    end
  end
end

function done(summary, latency, requests)
  local non2xx_total = 0
  local first = ""
  for _, thread in ipairs(threads) do
    non2xx_total = non2xx_total + (thread:get("non2xx") or 0)
    local bad = thread:get("first_bad") or ""
    if first == "" then
      first = bad
    end
  end
  local errors = summary.errors
  io.write(string.format("BENCH requests %d\n", summary.requests))
  io.write(string.format("BENCH duration_us %d\n", summary.duration))
  io.write(string.format("BENCH p50_us %d\n", latency:percentile(50)))
  io.write(string.format("BENCH p99_us %d\n", latency:percentile(99)))
  io.write(string.format("BENCH non2xx %d\n", non2xx_total))
  io.write(string.format("BENCH socket_errors %d\n",
    errors.connect + errors.read + errors.write + errors.timeout))
  if first ~= "" then
    io.write("BENCH first_bad " .. string.gsub(first, "\n", " ") .. "\n")
  end
end
