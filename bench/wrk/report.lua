-- Appended to every wrk script that scripts/bench.sh runs: after the run,
-- print one machine-readable line (latencies in milliseconds).
-- A request script of a workload defines request()/response() as it likes,
-- but must not define done() itself.
function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT requests=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p90_ms=%.3f "
      .. "p99_ms=%.3f max_ms=%.3f errors_connect=%d errors_read=%d "
      .. "errors_write=%d errors_status=%d errors_timeout=%d\n",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    e.connect, e.read, e.write, e.status, e.timeout))
end
