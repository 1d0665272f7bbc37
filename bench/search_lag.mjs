// search_lag.mjs - how long a catalog change takes to become searchable:
// creates products with a distinctive name through the gateway (admin), and
// for each polls GET /search?q=<name> until it is found; the lag is from the
// creation's answer to the first search that finds it. Then archives them.
// Prints one line: SEARCH_LAG n=.. p50_ms=.. p99_ms=.. max_ms=..
// usage: node bench/search_lag.mjs BASE_URL [COUNT]
// (admin from SHOPSPHERE_ADMIN_EMAIL / SHOPSPHERE_ADMIN_PASSWORD)
import { apiClient, adminHeaders } from './lib.mjs';

const json = apiClient(process.argv[2] ?? 'http://127.0.0.1:8080');
const count = Number(process.argv[3] ?? 50);
const admin = await adminHeaders(json, 'search_lag');
const cats = await json('/categories');
const category = cats.body.items[0]?.id;
if (!category) { console.error('search_lag: the catalog has no category'); process.exit(1); }

const run = Date.now().toString(36);
const letters = 'bcdfghjklmnpqrstvwxz';
const word = (i) => {
  let h = (Date.now() * 7919 + i * 104729) >>> 0, w = '';
  for (let k = 0; k < 10; k++) { w += k % 2 ? 'aeiou'[h % 5] : letters[h % 20]; h = Math.imul(h ^ (k + 13), 2654435761) >>> 0; }
  return w;
};
const lags = [];
const made = [];
for (let i = 0; i < count; i++) {
  const name = word(i);
  const created = await json('/products', {
    method: 'POST', headers: admin,
    body: JSON.stringify({ sku: `LAG-${run}-${i}`.toUpperCase(), name: `${name} lag probe`, category_id: category, price: '1.00', currency: 'USD', stock: 1 }),
  });
  if (created.status !== 201) { console.error(`search_lag: create failed (${created.status})`); process.exit(1); }
  const t0 = performance.now();
  made.push(created.body.id);
  for (;;) {
    const r = await json(`/search?q=${name}&limit=1`);
    if (r.status === 200 && r.body.total > 0) break;
    if (performance.now() - t0 > 30000) { console.error(`search_lag: ${name} not found in 30 s`); process.exit(1); }
    await new Promise((res) => setTimeout(res, 2));
  }
  lags.push(performance.now() - t0);
}
for (const id of made) await json(`/products/${id}`, { method: 'DELETE', headers: admin });
lags.sort((a, b) => a - b);
const q = (p) => lags[Math.min(lags.length - 1, Math.ceil((p / 100) * lags.length) - 1)];
console.log(`SEARCH_LAG n=${lags.length} p50_ms=${q(50).toFixed(1)} p99_ms=${q(99).toFixed(1)} max_ms=${lags.at(-1).toFixed(1)}`);
