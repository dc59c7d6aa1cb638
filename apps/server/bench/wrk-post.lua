-- wrk script of `pnpm bench`: every request POSTs the same body (the file named by BENCH_BODY,
-- of BENCH_CONTENT_TYPE, frames by default) with the bench token, and the run ends with one JSON
-- line on stdout: the 200s (acknowledged requests) and the other answers counted, and wrk's own
-- latency percentiles.
local file = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.path = os.getenv("BENCH_PATH") or "/"
wrk.body = file:read("*a")
file:close()
wrk.headers["content-type"] = os.getenv("BENCH_CONTENT_TYPE") or "application/octet-stream"
wrk.headers["x-kafka-proxy-token"] = os.getenv("BENCH_TOKEN")

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init()
  acked = 0
  refused = 0
end

function response(status)
  if status == 200 then
    acked = acked + 1
  else
    refused = refused + 1
  end
end

function done(summary, latency)
  local ok, bad = 0, 0
  for _, thread in ipairs(threads) do
    ok = ok + thread:get("acked")
    bad = bad + thread:get("refused")
  end
  local e = summary.errors
  io.write(string.format(
    '{"acked":%d,"refused":%d,"socketErrors":%d,"seconds":%.3f,"p50Ms":%.3f,"p99Ms":%.3f}\n',
    ok, bad, e.connect + e.read + e.write + e.timeout, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
