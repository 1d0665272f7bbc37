#!/usr/bin/env node
// validate.mjs - offline checks of deploy/, run by `make test`.
//
// 1. Every manifest under k8s/ and argocd/ parses and validates against its
//    schema (Kubernetes, Istio, KEDA, Argo Rollouts, Argo CD: the npm
//    @kubernetes-models packages); a kind we have no schema for is an error.
// 2. The base and each overlay are rendered (a small Kustomize: resources,
//    namespace, images, strategic-merge and JSON 6902 patches, which is all
//    our kustomizations use) and checked against our own policy: every
//    Deployment has /healthz and /readyz probes, requests and limits, runs
//    non-root with a read-only root filesystem; every Service has a
//    NetworkPolicy; every event consumer has a KEDA ScaledObject; the Istio
//    AuthorizationPolicies allow exactly the calls the code makes; no Secret
//    is inlined; SHOPSPHERE_KEK comes from a Secret to the services that
//    read it, and to no other.
// 3. The committed manifests equal what generate.mjs makes from src/ today.
// 4. The Grafana dashboards and Prometheus rules name only metrics that the
//    services export (or that the rules record); every dashboard parses and
//    every panel has a query; every alert has a promtool test where it fires
//    and one where it stays quiet.
// 5. docs/operations.md explains every alert of the rules (with its
//    severity) and gives every service's autoscaler and bounds as rendered.
//
//   node deploy/tools/validate.mjs [--root DIR]     exit 1 on any problem
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import { generate } from "./generate.mjs";
import { readTopology } from "./topology.mjs";
import { metricNamesIn } from "./promql.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
if (args.includes("--help")) {
  console.log("usage: node deploy/tools/validate.mjs [--root DIR]\nValidates deploy/ of the checkout at DIR (default: this one); exit 1 on any problem.");
  process.exit(0);
}
const rootIndex = args.indexOf("--root");
const ROOT = rootIndex >= 0 ? resolve(args[rootIndex + 1]) : resolve(HERE, "../..");
const DEPLOY = join(ROOT, "deploy");
const problems = [];
const problem = (where, what) => problems.push(`${where}: ${what}`);

function walk(dir, ext) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return f === "node_modules" ? [] : walk(p, ext);
    return ext.some((e) => f.endsWith(e)) ? [p] : [];
  });
}

function loadDocs(path) {
  const docs = YAML.parseAllDocuments(readFileSync(path, "utf8"));
  const out = [];
  for (const d of docs) {
    if (d.errors.length > 0) {
      problem(relative(ROOT, path), `YAML: ${d.errors[0].message}`);
      continue;
    }
    const v = d.toJSON();
    if (v !== null) out.push(v);
  }
  return out;
}

// --- 1. schemas ---------------------------------------------------------------
const MODEL_PACKAGES = {
  "security.istio.io": "@kubernetes-models/istio",
  "networking.istio.io": "@kubernetes-models/istio",
  "keda.sh": "@kubernetes-models/keda",
};

function modelModule(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  if (group === "") return `kubernetes-models/${version}/${kind}`;
  if (group === "argoproj.io")
    return kind === "Application" || kind === "AppProject"
      ? `@kubernetes-models/argo-cd/argoproj.io/${version}/${kind}`
      : `@kubernetes-models/argo-rollouts/argoproj.io/${version}/${kind}`;
  const pkg = MODEL_PACKAGES[group];
  return pkg ? `${pkg}/${group}/${version}/${kind}` : `kubernetes-models/${group}/${version}/${kind}`;
}

async function validateSchema(doc, where) {
  if (typeof doc.apiVersion !== "string" || typeof doc.kind !== "string") {
    problem(where, "a document without apiVersion and kind");
    return;
  }
  let Model;
  try {
    Model = (await import(modelModule(doc.apiVersion, doc.kind)))[doc.kind];
  } catch {
    problem(where, `no schema for ${doc.apiVersion} ${doc.kind}`);
    return;
  }
  try {
    new Model(doc).validate();
  } catch (e) {
    problem(where, `${doc.kind} ${doc.metadata?.name ?? "?"}: ${String(e.message).split("\n")[0]}`);
  }
}

