#!/usr/bin/env node
// drill.mjs - the chaos drill (issue 19, docs/resilience.md). Run by
// scripts/chaos.sh against a running `shopsphere up` platform of a profile;
// not alone.
//
// Under a steady shopper load (`shopsphere loadtest`: browse, search,
// product, cart, checkout, and an admin shipping and refunding a share of
// the orders), injects faults one after another, waits for the platform to
// heal, and checks the invariants by SQL against the profile's database
// after each fault and at the end:
//   stock        every product: stock + sold = start + adjustments, and
//                reserved = the units of its live reservations
//   orders       a committed reservation <=> a confirmed (or later) order;
//                a cancelled order keeps no reservation and owes nothing
//   payments     every confirmed order has exactly one authorized or
//                captured payment; no payment lacks its order; no
//                cancelled order keeps a live authorization
//   sagas        no checkout stays in a non-terminal step beyond the
//                sweeper's window
//   events       the admin reports equal the orders: every confirmed order
//                once, totals, refunds and statuses alike
//   carts        every confirmed order's cart was emptied for it (the
//                order's id is in the cart's set cart:<id>:orders in Redis)
//   5xx          no 5xx answer outside a fault's window plus its recovery
// and prints the table with the time to recover per fault. Exit 1 when an
// invariant is broken, 2 when the drill itself could not run.
//
// Environment: SHOPSPHERE_* of the profile (scripts/profile.sh), CHAOS_BIN
// (the shopsphere binary), CHAOS_PLATFORM_PID (the supervisor), CHAOS_SHORT=1
// for the short drill (a few faults), CHAOS_QUICK=1 for the quick one of
// `make test` (the order service killed, RabbitMQ stopped 5 s, light load),
// CHAOS_REPORT (a Markdown copy of the table), CHAOS_USERS (virtual users,
// default 6, 4 in the quick drill), CHAOS_CHECK_ONLY=1 to check the
// invariants once, without load or faults.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const ROOT = process.env.SHOPSPHERE_ROOT;
const PROFILE = process.env.SHOPSPHERE_PROFILE;
const BASE = Number(process.env.SHOPSPHERE_PORT_BASE);
const GATEWAY = `http://127.0.0.1:${BASE}`;
const BIN = process.env.CHAOS_BIN;
const SUPERVISOR = Number(process.env.CHAOS_PLATFORM_PID);
const QUICK = process.env.CHAOS_QUICK === '1';
const SHORT = !QUICK && process.env.CHAOS_SHORT === '1';
const MODE = QUICK ? 'quick' : SHORT ? 'short' : 'full';
const USERS = Number(process.env.CHAOS_USERS ?? (QUICK ? 4 : 6));
const DB = process.env.SHOPSPHERE_DATABASE_URL;
const REDIS = process.env.SHOPSPHERE_REDIS_URL;
const VAR = process.env.SHOPSPHERE_VAR_DIR;
// The order service's sweeper takes over a saga whose owner has been silent
// for 10 s (docs/checkout.md); the window adds the time to notice and act.
const SWEEPER_WINDOW_S = 45;
// Events are applied within seconds; older facts must be in the reports.
const EVENT_LAG_S = 20;

const PORTS = {
  gateway: 0, user: 1, product: 2, cart: 3, order: 4, payment: 5, shipping: 6,
  review: 7, notification: 8, admin: 9, auth: 10, search: 11, recommendation: 12,
};

