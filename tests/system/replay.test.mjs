// replay.test.mjs - rebuilding the read models from the event log
// (docs/events.md, "Replay"): orders are placed, the admin reports, a search
// document and a bought-together list are read; `shopsphere events replay
// --to S --reset` empties S's read model and inbox and replays the whole
// log, and each reads back equal. A replay without --reset applies nothing
// a second time (its events are counted as duplicates, the reports stay),
// and a service without a rebuildable read model (the notification
// service's e-mails) is refused.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  API, adminToken, call, eventually, newCategory, newCustomer, placeOrder, serviceUrl, runShopsphere,
} from './lib.mjs';

const RUN = randomUUID().slice(0, 8);
const REPLAY_MS = 300000; // the whole log of a full test run, on a busy machine
let admin;
let categoryId;
let a;
let b;

const auth = () => ({ authorization: `Bearer ${admin}` });

async function newProduct(n, stock) {
  const r = await call(`${API}/products`, {
    method: 'POST', headers: auth(),
    body: { sku: `RPL-${RUN}-${n}`, name: `Replay lamp ${RUN} ${n}`, description: 'replayed', category_id: categoryId,
      price: '12.50', currency: 'USD', stock, status: 'active', attributes: { brand: `Rpl${RUN}` } },
  });
  assert.equal(r.status, 201, `create product: ${r.text}`);
  return r.body;
}

// The sum of a service's bus_events_consumed_total for one outcome.
// Events a replay re-drove into a consumer: applied, or skipped as a
// duplicate (the log is at-least-once: a relay that died between publishing
// and deleting its outbox rows published them again, and after a reset the
// second copy is a duplicate of the first).
async function settled(service) {
  return (await consumed(service, 'applied')) + (await consumed(service, 'duplicate'));
}

async function consumed(service, outcome) {
  const r = await call(`${serviceUrl(service)}/metrics`);
  assert.equal(r.status, 200);
  const re = new RegExp(`^bus_events_consumed_total\\{[^}]*outcome="${outcome}"[^}]*\\} (\\d+)`, 'gm');
  let sum = 0;
  for (const m of r.text.matchAll(re)) sum += Number(m[1]);
  return sum;
}

// What a person sees of each read model (windows fixed, so that the clock
// moving on changes nothing).
const from = new Date(Date.now() - 2 * 86400000).toISOString().slice(0, 10);
const to = new Date(Date.now() + 2 * 86400000).toISOString().slice(0, 10);
async function adminReports() {
  const get = async (path) => {
    const r = await call(`${API}${path}`, { headers: auth() });
    assert.equal(r.status, 200, `${path}: ${r.text}`);
    return r.body;
  };
  const dash = await get('/admin/reports/dashboard?currency=USD');
  return {
    sales: await get(`/admin/reports/sales?from=${from}&to=${to}&granularity=day&currency=USD`),
    top: await get(`/admin/reports/top-products?from=${from}&to=${to}&limit=100&currency=USD`),
    lowStock: await get('/admin/reports/low-stock?threshold=3&limit=100'),
    byStatus: dash.orders_by_status,
    pendingReviews: dash.pending_reviews,
  };
}
async function searchDocs() {
  const r = await call(`${API}/search?category_id=${categoryId}&limit=10`);
  assert.equal(r.status, 200, r.text);
  return r.body;
}
async function boughtTogether() {
  const r = await call(`${API}/recommendations/products/${a.id}?kind=bought_together&limit=10`);
  assert.equal(r.status, 200, r.text);
  return r.body;
}

// Polls read until it answers what `expected` is (deep equal).
async function readsBack(read, expected, what) {
  let last;
  await eventually(async () => {
    last = await read();
    return JSON.stringify(last) === JSON.stringify(expected);
  }, REPLAY_MS, 500).catch(() => {});
  assert.deepEqual(last, expected, `${what}: rebuilt from the log`);
}

before(async () => {
  admin = await adminToken();
  categoryId = await newCategory(admin, `Replay ${RUN}`, `replay-${RUN}`);
  a = await newProduct('a', 40);
  b = await newProduct('b', 4);
  const shopper = await newCustomer(`rpl${RUN}`);
  await placeOrder(shopper, [[a, 2], [b, 1]]);
  await placeOrder(shopper, [[a, 1], [b, 2]]);
  // Every consumer has the orders: B is low on stock at the admin, bought
  // together with A at the recommendations, popular at the search.
  await eventually(async () => (await adminReports()).lowStock.items.some((i) => i.product_id === b.id), 60000, 300);
  await eventually(async () => (await boughtTogether()).items.some((i) => i.id === b.id && i.reason === 'bought_together'),
    60000, 300);
  await eventually(async () => (await searchDocs()).items?.length === 2, 60000, 300);
});

