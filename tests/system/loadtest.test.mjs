// loadtest.test.mjs - `shopsphere loadtest` (src/cli/loadtest.c) against the
// platform under test: a few seconds of shoppers, then what a person running
// it relies on: the JSON report's numbers, the verdict and the exit code.
// Thresholds here are generous (the machine is shared and the build has
// sanitizers): the test is about the tool, not about the platform's speed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BASE, runShopsphere } from './lib.mjs';

const dir = mkdtempSync(join(tmpdir(), 'loadtest-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const SHORT = ['--base', BASE, '--think', '50ms-200ms', '--users', '2', '--products', '2', '--quiet'];

test('a short ramp of shoppers writes a report with every step and passes loose thresholds', async () => {
  const report = join(dir, 'pass.json');
  const r = await runShopsphere(['loadtest', ...SHORT, '--stages', '2s:4,6s:4,1s:0',
    '--mix', 'browse=1,search=1,product=1,cart=1,checkout=2',
    '--p95', '60000', '--p99', '60000', '--errors', '50', '--report', report], { timeout: 180000 });
  assert.equal(r.code, 0, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /loadtest: PASS/);
  assert.match(r.stdout, /p50 ms\s+p95 ms\s+p99 ms/);

  const j = JSON.parse(readFileSync(report, 'utf8'));
  assert.equal(j.passed, true);
  assert.equal(j.base_url, BASE);
  assert.equal(j.slo, 'default');
  assert.ok(j.total.requests > 0);
  assert.ok(j.total.p50_ms <= j.total.p95_ms && j.total.p95_ms <= j.total.p99_ms &&
    j.total.p99_ms <= j.total.max_ms, JSON.stringify(j.total));
  // The seed's shopper mix: each flow ran, with its steps.
  for (const flow of ['browse', 'search', 'product', 'cart', 'checkout']) {
    assert.ok(j.iterations[flow] > 0, `no ${flow} iteration: ${JSON.stringify(j.iterations)}`);
  }
  for (const step of ['browse', 'search', 'product', 'cart_create']) {
    assert.ok(j.steps[step]?.requests > 0, `no ${step} request: ${JSON.stringify(j.steps)}`);
    const s = j.steps[step];
    assert.ok(s.p50_ms <= s.p95_ms && s.p95_ms <= s.p99_ms, JSON.stringify(s));
    const answered = Object.values(s.statuses).reduce((a, b) => a + b, 0);
    assert.equal(answered, s.requests);
  }
  // A checkout that was answered 201 counts as one.
  assert.equal(j.checkouts, j.steps.checkout?.statuses?.['201'] ?? 0);
  // One summary per stage, and the thresholds with their values.
  assert.deepEqual(j.stages.map((s) => s.target), [4, 4, 0]);
  assert.equal(j.stages.reduce((a, s) => a + s.requests, 0), j.total.requests);
  assert.deepEqual(j.thresholds.map((t) => t.metric), ['p95', 'p99', 'error_rate']);
  assert.ok(j.thresholds.every((t) => t.ok));
  // Per second: requests, errors, 5xx; they add up to the totals.
  assert.ok(j.timeline.length >= 8, `timeline of ${j.timeline.length} s`);
  assert.equal(j.timeline.reduce((a, s) => a + s[0], 0), j.total.requests);
  assert.equal(j.timeline.reduce((a, s) => a + s[1], 0), j.total.errors);
});

test('an impossible threshold fails the run: exit 1, the failing bar named', async () => {
  const report = join(dir, 'fail.json');
  const r = await runShopsphere(['loadtest', ...SHORT, '--stages', '3s:2',
    '--p95', '0.001', '--report', report], { timeout: 120000 });
  assert.equal(r.code, 1, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /FAIL\s+all\s+p95/);
  assert.match(r.stdout, /loadtest: FAIL/);
  const j = JSON.parse(readFileSync(report, 'utf8'));
  assert.equal(j.passed, false);
  const p95 = j.thresholds.find((t) => t.metric === 'p95');
  assert.equal(p95.ok, false);
  assert.equal(p95.limit, 0.001);
  assert.ok(p95.value > 0.001);
});

test('--slo strict applies the per-route bars of DESIGN §8', async () => {
  const report = join(dir, 'strict.json');
  const r = await runShopsphere(['loadtest', ...SHORT, '--stages', '2s:2',
    '--mix', 'product=1', '--slo', 'strict', '--report', report], { timeout: 120000 });
  assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}\n${r.stderr}`);
  const j = JSON.parse(readFileSync(report, 'utf8'));
  assert.equal(j.slo, 'strict');
  const bars = Object.fromEntries(j.thresholds.map((t) => [`${t.step} ${t.metric}`, t.limit]));
  assert.deepEqual(bars, {
    'all p95': 50, 'all p99': 100, 'all error_rate': 0, 'browse p99': 15, 'product p99': 10,
    'search p99': 30, 'cart_create p99': 20, 'cart_add p99': 20, 'checkout p99': 250,
  });
  assert.equal(j.passed, j.thresholds.every((t) => t.ok));
  assert.equal(r.code, j.passed ? 0 : 1);
});

test('bad options are refused with exit 2 before any load', async () => {
  for (const [args, what] of [
    [['--stages', '30s'], /--stages/],
    [['--stages', '1s:-4'], /--stages/],
    [['--slo', 'lenient'], /--slo/],
    [['--mix', 'shopping=3'], /--mix/],
    [['--p95', 'fast'], /bad number/],
    [['--base', 'ftp://x'], /--base/],
    [['--frobnicate'], /unknown argument/],
  ]) {
    const r = await runShopsphere(['loadtest', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}`);
    assert.match(r.stderr, what);
    assert.doesNotMatch(r.stderr, /set-up against/);
  }
  const help = await runShopsphere(['loadtest', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /usage: shopsphere loadtest/);
});