const log = (...a) => console.log('[chaos]', ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function sql(query) {
  return execFileSync('psql', ['-X', '-q', '-tA', '-F', '\t', '-v', 'ON_ERROR_STOP=1', DB, '-c', query],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function infra(...args) {
  execFileSync(`${ROOT}/scripts/infra.sh`, [...args, '--profile', PROFILE],
    { stdio: ['ignore', 'inherit', 'inherit'] });
}

async function status(url, init = {}) {
  try {
    const r = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
    await r.arrayBuffer();
    return r.status;
  } catch { return 0; }
}

// Waits until every service and the gateway answer /healthz 200.
async function healthy(limitMs) {
  const until = Date.now() + limitMs;
  for (;;) {
    const codes = await Promise.all(Object.values(PORTS).map((off) => status(`http://127.0.0.1:${BASE + off}/healthz`)));
    if (codes.every((c) => c === 200)) return true;
    if (Date.now() > until) return false;
    await sleep(250);
  }
}

// The pid of a service's process under the supervisor.
function servicePid(name) {
  const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(SUPERVISOR)], { encoding: 'utf8' });
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+)\s+.*--services=(\S+)\s*$/.exec(line);
    if (m && m[2] === name) return Number(m[1]);
  }
  return 0;
}

async function sandboxChaos(body) {
  const r = await fetch(`http://127.0.0.1:${BASE + 15}/v1/_chaos`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  if (r.status !== 200) throw new Error(`sandbox chaos: HTTP ${r.status} ${await r.text()}`);
}

async function courierFaults(body) {
  const r = await fetch(`http://127.0.0.1:${BASE + 16}/v1/_faults`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  if (r.status !== 200) throw new Error(`courier faults: HTTP ${r.status} ${await r.text()}`);
}

// --- faults -------------------------------------------------------------------
// Each returns when the fault is over (the platform may still be healing).
function killFault(name) {
  return {
    name: `kill -9 ${name}`,
    async inject() {
      const pid = servicePid(name);
      if (!pid) throw new Error(`no process for ${name}`);
      process.kill(pid, 'SIGKILL');
      // The supervisor restarts it; wait until another process runs it.
      const until = Date.now() + 60000;
      while (Date.now() < until) {
        const now = servicePid(name);
        if (now && now !== pid) return;
        await sleep(100);
      }
      throw new Error(`${name} was not restarted within 60 s`);
    },
  };
}

const stopFor = (what, seconds) => ({
  name: `${what} stopped ${seconds} s`,
  async inject() {
    infra('stop', what);
    await sleep(seconds * 1000);
    infra('start', what);
  },
});

const FAULTS_FULL = [
  ...Object.keys(PORTS).map(killFault),
  stopFor('rabbitmq', 20),
  { name: 'postgres restarted', async inject() { infra('restart', 'postgres'); } },
  stopFor('redis', 10),
  {
    name: 'card processor 30 % errors, 2 s latency (30 s)',
    async inject() {
      await sandboxChaos({ error_percent: 30, latency_ms: 2000 });
      await sleep(30000);
      await sandboxChaos({ error_percent: 0, latency_ms: 0 });
    },
  },
  {
    name: "courier's webhooks dropped (30 s)",
    async inject() {
      await courierFaults({ drop_webhooks: true });
      await sleep(30000);
      await courierFaults({ drop_webhooks: false });
    },
  },
];
const FAULTS_SHORT = [
  killFault('order'), killFault('payment'), killFault('gateway'),
  { name: 'postgres restarted', async inject() { infra('restart', 'postgres'); } },
  stopFor('redis', 10),
  {
    name: 'card processor 30 % errors, 2 s latency (15 s)',
    async inject() {
      await sandboxChaos({ error_percent: 30, latency_ms: 2000 });
      await sleep(15000);
      await sandboxChaos({ error_percent: 0, latency_ms: 0 });
    },
  },
];

// The quick drill of `make test`: a crash in the middle of checkouts and a
// broker outage (outboxes back up, consumers reconnect), under light load.
const FAULTS_QUICK = [killFault('order'), stopFor('rabbitmq', 5)];

// --- invariants -------------------------------------------------------------------
// Each query returns the rows that break it (at most a few, for the table).
const COMMITTED = `('confirmed', 'processing', 'shipped', 'delivered', 'refunded')`;
function invariants(windowS, lagS) {
  const settled = `now() - interval '${windowS} seconds'`;
  const lagged = `now() - interval '${lagS} seconds'`;
  return [
    {
      name: 'stock: stock + sold = start + adjustments',
      // The load test's products start with 1,000,000 units (loadtest.c).
      query: `
        SELECT p.sku, p.stock, coalesce(s.sold, 0), coalesce(a.delta, 0)
        FROM product.products p
        LEFT JOIN (SELECT l.product_id, sum(l.quantity) AS sold
                   FROM product.reservation_lines l
                   JOIN product.reservations r USING (order_id)
                   WHERE r.status = 'committed' GROUP BY 1) s ON s.product_id = p.id
        LEFT JOIN (SELECT product_id, sum(delta) AS delta
                   FROM product.inventory_adjustments GROUP BY 1) a ON a.product_id = p.id
        WHERE p.sku LIKE 'LOAD-%'
          AND p.stock + coalesce(s.sold, 0) <> 1000000 + coalesce(a.delta, 0)`,
    },
    {
      name: 'stock: reserved = live reservations',
      query: `
        SELECT p.sku, p.reserved, coalesce(l.live, 0)
        FROM product.products p
        LEFT JOIN (SELECT l.product_id, sum(l.quantity) AS live
                   FROM product.reservation_lines l
                   JOIN product.reservations r USING (order_id)
                   WHERE r.status = 'reserved' GROUP BY 1) l ON l.product_id = p.id
        WHERE p.reserved <> coalesce(l.live, 0)`,
    },
    {
      name: 'orders: committed stock <=> confirmed order',
      query: `
        SELECT coalesce(o.id, r.order_id), o.status, r.status
        FROM "order".orders o
        FULL JOIN product.reservations r ON r.order_id = o.id
        WHERE coalesce(o.created_at, r.created_at) < ${settled}
          AND ((coalesce(r.status, '') = 'committed') <> (coalesce(o.status, '') IN ${COMMITTED})
               OR (o.id IS NULL AND r.status <> 'released' AND r.status <> 'expired')
               OR o.status = 'pending'
               OR (o.status = 'cancelled' AND (o.compensation_due OR r.status = 'reserved')))`,
    },
    {
      name: 'payments: one authorized/captured per confirmed order',
      query: `
        SELECT o.id, o.status, count(p.id)
        FROM "order".orders o
        LEFT JOIN payment.payments p ON p.order_id = o.id
          AND p.status IN ('authorized', 'captured', 'partially_refunded', 'refunded')
        WHERE o.status IN ${COMMITTED} AND o.created_at < ${settled}
        GROUP BY 1, 2 HAVING count(p.id) <> 1`,
    },
    {
      name: 'payments: none without its order, none live on a cancelled one',
      query: `
        SELECT p.id, p.status, o.status
        FROM payment.payments p
        LEFT JOIN "order".orders o ON o.id = p.order_id
        WHERE p.created_at < ${settled}
          AND (o.id IS NULL AND p.status NOT IN ('voided', 'failed')
               OR o.status = 'cancelled' AND p.status IN ('authorized', 'captured'))`,
    },
    {
      name: "sagas: none open beyond the sweeper's window",
      query: `
        SELECT order_id, step, owner, now() - updated_at
        FROM "order".checkouts
        WHERE step <> 'done' AND updated_at < ${settled}`,
    },
    {
      name: 'events: admin sales = confirmed orders (once each, same total)',
      query: `
        SELECT o.id, 'missing from the reports' FROM "order".orders o
        WHERE o.updated_at < ${lagged}
          AND EXISTS (SELECT 1 FROM "order".order_transitions t
                      WHERE t.order_id = o.id AND t.to_status = 'confirmed')
          AND NOT EXISTS (SELECT 1 FROM admin.sales_orders s WHERE s.order_id = o.id)
        UNION ALL
        SELECT s.order_id, 'reported, never confirmed' FROM admin.sales_orders s
        WHERE NOT EXISTS (SELECT 1 FROM "order".order_transitions t
                          WHERE t.order_id = s.order_id AND t.to_status = 'confirmed')
        UNION ALL
        SELECT s.order_id, 'total ' || s.total || ' <> ' || o.total_minor
        FROM admin.sales_orders s JOIN "order".orders o ON o.id = s.order_id
        WHERE s.total <> o.total_minor`,
    },
    {
      name: 'events: admin refunds and statuses = the orders',
      query: `
        SELECT 'refund', o.order_id::text, o.amount_minor::text, coalesce(a.amount::text, 'missing')
        FROM "order".refunds o LEFT JOIN admin.refunds a ON a.refund_id = o.id
        WHERE o.created_at < ${lagged} AND (a.refund_id IS NULL OR a.amount <> o.amount_minor)
        UNION ALL
        SELECT 'status', o.id::text, o.status, coalesce(s.status, 'missing')
        FROM "order".orders o LEFT JOIN admin.order_statuses s ON s.order_id = o.id
        WHERE o.updated_at < ${lagged} AND o.status <> coalesce(s.status, '')`,
    },
  ];
}

// The carts of the confirmed orders older than lagS that still exist and
// were not emptied for them (docs/checkout.md: the saga's call or the cart
// service's order.confirmed consumer adds the order's id to
// cart:<cart>:orders). A cart that is gone (the test profiles' Redis keeps
// nothing across its restart) is no full cart.
function cartsNotEmptied(lagS) {
  const out = sql(`
    SELECT o.id, o.cart_id FROM "order".orders o
    WHERE o.cart_id IS NOT NULL AND o.updated_at < now() - interval '${lagS} seconds'
      AND EXISTS (SELECT 1 FROM "order".order_transitions t
                  WHERE t.order_id = o.id AND t.to_status = 'confirmed')`);
  const orders = out ? out.split('\n').map((l) => l.split('\t')) : [];
  if (orders.length === 0) return [];
  const answers = execFileSync('redis-cli', ['-u', REDIS], {
    input: orders.map(([id, cart]) => `EXISTS cart:${cart}\nSISMEMBER cart:${cart}:orders ${id}`).join('\n') + '\n',
    encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'],
  }).trim().split('\n');
  if (answers.length !== 2 * orders.length) throw new Error(`redis-cli answered ${answers.length} of ${2 * orders.length}`);
  return orders.filter((_, i) => answers[2 * i].trim() === '1' && answers[2 * i + 1].trim() !== '1')
    .map(([id, cart]) => `${id} cart ${cart}`);
}

function check(label, windowS, lagS) {
  const results = [];
  const all = [...invariants(windowS, lagS),
    { name: "carts: every confirmed order's cart emptied", rows: () => cartsNotEmptied(lagS) }];
  for (const inv of all) {
    let rows = [];
    let error = null;
    try {
      if (inv.rows) {
        rows = inv.rows();
      } else {
        const out = sql(inv.query);
        rows = out ? out.split('\n') : [];
      }
    } catch (e) {
      error = String(e.stderr || e.message).trim().split('\n')[0];
    }
    results.push({ after: label, name: inv.name, ok: !error && rows.length === 0, broken: rows.length, sample: error ?? rows.slice(0, 3).join(' | ') });
  }
  return results;
}

// --- the drill ----------------------------------------------------------------------
// CHAOS_CHECK_ONLY=1: only check the invariants now (settled windows), no load.
if (process.env.CHAOS_CHECK_ONLY === '1') {
  const rows = check('now', SWEEPER_WINDOW_S, EVENT_LAG_S);
  for (const r of rows) console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name}: ${r.broken} ${r.sample}`);
  process.exit(rows.every((r) => r.ok) ? 0 : 1);
}
const faults = QUICK ? FAULTS_QUICK : SHORT ? FAULTS_SHORT : FAULTS_FULL;
const report = `${VAR}/chaos-loadtest.json`;
const t0 = Date.now();
log(`${faults.length} faults against ${GATEWAY} (${MODE} drill), ${USERS} shoppers`);

if (!(await healthy(120000))) { log('the platform is not healthy'); process.exit(2); }
// A steady load for longer than the drill; SIGTERM ends it with its report.
const load = spawn(BIN, ['loadtest', '--base', GATEWAY, '--stages', `10s:${USERS},180m:${USERS}`,
  '--think', '300ms-1s', '--users', '10', '--products', '8', '--refunds', '20',
  '--mix', 'browse=25,search=15,product=25,cart=10,checkout=25', '--timeout', '20s',
  '--errors', '100', '--p95', '1000000', '--p99', '1000000', '--report', report],
{ stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
let loadOut = '';
load.stdout.on('data', (d) => { loadOut += d; });
let started;
const loadStarted = new Promise((r) => { started = r; });
load.stderr.on('data', (d) => {
  process.stdout.write(`[load] ${d}`);
  if (String(d).includes('virtual users')) started(true);
});
const loadDone = new Promise((r) => load.on('exit', (code) => r(code)));
// Set-up (products, customers), then the ramp.
if (!(await Promise.race([loadStarted, loadDone.then(() => false)]))) {
  log(`the load did not start:\n${loadOut}`);
  process.exit(2);
}
await sleep(12000);
const table = [];
const windows = [];
let broken = false;
let aborted = null;
for (const f of faults) {
  const w = { name: f.name, start: Date.now(), end: 0, healthy: 0 };
  log(`fault: ${f.name}`);
  try {
    await f.inject();
  } catch (e) {
    log(`fault ${f.name} could not be injected: ${e.message}`);
    aborted = e.message;
    break;
  }
  w.end = Date.now();
  if (!(await healthy(180000))) { aborted = `not healthy 180 s after ${f.name}`; log(aborted); break; }
  w.healthy = Date.now();
  windows.push(w);
  log(`  healthy again ${((w.healthy - w.start) / 1000).toFixed(1)} s after the injection`);
  await sleep(SHORT || QUICK ? 5000 : 8000); // the load runs on the healed platform
  // Backlogs (an outbox after a broker outage) drain in their own time:
  // poll up to 90 s for every invariant to hold, and keep the last answer.
  let rows = check(f.name, SWEEPER_WINDOW_S, EVENT_LAG_S);
  const until = Date.now() + 90000;
  while (!rows.every((r) => r.ok) && Date.now() < until) {
    await sleep(5000);
    rows = check(f.name, SWEEPER_WINDOW_S, EVENT_LAG_S);
  }
  w.consistent = ((Date.now() - w.start) / 1000).toFixed(0);
  table.push(...rows);
}

// The end: stop the load, let the last sagas and events settle, check all.
load.kill('SIGTERM');
const loadCode = await loadDone;
log('load stopped; waiting for the last sagas and events to settle');
let final = [];
for (let i = 0; i < 24; i++) {
  await sleep(5000);
  final = check('end', 0, 0);
  if (final.every((r) => r.ok)) break;
}
// Anything still open after two minutes of quiet is broken for good.
table.push(...final);

// --- 5xx and recovery from the load's timeline ------------------------------------
let lt;
try { lt = JSON.parse(readFileSync(report, 'utf8')); } catch (e) {
  log(`no load report (loadtest exit ${loadCode}): ${e.message}\n${loadOut}`);
  process.exit(2);
}
const sec = (ms) => Math.floor((ms - lt.started_at_ms) / 1000);
const tl = lt.timeline;
const recovery = [];
for (const w of windows) {
  // Recovered: the first second from which 5 in a row carry requests and
  // no error, counted from the injection.
  let at = null;
  for (let s = Math.max(0, sec(w.end)); s + 4 < tl.length; s++) {
    if ([0, 1, 2, 3, 4].every((k) => tl[s + k][0] > 0 && tl[s + k][1] === 0)) { at = s; break; }
  }
  const errors = tl.slice(Math.max(0, sec(w.start)), at ?? tl.length).reduce((a, x) => a + x[1], 0);
  w.recovered = at;
  recovery.push({
    fault: w.name, fault_s: ((w.end - w.start) / 1000).toFixed(1),
    healthy_s: ((w.healthy - w.start) / 1000).toFixed(1),
    recovered_s: at === null ? 'never' : Math.max(0, at - sec(w.start)).toString(),
    consistent_s: w.consistent,
    errors,
  });
}
// The timeline counts a request in the second it was sent (loadtest.c), so
// a fault's window opens earlier by the longest a request can be in flight
// through the gateway (its 5 s upstream timeout, plus a second): a request
// sent just before the fault may be spoiled by it.
const IN_FLIGHT_S = 6;
const stray = [];
tl.forEach((x, s) => {
  if (x[2] === 0) return;
  const inside = windows.some((w) => s >= sec(w.start) - IN_FLIGHT_S && s <= (w.recovered ?? tl.length) + 1);
  if (!inside) stray.push(`${s}s:${x[2]}`);
});
table.push({ after: 'whole run', name: '5xx only inside fault windows + recovery', ok: stray.length === 0, broken: stray.length, sample: stray.slice(0, 6).join(' ') });
for (const r of recovery) if (r.recovered_s === 'never') broken = true;

// --- the table ------------------------------------------------------------------------
const lines = [];
lines.push(`Chaos drill (${MODE}), profile ${PROFILE}, ${new Date(t0).toISOString()}, ${Math.round((Date.now() - t0) / 1000)} s`);
lines.push(`load: ${lt.total.requests} requests, ${lt.checkouts} checkouts, ${lt.refunds} refunds, ${lt.total.errors} errors (${lt.total.status_5xx} 5xx), p95 ${lt.total.p95_ms.toFixed(0)} ms`);
lines.push('');
lines.push('| fault | injected for s | healthy after s | recovered after s | errors meanwhile | invariants checked at s |');
lines.push('|---|---|---|---|---|---|');
for (const r of recovery) lines.push(`| ${r.fault} | ${r.fault_s} | ${r.healthy_s} | ${r.recovered_s} | ${r.errors} | ${r.consistent_s} |`);
lines.push('');
lines.push('| invariant | after each fault | at the end |');
lines.push('|---|---|---|');
const details = [];
for (const name of [...new Set(table.map((r) => r.name))]) {
  const rows = table.filter((r) => r.name === name);
  const during = rows.filter((r) => r.after !== 'end' && r.after !== 'whole run');
  const end = rows.find((r) => r.after === 'end' || r.after === 'whole run');
  const bad = rows.filter((r) => !r.ok);
  if (bad.length) broken = true;
  const d = during.length ? `${during.every((r) => r.ok) ? 'yes' : 'NO'} (${during.filter((r) => r.ok).length}/${during.length})` : '-';
  lines.push(`| ${name} | ${d} | ${end ? (end.ok ? 'yes' : 'NO') : '-'} |`);
  for (const r of bad) details.push(`- ${name}, after ${r.after}: ${r.broken} rows: ${String(r.sample).slice(0, 200)}`);
}
if (details.length) lines.push('', 'broken:', ...details);
if (aborted) { broken = true; lines.push('', `drill aborted: ${aborted}`); }
console.log(`\n${lines.join('\n')}\n`);
if (process.env.CHAOS_REPORT) writeFileSync(process.env.CHAOS_REPORT, `${lines.join('\n')}\n`);
console.log(`[chaos] ${broken ? 'FAIL: an invariant is broken' : 'PASS: every invariant holds'}`);
process.exit(broken ? 1 : 0);
