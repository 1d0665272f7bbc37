// validate.test.mjs - the deploy checks catch what they claim to catch: a
// broken copy of deploy/ must fail, the committed one must pass.
//   node --test deploy/tools/
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "../..");

// A copy of the checkout's src/ and deploy/ (without node_modules), changed
// by edit(root), then validated.
function validateCopy(edit) {
  const root = mkdtempSync(join(tmpdir(), "shopsphere-deploy-"));
  try {
    cpSync(join(ROOT, "src"), join(root, "src"), { recursive: true });
    cpSync(join(ROOT, "deploy"), join(root, "deploy"), {
      recursive: true,
      filter: (p) => !p.includes("node_modules"),
    });
    edit(root);
    return spawnSync(process.execPath, [join(HERE, "validate.mjs"), "--root", root], { encoding: "utf8" });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function replaceIn(root, rel, from, to) {
  const path = join(root, rel);
  const text = readFileSync(path, "utf8");
  assert.ok(text.includes(from), `${rel} has no '${from}'`);
  writeFileSync(path, text.replace(from, to));
}

// One copy with five breakages, one validator run: each check must name
// its own (validating loads every schema, which is the slow part).
test("each check catches its breakage in a broken copy of deploy/", () => {
  const r = validateCopy((root) => {
    replaceIn(root, "deploy/k8s/base/cart.yaml", "containerPort: 8083", "containerPort: eighty");
    replaceIn(root, "deploy/k8s/base/search.yaml", "path: /readyz", "path: /healthz");
    // The cart service starts calling the review service: the committed
    // AuthorizationPolicy of review no longer matches the code.
    writeFileSync(join(root, "src/services/cart/extra_call.c"), "int cart_extra(void) { return SVC_REVIEW; }\n");
    replaceIn(root, "deploy/observability/grafana/event-bus.json", "bus_outbox_backlog", "bus_outbox_backlog_typo");
    // The auth service's KEK written into its manifest.
    replaceIn(root, "deploy/k8s/base/auth.yaml", "- name: SHOPSPHERE_KEK\n", "- name: SHOPSPHERE_KEK\n              value: 00ff\n");
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /cart\.yaml: Deployment cart: .*containerPort must be integer/);
  assert.match(r.stderr, /Deployment search: readiness probe on \/readyz missing/);
  assert.match(r.stderr, /AuthorizationPolicy review does not allow its caller cart/);
  assert.match(r.stderr, /metric bus_outbox_backlog_typo is not exported/);
  assert.match(r.stderr, /Deployment auth: the KEK is inlined in env/);
  assert.match(r.stderr, /differs from what deploy\/tools\/generate\.mjs makes/);
});

test("promtool catches a broken rule and a wrong expectation", () => {
  const dir = mkdtempSync(join(tmpdir(), "shopsphere-rules-"));
  try {
    const rules = readFileSync(join(ROOT, "deploy/observability/prometheus/rules.yml"), "utf8");
    writeFileSync(join(dir, "rules.yml"), rules.replace("> 0.5", "> > 0.5"));
    assert.notEqual(spawnSync("promtool", ["check", "rules", join(dir, "rules.yml")]).status, 0);
    writeFileSync(join(dir, "rules.yml"), rules);
    const tests = readFileSync(join(ROOT, "deploy/observability/prometheus/rules.test.yml"), "utf8");
    writeFileSync(join(dir, "rules.test.yml"), tests.replace("p99 is 2.485s", "p99 is 0.1s"));
    assert.notEqual(spawnSync("promtool", ["test", "rules", join(dir, "rules.test.yml")]).status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