// --- 2. rendering (the part of Kustomize we use) --------------------------------
function isKustomization(doc) {
  return doc?.kind === "Kustomization";
}

function merge(base, patch) {
  if (Array.isArray(base) && Array.isArray(patch)) {
    // Lists of named things (containers, ports, env) merge by name.
    if (patch.every((p) => p && typeof p === "object" && "name" in p)) {
      const out = base.map((b) => ({ ...b }));
      for (const p of patch) {
        const i = out.findIndex((b) => b?.name === p.name);
        if (i >= 0) out[i] = merge(out[i], p);
        else out.push(p);
      }
      return out;
    }
    return patch;
  }
  if (base && patch && typeof base === "object" && typeof patch === "object") {
    const out = { ...base };
    for (const [k, v] of Object.entries(patch)) out[k] = k in base ? merge(base[k], v) : v;
    return out;
  }
  return patch;
}

function jsonPatch(doc, ops, where) {
  const out = structuredClone(doc);
  for (const op of ops) {
    const parts = op.path.split("/").slice(1).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
    let node = out;
    for (const p of parts.slice(0, -1)) {
      if (node[p] === undefined) {
        problem(where, `patch path ${op.path} not found in ${doc.kind} ${doc.metadata.name}`);
        return out;
      }
      node = node[p];
    }
    const last = parts.at(-1);
    if (op.op === "replace" || op.op === "add") node[last] = op.value;
    else if (op.op === "remove") delete node[last];
    else problem(where, `unsupported patch op ${op.op}`);
  }
  return out;
}

const matches = (doc, target = {}) =>
  (!target.kind || doc.kind === target.kind) && (!target.name || doc.metadata?.name === target.name);

const CLUSTER_SCOPED = new Set(["Namespace"]);

function render(dir) {
  const kpath = join(dir, "kustomization.yaml");
  const where = relative(ROOT, kpath);
  if (!existsSync(kpath)) {
    problem(relative(ROOT, dir), "no kustomization.yaml");
    return [];
  }
  const k = loadDocs(kpath)[0];
  let objects = [];
  for (const r of k.resources ?? []) {
    const p = join(dir, r);
    if (!existsSync(p)) problem(where, `resource ${r} does not exist`);
    else if (statSync(p).isDirectory()) objects.push(...render(p));
    else objects.push(...loadDocs(p));
  }
  for (const patch of k.patches ?? []) {
    if (patch.path) {
      const p = join(dir, patch.path);
      if (!existsSync(p)) {
        problem(where, `patch ${patch.path} does not exist`);
        continue;
      }
      for (const pd of loadDocs(p)) {
        const target = { kind: pd.kind, name: pd.metadata?.name };
        const i = objects.findIndex((o) => matches(o, target));
        if (i < 0) problem(where, `patch ${patch.path} matches nothing`);
        else objects[i] = merge(objects[i], pd);
      }
    } else {
      const ops = YAML.parse(patch.patch);
      const hit = objects.filter((o) => matches(o, patch.target));
      if (hit.length === 0) problem(where, `patch for ${JSON.stringify(patch.target)} matches nothing`);
      objects = objects.map((o) => (matches(o, patch.target) ? jsonPatch(o, ops, where) : o));
    }
  }
  for (const img of k.images ?? []) {
    for (const o of objects) {
      for (const c of o.spec?.template?.spec?.containers ?? []) {
        const [name] = c.image.split(":");
        if (name === img.name || name === img.newName)
          c.image = `${img.newName ?? name}:${img.newTag ?? "latest"}`;
      }
    }
  }
  // As kustomize (3.8 and later) does, a Namespace object takes the name.
  if (k.namespace)
    objects = objects.map((o) =>
      o.kind === "Namespace"
        ? { ...o, metadata: { ...o.metadata, name: k.namespace } }
        : CLUSTER_SCOPED.has(o.kind)
          ? o
          : { ...o, metadata: { ...o.metadata, namespace: k.namespace } },
    );
  return objects;
}