test('a replay without --reset applies nothing twice', async () => {
  const reports = await adminReports();
  const duplicates = await consumed('admin', 'duplicate');
  const r = await runShopsphere(['events', 'replay', '--to', 'admin'], { timeout: REPLAY_MS });
  assert.equal(r.code, 0, r.stderr);
  const m = r.stdout.match(/^(\d+) event\(s\) read from shopsphere\.log, (\d+) replayed to shopsphere\.admin \(its inbox skips those it already applied\)$/m);
  assert.ok(m, r.stdout);
  const replayed = Number(m[2]);
  assert.ok(replayed >= 6, `at least this suite's own events: ${r.stdout}`);
  // Every replayed event reached the consumer and was a duplicate.
  await eventually(async () => (await consumed('admin', 'duplicate')) - duplicates >= replayed, REPLAY_MS, 500);
  assert.deepEqual(await adminReports(), reports);
});

test('after --reset the admin reports are rebuilt from the log, equal to before', async () => {
  const before = await adminReports();
  const applied = await settled('admin');
  const r = await runShopsphere(['events', 'replay', '--to', 'admin', '--reset'], { timeout: REPLAY_MS });
  assert.equal(r.code, 0, r.stderr);
  const emptied = r.stdout.match(/^admin: read model emptied, (\d+) inbox id\(s\) forgotten$/m);
  assert.ok(emptied && Number(emptied[1]) > 0, r.stdout);
  const m = r.stdout.match(/(\d+) replayed to shopsphere\.admin \(read model rebuilt from the log\)$/m);
  assert.ok(m, r.stdout);
  // The events were applied again ...
  await eventually(async () => (await settled('admin')) - applied >= Number(m[1]), REPLAY_MS, 500);
  // ... and what they rebuilt is what there was.
  await readsBack(adminReports, before, 'admin reports');
  const low = before.lowStock.items.find((i) => i.product_id === b.id);
  assert.ok(low, 'B low on stock before and after');
});

test('after --reset the search index and the bought-together lists are rebuilt', async () => {
  const docs = await searchDocs();
  assert.equal(docs.items.length, 2);
  const searchApplied = await settled('search');
  const r = await runShopsphere(['events', 'replay', '--to', 'search', '--reset'], { timeout: REPLAY_MS });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^search: read model emptied, \d+ inbox id\(s\) forgotten$/m);
  const s = r.stdout.match(/(\d+) replayed to shopsphere\.search \(read model rebuilt from the log\)$/m);
  assert.ok(s, r.stdout);
  await eventually(async () => (await settled('search')) - searchApplied >= Number(s[1]), REPLAY_MS, 500);
  await readsBack(searchDocs, docs, 'search documents');

  const together = await boughtTogether();
  assert.equal(together.items[0].id, b.id);
  const applied = await settled('recommendation');
  const rr = await runShopsphere(['events', 'replay', '--to', 'recommendation', '--reset'], { timeout: REPLAY_MS });
  assert.equal(rr.code, 0, rr.stderr);
  const m = rr.stdout.match(/(\d+) replayed to shopsphere\.recommendation \(read model rebuilt from the log\)$/m);
  assert.ok(m, rr.stdout);
  await eventually(async () => (await settled('recommendation')) - applied >= Number(m[1]), REPLAY_MS, 500);
  await readsBack(boughtTogether, together, 'bought together');
});

test('a service without a rebuildable read model is refused: no e-mail is sent again', async () => {
  const r = await runShopsphere(['events', 'replay', '--to', 'notification']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /notification has no read model that the event log rebuilds/);
  assert.match(r.stderr, /events dlq replay --service notification/);
  assert.equal(r.stdout, '');
  // --reset is the whole log or nothing.
  const partial = await runShopsphere(['events', 'replay', '--to', 'admin', '--reset', '--since', '2026-01-01']);
  assert.equal(partial.code, 2);
  assert.match(partial.stderr, /--reset rebuilds from the whole log/);
});
