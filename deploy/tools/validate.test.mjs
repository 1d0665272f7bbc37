// validate.test.mjs - the deploy checks catch what they claim to catch: a
// broken copy of deploy/ must fail, the committed one must pass.
//   node --test deploy/tools/
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "../..");

// A copy of the checkout's src/, deploy/ (without node_modules) and
// docs/operations.md, changed by edit(root), then validated. Resolves
// {status, stderr}; the copies validate side by side (loading every schema
// is the slow part).
function validateCopy(edit) {
  const root = mkdtempSync(join(tmpdir(), "shopsphere-deploy-"));
  cpSync(join(ROOT, "src"), join(root, "src"), { recursive: true });
  cpSync(join(ROOT, "deploy"), join(root, "deploy"), {
    recursive: true,
    filter: (p) => !p.includes("node_modules"),
  });
  mkdirSync(join(root, "docs"));
  cpSync(join(ROOT, "docs/operations.md"), join(root, "docs/operations.md"));
  edit(root);
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(HERE, "validate.mjs"), "--root", root]);
    let stderr = "";
    child.stderr.on("data", (c) => (stderr += c));
    child.stdout.resume();
    child.on("close", (status) => {
      rmSync(root, { recursive: true, force: true });
      done({ status, stderr });
    });
  });
}

function replaceIn(root, rel, from, to) {
  const path = join(root, rel);
  const text = readFileSync(path, "utf8");
  assert.ok(text.includes(from), `${rel} has no '${from}'`);
  writeFileSync(path, text.replace(from, to));
}

// One copy with the manifests broken in every way the validator knows, one
// with the observability files and their documentation broken; each check
// must name its own breakage.
const manifests = validateCopy((root) => {
  replaceIn(root, "deploy/k8s/base/cart.yaml", "containerPort: 8083", "containerPort: eighty");
  replaceIn(root, "deploy/k8s/base/search.yaml", "path: /readyz", "path: /healthz");
  // The cart service starts calling the review service: the committed
  // AuthorizationPolicy of review no longer matches the code.
  writeFileSync(join(root, "src/services/cart/extra_call.c"), "int cart_extra(void) { return SVC_REVIEW; }\n");
  // Each schema family: Istio, KEDA, Argo Rollouts, Argo CD.
  replaceIn(root, "deploy/k8s/base/order.yaml", "      timeout: 5s", "      timeout: 5");
  replaceIn(root, "deploy/k8s/base/order.yaml", "  minReplicaCount: 2", "  minReplicaCount: two");
  replaceIn(root, "deploy/k8s/overlays/prod/rollouts.yaml", "  replicas: 3", "  replicas: three");
  replaceIn(root, "deploy/argocd/applications.yaml", "      prune: true", '      prune: "yes"');
  // dev lowers the floor of the wrong bound: its one replica is below 2.
  replaceIn(root, "deploy/k8s/overlays/dev/kustomization.yaml", "path: /spec/minReplicas", "path: /spec/maxReplicas");
  // A password in the repository, a dangling resource, YAML that does not parse.
  appendFileSync(join(root, "deploy/k8s/base/config.yaml"),
    "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: leaked\nstringData:\n  SHOPSPHERE_ADMIN_PASSWORD: hunter2\n");
  replaceIn(root, "deploy/k8s/overlays/prod/kustomization.yaml", "  - rollouts.yaml", "  - rollout.yaml");
  appendFileSync(join(root, "deploy/k8s/base/namespace.yaml"), "  labels: [unclosed\n");
  // dev (namespace shopsphere-dev) points a service URL at the prod namespace.
  replaceIn(root, "deploy/k8s/overlays/dev/kustomization.yaml",
    "value: http://gateway.shopsphere-dev.svc.cluster.local:8080", "value: http://gateway.shopsphere.svc.cluster.local:8080");
  // The auth service's KEK written into its manifest.
  replaceIn(root, "deploy/k8s/base/auth.yaml", "- name: SHOPSPHERE_KEK\n", "- name: SHOPSPHERE_KEK\n              value: 00ff\n");
});

const observability = validateCopy((root) => {
  replaceIn(root, "deploy/observability/grafana/event-bus.json", "bus_outbox_backlog", "bus_outbox_backlog_typo");
  replaceIn(root, "deploy/observability/prometheus/rules.yml", "bus_consumer_queue_depth > 1000", "bus_consumer_queue_dept > 1000");
  replaceIn(root, "deploy/observability/grafana/platform-overview.json", '"expr": "sum(up)"', '"expr": ""');
  const checkout = join(root, "deploy/observability/grafana/checkout.json");
  writeFileSync(checkout, readFileSync(checkout, "utf8").slice(0, 200));
  // UpstreamBreakerOpen loses its firing case.
  replaceIn(root, "deploy/observability/prometheus/rules.test.yml",
    "      - eval_time: 8m\n        alertname: UpstreamBreakerOpen", "      - eval_time: 8m\n        alertname: ServiceDown");
  appendFileSync(join(root, "deploy/observability/loki/promtail.yaml"), "scrape_configs: [unclosed\n");
  // The operator's guide drifts from the rules and the manifests.
  replaceIn(root, "docs/operations.md", "| OutboxStuck (page) |", "| OutboxStalled (page) |");
  replaceIn(root, "docs/operations.md", "| ServiceDown (page) |", "| ServiceDown (ticket) |");
  replaceIn(root, "docs/operations.md", "| cart | KEDA | 2–10 |", "| cart | HPA | 2–10 |");
});

