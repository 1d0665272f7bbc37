// edit_lag.mjs - how long an admin's price change takes to show through the
// gateway while reads are cached (issue 16, bar: p99 < 100 ms): creates a
// product, reads it anonymously until the edge cache serves it (X-Cache:
// HIT), changes its price, and polls the same URL until the new price shows;
// the lag is from the PATCH's answer to the first read with the new price.
// Repeats COUNT times, then archives the product.
// Prints one line: EDIT_LAG n=.. p50_ms=.. p99_ms=.. max_ms=..
// usage: node bench/edit_lag.mjs BASE_URL [COUNT]
// (admin from SHOPSPHERE_ADMIN_EMAIL / SHOPSPHERE_ADMIN_PASSWORD)
import { apiClient, adminHeaders } from './lib.mjs';

const json = apiClient(process.argv[2] ?? 'http://127.0.0.1:8080');
const count = Number(process.argv[3] ?? 50);
const fail = (why) => { console.error(`edit_lag: ${why}`); process.exit(1); };
const admin = await adminHeaders(json, 'edit_lag');
const cats = await json('/categories');
const category = cats.body.items[0]?.id;
if (!category) fail('the catalog has no category');

const created = await json('/products', {
  method: 'POST', headers: admin,
  body: JSON.stringify({ sku: `EDIT-LAG-${Date.now().toString(36)}`.toUpperCase(), name: 'edit lag probe',
    category_id: category, price: '1.00', currency: 'USD', stock: 1 }),
});
if (created.status !== 201) fail(`create failed (${created.status})`);
const path = `/products/${created.body.id}`;
const lags = [];
for (let i = 0; i < count; i++) {
  // Cached first: the edit must get through a warm cache, not a cold one.
  const warmed = performance.now();
  while ((await json(path)).cache !== 'HIT') {
    if (performance.now() - warmed > 10000) fail('the product is never served from the edge cache');
  }
  const price = `${2 + i}.00`;
  const patched = await json(path, { method: 'PATCH', headers: admin, body: JSON.stringify({ price }) });
  if (patched.status !== 200) fail(`price change failed (${patched.status})`);
  const t0 = performance.now();
  for (;;) {
    const r = await json(path);
    if (r.status === 200 && r.body.price === price) break;
    if (performance.now() - t0 > 10000) fail(`price ${price} not visible in 10 s`);
  }
  lags.push(performance.now() - t0);
}
await json(path, { method: 'DELETE', headers: admin });
lags.sort((a, b) => a - b);
const q = (p) => lags[Math.min(lags.length - 1, Math.ceil((p / 100) * lags.length) - 1)];
console.log(`EDIT_LAG n=${lags.length} p50_ms=${q(50).toFixed(1)} p99_ms=${q(99).toFixed(1)} max_ms=${lags.at(-1).toFixed(1)}`);