// --- policy -------------------------------------------------------------------
function checkPolicy(objects, overlay, topo) {
  const where = `render ${overlay}`;
  const byKind = (kind) => objects.filter((o) => o.kind === kind);
  const names = new Set();
  for (const o of objects) {
    const key = `${o.kind}/${o.metadata?.namespace ?? ""}/${o.metadata?.name}`;
    if (names.has(key)) problem(where, `${key} defined twice`);
    names.add(key);
    if (o.kind === "Secret" && (o.data || o.stringData)) problem(where, `Secret ${o.metadata.name} is inlined; reference it instead`);
  }
  for (const d of byKind("Deployment")) {
    const spec = d.spec.template.spec;
    const n = `Deployment ${d.metadata.name}`;
    if (spec.securityContext?.runAsNonRoot !== true) problem(where, `${n}: pod must run as non-root`);
    for (const c of spec.containers) {
      if (c.livenessProbe?.httpGet?.path !== "/healthz") problem(where, `${n}: liveness probe on /healthz missing`);
      if (c.readinessProbe?.httpGet?.path !== "/readyz") problem(where, `${n}: readiness probe on /readyz missing`);
      for (const r of ["cpu", "memory"]) {
        if (!c.resources?.requests?.[r]) problem(where, `${n}: no ${r} request`);
        if (!c.resources?.limits?.[r]) problem(where, `${n}: no ${r} limit`);
      }
      if (c.securityContext?.readOnlyRootFilesystem !== true) problem(where, `${n}: root filesystem must be read-only`);
      if (c.securityContext?.allowPrivilegeEscalation !== false) problem(where, `${n}: privilege escalation must be off`);
      if ((c.env ?? []).some((e) => /PASSWORD|SECRET|_URL$/.test(e.name) && "value" in e && /:\/\/[^@]*:[^@]*@|secret/i.test(e.value)))
        problem(where, `${n}: a secret is inlined in env`);
      // The key-encryption key: from a Secret, for its readers only.
      const kek = (c.env ?? []).find((e) => e.name === "SHOPSPHERE_KEK");
      if ((c.env ?? []).some((e) => /KEK/.test(e.name) && "value" in e)) problem(where, `${n}: the KEK is inlined in env`);
      const reader = topo.services.find((s) => s.name === d.metadata.name)?.kek;
      if (reader && !kek?.valueFrom?.secretKeyRef) problem(where, `${n}: SHOPSPHERE_KEK is not referenced from a Secret`);
      if (!reader && kek) problem(where, `${n}: gets SHOPSPHERE_KEK but never reads it`);
    }
    if (!(spec.terminationGracePeriodSeconds >= 15)) problem(where, `${n}: grace period shorter than the drain (15 s)`);
  }
  const policies = byKind("NetworkPolicy");
  for (const s of byKind("Service")) {
    const sel = JSON.stringify(s.spec.selector);
    if (!policies.some((p) => JSON.stringify(p.spec.podSelector.matchLabels) === sel))
      problem(where, `Service ${s.metadata.name} has no NetworkPolicy`);
  }
  for (const s of topo.services) {
    const scaled = objects.find((o) => o.kind === "ScaledObject" && o.metadata.name === s.name);
    const h = objects.find((o) => o.kind === "HorizontalPodAutoscaler" && o.metadata.name === s.name);
    if (s.consumes && !scaled) problem(where, `event consumer ${s.name} has no KEDA ScaledObject`);
    if (!scaled && !h) problem(where, `${s.name} has no autoscaler`);
    if (scaled && h) problem(where, `${s.name} has both an HPA and a ScaledObject`);
    if (scaled && !scaled.spec.triggers.some((t) => t.type === "rabbitmq" && t.metadata.queueName === `shopsphere.${s.name}`))
      problem(where, `ScaledObject ${s.name} does not watch queue shopsphere.${s.name}`);
  }
  // Names bound to a namespace (service hosts, mesh principals, service
  // URLs) name the namespace the object lives in, or the mesh's and the
  // monitoring's own: an overlay in another namespace must patch them all.
  const foreign = new Set(["istio-system", "monitoring"]);
  for (const o of objects) {
    const ns = o.metadata?.namespace;
    if (!ns || o.kind === "Namespace") continue;
    const text = JSON.stringify(o.kind === "ConfigMap" ? o.data : o.spec ?? {});
    const seen = new Set();
    for (const m of text.matchAll(/cluster\.local\/ns\/([a-z0-9-]+)\/sa\/|[a-z0-9-]+\.([a-z0-9-]+)\.svc\.cluster\.local/g)) {
      const other = m[1] ?? m[2];
      if (other !== ns && !foreign.has(other) && !seen.has(other)) {
        seen.add(other);
        problem(where, `${o.kind} ${o.metadata.name} in namespace ${ns} names namespace ${other} (${m[0]})`);
      }
    }
  }
  if (objects.some((o) => o.metadata?.namespace) && !objects.some((o) => o.kind === "Namespace" && objects.some((x) => x.metadata?.namespace === o.metadata.name)))
    problem(where, "no Namespace object for the namespace the objects live in");
  // A workload starts inside its autoscaler's bounds (or the autoscaler
  // undoes the overlay's replica count at once).
  for (const a of objects.filter((o) => o.kind === "HorizontalPodAutoscaler" || o.kind === "ScaledObject")) {
    const ref = a.spec.scaleTargetRef ?? {};
    const kind = ref.kind ?? "Deployment";
    const target = objects.find((o) => o.kind === kind && o.metadata.name === ref.name);
    const [min, max] = a.kind === "ScaledObject" ? [a.spec.minReplicaCount ?? 0, a.spec.maxReplicaCount ?? 100] : [a.spec.minReplicas ?? 1, a.spec.maxReplicas];
    if (!target) problem(where, `${a.kind} ${a.metadata.name} scales ${kind} ${ref.name}, which does not exist`);
    else if (target.spec.replicas !== undefined && (target.spec.replicas < min || target.spec.replicas > max))
      problem(where, `${kind} ${ref.name} has ${target.spec.replicas} replicas, outside its ${a.kind}'s ${min}..${max}`);
  }
  // The mesh allow-list is the code's call graph.
  const present = new Set(byKind("Deployment").map((d) => d.metadata.name));
  const nodes = [...topo.services, ...topo.sandboxes].filter((s) => present.has(s.name));
  for (const s of nodes) {
    const ap = objects.find((o) => o.kind === "AuthorizationPolicy" && o.metadata.name === s.name);
    if (!ap) {
      problem(where, `${s.name} has no AuthorizationPolicy`);
      continue;
    }
    const allowed = new Set();
    for (const rule of ap.spec.rules ?? [])
      for (const f of rule.from ?? [])
        for (const p of f.source?.principals ?? []) {
          const m = /\/sa\/shopsphere-(.+)$/.exec(p);
          if (m) allowed.add(m[1]);
        }
    const expected = new Set(nodes.filter((o) => o.calls.includes(s.name)).map((o) => o.name));
    for (const c of expected) if (!allowed.has(c)) problem(where, `AuthorizationPolicy ${s.name} does not allow its caller ${c}`);
    for (const c of allowed) if (!expected.has(c) && present.has(c)) problem(where, `AuthorizationPolicy ${s.name} allows ${c}, which never calls it`);
  }
  if (!objects.some((o) => o.kind === "PeerAuthentication" && o.spec?.mtls?.mode === "STRICT"))
    problem(where, "no STRICT mTLS PeerAuthentication");
}

