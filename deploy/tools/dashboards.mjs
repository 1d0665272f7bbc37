#!/usr/bin/env node
// dashboards.mjs - writes the Grafana dashboards of deploy/observability/
// grafana from one compact description. Once written they are ordinary
// dashboard JSON: import them into Grafana, edit there, export back. The
// validator checks that every query names a metric the services export.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const OUT = resolve(dirname(fileURLToPath(import.meta.url)), "../observability/grafana");
if (process.argv.includes("--help")) {
  console.log("usage: node deploy/tools/dashboards.mjs\nWrites the Grafana dashboards under deploy/observability/grafana.");
  process.exit(0);
}

let nextId = 1;
function panel(title, exprs, { unit = "short", x = 0, y = 0, w = 12, h = 8, type = "timeseries" } = {}) {
  return {
    id: nextId++,
    type,
    title,
    datasource: { type: "prometheus", uid: "${datasource}" },
    gridPos: { x, y, w, h },
    fieldConfig: { defaults: { unit }, overrides: [] },
    targets: exprs.map(([expr, legend], i) => ({ refId: String.fromCharCode(65 + i), expr, legendFormat: legend })),
  };
}

function dashboard(uid, title, panels, withService = false) {
  const templating = [
    { name: "datasource", type: "datasource", query: "prometheus", label: "Data source" },
  ];
  if (withService)
    templating.push({
      name: "service",
      type: "query",
      label: "Service",
      datasource: { type: "prometheus", uid: "${datasource}" },
      query: "label_values(http_requests_total, service)",
      refresh: 2,
      includeAll: false,
    });
  return {
    uid,
    title,
    tags: ["shopsphere"],
    timezone: "utc",
    schemaVersion: 39,
    version: 1,
    refresh: "10s",
    time: { from: "now-1h", to: "now" },
    templating: { list: templating },
    panels,
  };
}

