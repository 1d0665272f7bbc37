#!/usr/bin/env node
// live-metrics.mjs - every metric the Grafana dashboards and the Prometheus
// rules read is declared (a `# TYPE` line) by at least one running service.
// validate.mjs checks the names against the sources offline; this checks
// them against what a running platform really serves (scripts/observe.sh
// --check runs it). No dependencies: the rules are read line by line (every
// `expr:` is one line; a rule without one is reported, not skipped).
//
//   node deploy/tools/live-metrics.mjs [--observability DIR] URL...
//   URL: a service's /metrics; DIR: default deploy/observability
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { metricNamesIn } from "./promql.mjs";

const args = process.argv.slice(2);
const at = args.indexOf("--observability");
const OBS = at >= 0 ? resolve(args.splice(at, 2)[1]) : resolve(dirname(fileURLToPath(import.meta.url)), "../observability");
const urls = args;
if (urls.length === 0 || urls.includes("--help")) {
  console.log("usage: node deploy/tools/live-metrics.mjs [--observability DIR] METRICS_URL...\n" +
    "Checks that every metric the dashboards and rules of DIR (default deploy/observability)\n" +
    "read is exported by one of the URLs.");
  process.exit(urls.length === 0 ? 2 : 0);
}

const problems = [];
const wanted = new Map(); // metric -> where it is read
const recorded = new Set();
const want = (name, where) => wanted.set(name, wanted.get(name) ?? where);

const rulesFile = join(OBS, "prometheus/rules.yml");
const lines = readFileSync(rulesFile, "utf8").split("\n");
let rules = 0;
let exprs = 0;
for (const line of lines) {
  const rule = /^\s*- (record|alert): (\S+)/.exec(line);
  if (rule) {
    rules++;
    if (rule[1] === "record") recorded.add(rule[2]);
  }
  const e = /^\s*expr: (.+)$/.exec(line);
  if (e) {
    exprs++;
    for (const m of metricNamesIn(e[1])) want(m, "prometheus/rules.yml");
  }
}
if (exprs !== rules) problems.push(`rules.yml: ${rules} rules but ${exprs} one-line expr: lines (keep each expr on one line)`);

for (const f of readdirSync(join(OBS, "grafana")).filter((f) => f.endsWith(".json"))) {
  const dash = JSON.parse(readFileSync(join(OBS, "grafana", f), "utf8"));
  for (const p of dash.panels ?? []) for (const t of p.targets ?? []) for (const m of metricNamesIn(String(t.expr))) want(m, `grafana/${f}`);
}

const exported = new Set();
for (const url of urls) {
  let text;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(10000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    text = await res.text();
  } catch (e) {
    problems.push(`${url}: ${e.message}`);
    continue;
  }
  for (const m of text.matchAll(/^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)$/gm)) {
    exported.add(m[1]);
    if (m[2] === "histogram") for (const s of ["_bucket", "_sum", "_count"]) exported.add(m[1] + s);
  }
}

const read = [...wanted.keys()].filter((m) => !recorded.has(m)).sort();
for (const m of read) if (!exported.has(m)) problems.push(`${m} (read by ${wanted.get(m)}) is exported by none of the ${urls.length} services`);
if (problems.length > 0) {
  for (const p of problems) console.error(`live-metrics: ${p}`);
  process.exit(1);
}
console.log(`live-metrics: all ${read.length} metrics the dashboards and rules read are exported by the running services`);
