// cache_coherence.test.mjs - an admin's edit shows through every cache at
// once (issue 16): the product service's read cache and the gateway's edge
// cache both drop what they hold when the catalog's change event reaches
// their process (kit/bus_listen.c), and anonymous reads are still served
// from the caches before and after the edit.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { API, BASE, call, eventually, adminToken, newCategory } from './lib.mjs';

const RUN = randomUUID().slice(0, 8);
let admin;
let categoryId;

before(async () => {
  admin = { authorization: `Bearer ${await adminToken()}` };
  categoryId = await newCategory(admin.authorization.slice(7), `Cache ${RUN}`, `cache-${RUN}`);
});

async function invalidations() {
  const text = (await call(`${BASE}/metrics`)).text;
  const m = /^gateway_cache_invalidations_total(?:\{\})? (\d+(?:\.\d+)?)/m.exec(text);
  return m ? Number(m[1]) : 0;
}

// Reads url anonymously until the edge answers from its cache.
async function cachedRead(url) {
  return eventually(async () => {
    const r = await call(url);
    return r.status === 200 && r.headers.get('x-cache') === 'HIT' ? r : null;
  }, 20000, 50);
}

test('a price change shows through the caches at once, and reads stay cached', async (t) => {
  const created = await call(`${API}/products`, {
    method: 'POST', headers: admin,
    body: { sku: `CACHE-${RUN}`, name: `Cache test ${RUN}`, description: 'cache coherence',
      category_id: categoryId, price: '10.00', currency: 'USD', stock: 5, status: 'active' },
  });
  assert.equal(created.status, 201, created.text);
  const url = `${API}/products/${created.body.id}`;

  const before = await cachedRead(url);
  assert.equal(before.body.price, '10.00');
  const heardBefore = await invalidations();

  const patched = await call(url, { method: 'PATCH', headers: admin, body: { price: '12.50' } });
  assert.equal(patched.status, 200, patched.text);
  const editedAt = Date.now();

  // Visible through the gateway right after (polled: the event travels
  // through the outbox and RabbitMQ; the margin is for a loaded machine).
  const after = await eventually(async () => {
    const r = await call(url);
    return r.status === 200 && r.body.price === '12.50' ? r : null;
  }, 10000, 10);
  t.diagnostic(`edit visible after ${Date.now() - editedAt} ms`);
  assert.equal(after.body.price, '12.50');

  // The gateway heard the change (the cache was emptied by the event, not
  // by a timer) ...
  await eventually(async () => (await invalidations()) > heardBefore, 10000, 50);
  // ... and anonymous reads are served from the cache again, new price.
  const again = await cachedRead(url);
  assert.equal(again.body.price, '12.50');
});

test('a stock adjustment by an admin shows at once; the product stays cached', async () => {
  const created = await call(`${API}/products`, {
    method: 'POST', headers: admin,
    body: { sku: `CACHE-S-${RUN}`, name: `Cache stock ${RUN}`, description: 'cache coherence',
      category_id: categoryId, price: '3.00', currency: 'USD', stock: 2, status: 'active' },
  });
  assert.equal(created.status, 201, created.text);
  const url = `${API}/products/${created.body.id}`;
  const first = await cachedRead(url);
  assert.equal(first.body.stock, 2);
  const adj = await call(`${url}/inventory-adjustments`, {
    method: 'POST', headers: admin, body: { delta: 7, reason: 'restock' },
  });
  assert.equal(adj.status, 201, adj.text);
  const after = await eventually(async () => {
    const r = await call(url);
    return r.status === 200 && r.body.stock === 9 ? r : null;
  }, 10000, 10);
  assert.equal(after.body.stock, 9);
  const again = await cachedRead(url);
  assert.equal(again.body.stock, 9);
});