const dashboards = {
  "platform-overview.json": dashboard("shopsphere-overview", "ShopSphere: platform overview", [
    panel("Requests per second by service", [["service:http_requests:rate5m", "{{service}}"]], { unit: "reqps" }),
    panel("5xx ratio by service (SLO 0.1 %)", [["service:http_errors:ratio_rate5m", "{{service}}"]], { unit: "percentunit", x: 12 }),
    panel("p95 latency by service (SLO 500 ms)", [["service:http_latency_seconds:p95_5m", "{{service}}"]], { unit: "s", y: 8 }),
    panel("p99 latency by service (SLO 1 s)", [["service:http_latency_seconds:p99_5m", "{{service}}"]], { unit: "s", x: 12, y: 8 }),
    panel("Targets up", [["sum(up)", "up"]], { type: "stat", y: 16, w: 6 }),
    panel("Checkouts by status", [["sum by (status) (rate(order_checkouts_total[5m]))", "{{status}}"]], { unit: "reqps", x: 6, y: 16, w: 18 }),
  ]),
  "service.json": dashboard("shopsphere-service", "ShopSphere: one service", [
    panel("Rate by route and status", [['sum by (route, status) (rate(http_requests_total{service="$service"}[5m]))', "{{route}} {{status}}"]], { unit: "reqps", w: 24 }),
    panel("Errors (5xx) by route", [['sum by (route) (rate(http_requests_total{service="$service",status=~"5.."}[5m]))', "{{route}}"]], { unit: "reqps", y: 8 }),
    panel("Duration p50 / p95 / p99", [
      ['histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket{service="$service"}[5m])))', "p50"],
      ['histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{service="$service"}[5m])))', "p95"],
      ['histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service="$service"}[5m])))', "p99"],
    ], { unit: "s", x: 12, y: 8 }),
    panel("Database pool in use", [["db_pool_connections_in_use", "{{instance}}"], ["db_pool_connections", "size {{instance}}"]], { y: 16 }),
    panel("Upstream calls by outcome", [["sum by (upstream, outcome) (rate(upstream_calls_total[5m]))", "{{upstream}} {{outcome}}"]], { unit: "reqps", x: 12, y: 16 }),
  ], true),
  "checkout.json": dashboard("shopsphere-checkout", "ShopSphere: checkout saga", [
    panel("Checkouts by answer", [["sum by (status) (rate(order_checkouts_total[5m]))", "{{status}}"]], { unit: "reqps" }),
    panel("Step duration p95", [["histogram_quantile(0.95, sum by (step, le) (rate(order_checkout_step_seconds_bucket[5m])))", "{{step}}"]], { unit: "s", x: 12 }),
    panel("Sagas recovered by the sweeper", [["sum by (step) (increase(order_saga_recoveries_total[15m]))", "{{step}}"]], { y: 8 }),
    panel("Payment outcomes", [["sum by (outcome) (rate(payment_outcomes_total[5m]))", "{{outcome}}"]], { unit: "reqps", x: 12, y: 8 }),
  ]),
  "event-bus.json": dashboard("shopsphere-events", "ShopSphere: event bus", [
    panel("Published per second", [["sum by (service) (rate(bus_events_published_total[5m]))", "{{service}}"]], { unit: "reqps" }),
    panel("Consumed per second by outcome", [["sum by (service, outcome) (rate(bus_events_consumed_total[5m]))", "{{service}} {{outcome}}"]], { unit: "reqps", x: 12 }),
    panel("Outbox backlog and oldest age", [["bus_outbox_backlog", "backlog {{service}}"], ["bus_outbox_oldest_age_seconds", "age {{service}}"]], { y: 8 }),
    panel("Consumer queue depth (lag)", [["bus_consumer_queue_depth", "{{service}}"]], { x: 12, y: 8 }),
    panel("Dead letters (15 m)", [["sum by (service) (increase(bus_dead_letters_total[15m]))", "{{service}}"]], { y: 16 }),
    panel("Publish latency p99", [["histogram_quantile(0.99, sum by (le) (rate(bus_publish_latency_seconds_bucket[5m])))", "p99"]], { unit: "s", x: 12, y: 16 }),
  ]),
  "gateway.json": dashboard("shopsphere-gateway", "ShopSphere: gateway edge, cache and tracing", [
    panel("Requests at the edge by upstream and status", [["sum by (upstream, status) (rate(gateway_requests_total[5m]))", "{{upstream}} {{status}}"]], { unit: "reqps" }),
    panel("Edge duration p95 by upstream", [["histogram_quantile(0.95, sum by (upstream, le) (rate(gateway_request_duration_seconds_bucket[5m])))", "{{upstream}}"]], { unit: "s", x: 12 }),
    panel("Response cache hit ratio", [['sum(rate(gateway_cache_total{result="hit"}[5m])) / sum(rate(gateway_cache_total[5m]))', "hit ratio"]], { unit: "percentunit", y: 8, w: 8 }),
    panel("Cache invalidations (catalog events, 15 m)", [["sum(increase(gateway_cache_invalidations_total[15m]))", "invalidations"]], { x: 8, y: 8, w: 8 }),
    panel("Refused with 429 by class", [["sum by (class) (rate(gateway_rate_limited_total[5m]))", "{{class}}"]], { unit: "reqps", x: 16, y: 8, w: 8 }),
    panel("Rate-limit decisions by backend", [["sum by (backend, result) (rate(ratelimit_decisions_total[5m]))", "{{backend}} {{result}}"], ["max(ratelimit_local_active)", "in-process limiter active"]], { y: 16 }),
    panel("Spans exported, failed, dropped", [
      ["sum(rate(trace_spans_exported_total[5m]))", "exported"],
      ["sum(rate(trace_spans_export_failed_total[5m]))", "export failed"],
      ["sum(rate(trace_spans_dropped_total[5m]))", "dropped (queue full)"],
    ], { unit: "reqps", x: 12, y: 16 }),
    panel("Database transactions retried", [["sum by (service) (rate(db_tx_retries_total[5m]))", "{{service}}"]], { unit: "reqps", y: 24, w: 24 }),
  ]),
};

mkdirSync(OUT, { recursive: true });
for (const [file, d] of Object.entries(dashboards)) writeFileSync(join(OUT, file), JSON.stringify(d, null, 2) + "\n");
console.log(`dashboards: ${Object.keys(dashboards).length} written to ${OUT}`);
