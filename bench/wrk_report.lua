-- wrk_report.lua - used by bench/workflow.sh: sends "Authorization: Bearer TOKEN" when a token
-- is given after "--" (the same header goes to the peer, so both see the same request bytes),
-- and prints one JSON line with the rate and latency percentiles when the run is done.
function init(args)
  if args[1] and args[1] ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. args[1]
  end
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