// --- 4. metric names --------------------------------------------------------------
function exportedMetrics() {
  const names = new Set(["up"]);
  for (const f of walk(join(ROOT, "src"), [".c"])) {
    for (const m of readFileSync(f, "utf8").matchAll(/metric_family\(\s*"([a-z_:]+)"/g)) {
      names.add(m[1]);
      for (const suffix of ["_bucket", "_sum", "_count"]) names.add(m[1] + suffix);
    }
  }
  return names;
}

function checkMetrics() {
  const known = exportedMetrics();
  const ruleFiles = walk(join(DEPLOY, "observability/prometheus"), [".yml", ".yaml"]).filter((f) => !f.endsWith(".test.yml") && !f.endsWith("prometheus.yml"));
  const exprs = [];
  for (const f of ruleFiles) {
    for (const doc of loadDocs(f)) {
      for (const g of doc.groups ?? []) {
        for (const r of g.rules ?? []) {
          if (r.record) known.add(r.record);
          exprs.push([relative(ROOT, f), r.expr]);
        }
      }
    }
  }
  for (const f of walk(join(DEPLOY, "observability/grafana"), [".json"])) {
    let dash;
    try {
      dash = JSON.parse(readFileSync(f, "utf8"));
    } catch (e) {
      problem(relative(ROOT, f), `not JSON: ${e.message}`);
      continue;
    }
    const panels = dash.panels ?? [];
    if (panels.length === 0) problem(relative(ROOT, f), "a dashboard without panels");
    for (const panel of panels) {
      if (!(panel.targets ?? []).some((t) => typeof t.expr === "string" && t.expr.trim() !== ""))
        problem(relative(ROOT, f), `panel "${panel.title}" has no query`);
      for (const t of panel.targets ?? []) exprs.push([relative(ROOT, f), t.expr]);
    }
  }
  if (exprs.length === 0) problem("deploy/observability", "no rules or dashboards found");
  for (const [where, expr] of exprs)
    for (const name of metricNamesIn(String(expr)))
      if (!known.has(name)) problem(where, `metric ${name} is not exported by any service`);
}

// Every alert has a promtool case where it fires and one where it stays quiet.
function checkRuleTests() {
  const dir = join(DEPLOY, "observability/prometheus");
  const alerts = new Set();
  for (const f of walk(dir, [".yml", ".yaml"]).filter((f) => !f.endsWith(".test.yml") && !f.endsWith("prometheus.yml")))
    for (const doc of loadDocs(f)) for (const g of doc.groups ?? []) for (const r of g.rules ?? []) if (r.alert) alerts.add(r.alert);
  const fires = new Set();
  const quiet = new Set();
  for (const f of walk(dir, [".test.yml"]))
    for (const doc of loadDocs(f))
      for (const t of doc.tests ?? [])
        for (const a of t.alert_rule_test ?? []) ((a.exp_alerts ?? []).length > 0 ? fires : quiet).add(a.alertname);
  for (const a of alerts) {
    if (!fires.has(a)) problem("deploy/observability/prometheus", `no promtool test where alert ${a} fires`);
    if (!quiet.has(a)) problem("deploy/observability/prometheus", `no promtool test where alert ${a} stays quiet`);
  }
}

// --- 5. docs/operations.md agrees with the rules and the manifests ----------------
// Its alert table names every alert of the rule files with its severity, and
// its scaling table gives every service's autoscaler and bounds as rendered.
function tableRows(text, heading) {
  const at = text.indexOf(heading);
  if (at < 0) return null;
  const rows = [];
  let inTable = false;
  for (const line of text.slice(at).split("\n").slice(1)) {
    if (line.startsWith("|")) {
      inTable = true;
      const cells = line.split("|").slice(1, -1).map((c) => c.trim());
      if (!/^-+$/.test(cells[0]) && cells[0] !== "alert" && cells[0] !== "service") rows.push(cells);
    } else if (inTable) break;
  }
  return rows;
}

function checkDocs(topo) {
  const path = join(ROOT, "docs/operations.md");
  const where = "docs/operations.md";
  if (!existsSync(path)) {
    problem(where, "missing");
    return;
  }
  const text = readFileSync(path, "utf8");
  const alerts = new Map();
  for (const f of walk(join(DEPLOY, "observability/prometheus"), [".yml", ".yaml"]).filter((f) => !f.endsWith(".test.yml") && !f.endsWith("prometheus.yml")))
    for (const doc of loadDocs(f))
      for (const g of doc.groups ?? []) for (const r of g.rules ?? []) if (r.alert) alerts.set(r.alert, r.labels?.severity);
  const alertRows = tableRows(text, "<!-- alerts -->");
  if (!alertRows) problem(where, "no alert table (marked <!-- alerts -->)");
  else {
    const documented = new Map(alertRows.map((c) => { const m = /^(\w+) \((\w+)\)$/.exec(c[0]); return m ? [m[1], m[2]] : [c[0], undefined]; }));
    for (const [name, severity] of alerts) {
      if (!documented.has(name)) problem(where, `alert ${name} is not explained in the alert table`);
      else if (documented.get(name) !== severity) problem(where, `alert ${name} is ${severity} in the rules, ${documented.get(name)} in the table`);
    }
    for (const name of documented.keys()) if (!alerts.has(name)) problem(where, `the alert table names ${name}, which no rule file defines`);
  }
  const scaleRows = tableRows(text, "<!-- scaling -->");
  if (!scaleRows) {
    problem(where, "no scaling table (marked <!-- scaling -->)");
    return;
  }
  const objects = render(join(DEPLOY, "k8s", "base"));
  const documented = new Map(scaleRows.map((c) => [c[0].replace(/`/g, ""), c]));
  for (const s of topo.services) {
    const row = documented.get(s.name);
    if (!row) {
      problem(where, `${s.name} has no row in the scaling table`);
      continue;
    }
    const h = objects.find((o) => o.kind === "HorizontalPodAutoscaler" && o.metadata.name === s.name);
    const k = objects.find((o) => o.kind === "ScaledObject" && o.metadata.name === s.name);
    const [kind, min, max] = k ? ["KEDA", k.spec.minReplicaCount, k.spec.maxReplicaCount] : h ? ["HPA", h.spec.minReplicas, h.spec.maxReplicas] : ["none"];
    const says = `${row[1]} ${row[2]}`;
    if (!says.startsWith(`${kind} ${min}–${max}`)) problem(where, `${s.name}: the scaling table says "${says}", the manifests ${kind} ${min}–${max}`);
  }
  for (const name of documented.keys()) if (!topo.services.some((s) => s.name === name)) problem(where, `the scaling table names ${name}, which is no service`);
}

// --- main -------------------------------------------------------------------------
const topo = readTopology(ROOT);
const manifests = [...walk(join(DEPLOY, "k8s"), [".yaml", ".yml"]), ...walk(join(DEPLOY, "argocd"), [".yaml", ".yml"])];
let count = 0;
for (const f of manifests) {
  for (const doc of loadDocs(f)) {
    count++;
    if (!isKustomization(doc)) await validateSchema(doc, relative(ROOT, f));
  }
}
for (const overlay of ["base", "overlays/dev", "overlays/prod"]) {
  const objects = render(join(DEPLOY, "k8s", overlay));
  for (const o of objects) await validateSchema(o, `render ${overlay}`);
  checkPolicy(objects, overlay, topo);
}
const generated = generate(topo);
for (const [rel, text] of Object.entries(generated)) {
  const path = join(DEPLOY, "k8s", rel);
  if (!existsSync(path) || readFileSync(path, "utf8") !== text)
    problem(relative(ROOT, path), "differs from what deploy/tools/generate.mjs makes from src/ (run it and commit)");
}
checkMetrics();
checkRuleTests();
checkDocs(topo);
for (const f of [join(DEPLOY, "compose.yaml"), join(DEPLOY, "observability/loki/promtail.yaml")]) if (existsSync(f)) loadDocs(f);

if (problems.length > 0) {
  for (const p of problems) console.error(`deploy: ${p}`);
  console.error(`deploy: ${problems.length} problem(s) in ${count} documents`);
  process.exit(1);
}
console.log(`deploy: ${count} documents valid; base, dev and prod render and pass the policy checks`);