test("each manifest check catches its breakage in a broken copy of deploy/", async () => {
  const r = await manifests;
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /cart\.yaml: Deployment cart: .*containerPort must be integer/);
  assert.match(r.stderr, /Deployment search: readiness probe on \/readyz missing/);
  assert.match(r.stderr, /AuthorizationPolicy review does not allow its caller cart/);
  assert.match(r.stderr, /Deployment auth: the KEK is inlined in env/);
  assert.match(r.stderr, /differs from what deploy\/tools\/generate\.mjs makes/);
  assert.match(r.stderr, /order\.yaml: VirtualService order: .*timeout must be string/);
  assert.match(r.stderr, /order\.yaml: ScaledObject order: .*minReplicaCount must be integer/);
  assert.match(r.stderr, /rollouts\.yaml: Rollout gateway: .*replicas must be integer/);
  assert.match(r.stderr, /applications\.yaml: Application shopsphere-dev: .*prune must be boolean/);
  assert.match(r.stderr, /render overlays\/dev: Deployment user has 1 replicas, outside its HorizontalPodAutoscaler's 2\.\.1/);
  assert.match(r.stderr, /Secret leaked is inlined; reference it instead/);
  assert.match(r.stderr, /overlays\/prod\/kustomization\.yaml: resource rollout\.yaml does not exist/);
  assert.match(r.stderr, /namespace\.yaml: YAML: /);
  assert.match(r.stderr, /render overlays\/dev: ConfigMap shopsphere-config in namespace shopsphere-dev names namespace shopsphere \(gateway\.shopsphere\.svc/);
});

test("each rule, dashboard and documentation check catches its breakage", async () => {
  const r = await observability;
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /event-bus\.json: metric bus_outbox_backlog_typo is not exported/);
  assert.match(r.stderr, /rules\.yml: metric bus_consumer_queue_dept is not exported/);
  assert.match(r.stderr, /platform-overview\.json: panel "Targets up" has no query/);
  assert.match(r.stderr, /checkout\.json: not JSON/);
  assert.match(r.stderr, /promtail\.yaml: YAML: /);
  assert.match(r.stderr, /no promtool test where alert UpstreamBreakerOpen fires/);
  assert.match(r.stderr, /docs\/operations\.md: alert OutboxStuck is not explained in the alert table/);
  assert.match(r.stderr, /docs\/operations\.md: the alert table names OutboxStalled, which no rule file defines/);
  assert.match(r.stderr, /docs\/operations\.md: alert ServiceDown is page in the rules, ticket in the table/);
  assert.match(r.stderr, /docs\/operations\.md: cart: the scaling table says "HPA 2–10", the manifests KEDA 2–10/);
  // Nothing else: the manifests of this copy are intact.
  assert.doesNotMatch(r.stderr, /render (base|overlays)/);
});

test("promtool catches a broken rule, a wrong expectation, a moved threshold and a broken configuration", () => {
  const dir = mkdtempSync(join(tmpdir(), "shopsphere-rules-"));
  try {
    const rules = readFileSync(join(ROOT, "deploy/observability/prometheus/rules.yml"), "utf8");
    writeFileSync(join(dir, "rules.yml"), rules.replace("> 0.5", "> > 0.5"));
    assert.notEqual(spawnSync("promtool", ["check", "rules", join(dir, "rules.yml")]).status, 0);
    writeFileSync(join(dir, "rules.yml"), rules);
    const tests = readFileSync(join(ROOT, "deploy/observability/prometheus/rules.test.yml"), "utf8");
    writeFileSync(join(dir, "rules.test.yml"), tests.replace("p99 is 2.485s", "p99 is 0.1s"));
    assert.notEqual(spawnSync("promtool", ["test", "rules", join(dir, "rules.test.yml")]).status, 0);
    // A threshold moved: the alert no longer fires where its test says.
    writeFileSync(join(dir, "rules.yml"), rules.replace("bus_consumer_queue_depth > 1000", "bus_consumer_queue_depth > 5000"));
    writeFileSync(join(dir, "rules.test.yml"), tests);
    assert.notEqual(spawnSync("promtool", ["test", "rules", join(dir, "rules.test.yml")]).status, 0);
    // The Prometheus configuration of make observe.
    const config = readFileSync(join(ROOT, "deploy/observability/prometheus/prometheus.yml"), "utf8");
    writeFileSync(join(dir, "prometheus.yml"), config);
    writeFileSync(join(dir, "rules.yml"), rules);
    assert.equal(spawnSync("promtool", ["check", "config", join(dir, "prometheus.yml")]).status, 0);
    writeFileSync(join(dir, "prometheus.yml"), config.replace("scrape_interval: 5s", "scrape_interval: fast"));
    assert.notEqual(spawnSync("promtool", ["check", "config", join(dir, "prometheus.yml")]).status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
