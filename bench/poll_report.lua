-- poll_report.lua - used by bench/rollout.sh: wrk sends "Authorization: Bearer TOKEN" with the
-- tokens of a file (one a line) in turn, one per request (each wrk thread starts at another
-- place in the list), and "If-None-Match: ETAG" when an ETag is given after the file. The same
-- script and headers go to nginx, so both servers read the same request bytes. Prints one JSON
-- line with the rate and latency percentiles when the run is done.
--   wrk ... -s bench/poll_report.lua URL -- TOKENS_FILE [ETAG]
local tokens = {}
local i = 0
local etag = nil
local n_threads = 0

function setup(thread)
  thread:set("offset", n_threads)
  n_threads = n_threads + 1
end

function init(args)
  for line in io.lines(args[1]) do
    if line ~= "" then tokens[#tokens + 1] = "Bearer " .. line end
  end
  if args[2] and args[2] ~= "" then etag = args[2] end
  i = math.floor(#tokens * (offset or 0) / 7) % #tokens
end

function request()
  i = i % #tokens + 1
  local h = {Authorization = tokens[i]}
  if etag then h["If-None-Match"] = etag end
  return wrk.format("GET", nil, h)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "rps": %.1f, "p50_ms": %.3f, "p90_ms": %.3f,' ..
    ' "p99_ms": %.3f, "max_ms": %.3f, "bytes": %d, "errors_status": %d, "errors_socket": %d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.bytes, e.status, e.connect + e.read + e.write + e.timeout))
end
