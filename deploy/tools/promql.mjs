// promql.mjs - the metric names a PromQL expression reads (no parser: drop
// label matchers, strings and ranges, then every identifier with an
// underscore that is not a PromQL word or one of our label names). Shared by
// validate.mjs (names against the sources) and live-metrics.mjs (names
// against a running platform). No dependencies.
const PROMQL_WORDS = new Set([
  "sum", "rate", "irate", "increase", "histogram_quantile", "by", "without", "on", "ignoring", "group_left",
  "group_right", "and", "or", "unless", "max", "min", "avg", "count", "topk", "bottomk", "abs", "clamp_min",
  "clamp_max", "delta", "deriv", "time", "vector", "scalar", "le", "offset", "bool", "absent", "label_replace",
  "max_over_time", "min_over_time", "avg_over_time", "changes", "resets", "round", "floor", "ceil", "sort", "sort_desc",
]);

export function metricNamesIn(expr) {
  const cleaned = expr.replace(/\{[^}]*\}/g, "{}").replace(/"[^"]*"/g, '""').replace(/\[[^\]]*\]/g, "[]");
  return [...cleaned.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)]
    .map((m) => m[0])
    .filter((w) => !PROMQL_WORDS.has(w) && /_/.test(w) && !/^(service|route|status|method|step|upstream|outcome|job|instance)$/.test(w));
}
