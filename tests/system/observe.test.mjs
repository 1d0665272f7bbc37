// observe.test.mjs - `make observe` against the platform under test
// (docs/operations.md): Debian's Prometheus, started by scripts/observe.sh
// --check on a free port, scrapes every service, loads the SLO rules and
// evaluates them on the real metrics; every metric the Grafana dashboards
// and the rules read is one the running services export. A dashboard that
// reads a metric nobody exports is caught.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, SERVICES, serviceUrl, shopsphereBinary } from './lib.mjs';

const SERVICE_NAMES = Object.keys(SERVICES).filter((s) => !s.startsWith('sandbox-'));
const RULES = readFileSync(join(ROOT, 'deploy/observability/prometheus/rules.yml'), 'utf8');
const RULE_NAMES = [...RULES.matchAll(/^\s*- (?:alert|record): (\S+)/gm)].map((m) => m[1]);

function run(file, args, env, timeout) {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: ROOT, env: { ...process.env, ...env }, timeout, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr }));
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

test('make observe: every service target up, every SLO rule loaded and evaluated, the dashboards\' metrics exported',
  { timeout: 330000 }, async () => {
    const port = await freePort();
    const r = await run(join(ROOT, 'scripts/observe.sh'), ['--check', '--profile', process.env.SHOPSPHERE_PROFILE ?? 'test'], {
      SHOPSPHERE_BIN: shopsphereBinary(), SHOPSPHERE_PROMETHEUS_PORT: String(port), OBSERVE_TIMEOUT: '240',
    }, 300000);
    const out = `${r.stdout}\n${r.stderr}`;
    assert.equal(r.code, 0, out);
    const n = SERVICE_NAMES.length;
    assert.match(r.stdout, new RegExp(`${n} of ${n} targets up;`), out);
    assert.match(r.stdout, new RegExp(`${RULE_NAMES.length} of ${RULE_NAMES.length} rules loaded`), out);
    assert.match(r.stdout, new RegExp(`service:http_requests:rate5m has ${n} services`), out);
    assert.match(r.stdout, /live-metrics: all \d+ metrics the dashboards and rules read are exported/, out);
    // Each service by name, at its own port, and each rule healthy.
    for (const s of SERVICE_NAMES)
      assert.match(r.stdout, new RegExp(`target ${s} +${serviceUrl(s)}/metrics +up`), `${s}: ${out}`);
    for (const name of RULE_NAMES)
      assert.match(r.stdout, new RegExp(` ${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} +ok`), `${name}: ${out}`);
    assert.match(r.stdout, /observe: check passed/);
  });

test('a dashboard reading a metric no running service exports is caught', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shopsphere-observability-'));
  try {
    cpSync(join(ROOT, 'deploy/observability'), dir, { recursive: true });
    const urls = SERVICE_NAMES.map((s) => `${serviceUrl(s)}/metrics`);
    const tool = join(ROOT, 'deploy/tools/live-metrics.mjs');
    const good = await run(process.execPath, [tool, '--observability', dir, ...urls], {}, 60000);
    assert.equal(good.code, 0, good.stderr);
    const file = join(dir, 'grafana/gateway.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace('gateway_cache_invalidations_total', 'gateway_cache_invalidation_total'));
    const bad = await run(process.execPath, [tool, '--observability', dir, ...urls], {}, 60000);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, new RegExp(String.raw`gateway_cache_invalidation_total \(read by grafana/gateway\.json\) is exported by none of the ${SERVICE_NAMES.length} services`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
