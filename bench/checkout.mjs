#!/usr/bin/env node
// checkout.mjs - load driver for complete checkouts through the gateway
// (DESIGN §8 "complete checkout", docs/checkout.md). Used by scripts/bench.sh
// (checkout_rows); runnable alone against any platform:
//
//   node bench/checkout.mjs --base http://127.0.0.1:8080 --buyers 64 \
//        --duration 10s --warmup 2s --runs 3
//
// Set-up (not measured): logs in as the demo admin (SHOPSPHERE_ADMIN_EMAIL /
// SHOPSPHERE_ADMIN_PASSWORD), creates a category and 16 products with ample
// stock, registers and signs in one customer per buyer. Then each buyer loops
// for the duration: POST /carts, POST /carts/{id}/items, POST /orders (a new
// Idempotency-Key each time). Per run it prints one line
//   CHECKOUT_RESULT orders=N seconds=S orders_per_s=R errors=E
//     flow_p50_ms= flow_p95_ms= flow_p99_ms= cart_p50_ms= ... checkout_p99_ms=
// where flow is the three steps of one checkout and errors counts answers
// other than 201. Latencies are measured on the client, so they include the
// gateway and the load generator's own share of the CPUs.
import { randomUUID } from 'node:crypto';

function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
}
function ms(spec) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(spec);
  if (!m) throw new Error(`bad duration '${spec}'`);
  return Number(m[1]) * ({ ms: 1, s: 1000, m: 60000 }[m[2] ?? 's']);
}

const BASE = arg('base', process.env.SHOPSPHERE_TEST_BASE_URL ?? 'http://127.0.0.1:8080');
const API = `${BASE}/api/v1`;
const BUYERS = Number(arg('buyers', '16'));
const DURATION = ms(arg('duration', '10s'));
const WARMUP = ms(arg('warmup', '2s'));
const RUNS = Number(arg('runs', '1'));
const PRODUCTS = 16;
const TAG = randomUUID().slice(0, 8);

async function req(method, path, token, body, headers = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  if (body !== undefined) h['content-type'] = 'application/json';
  const res = await fetch(`${API}${path}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, body: json, text };
}

function must(r, status, what) {
  if (r.status !== status) throw new Error(`${what}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
  return r.body;
}

async function setup() {
  const email = process.env.SHOPSPHERE_ADMIN_EMAIL;
  const password = process.env.SHOPSPHERE_ADMIN_PASSWORD;
  if (!email || !password) throw new Error('SHOPSPHERE_ADMIN_EMAIL / _PASSWORD are not set');
  let admin;
  for (let i = 0; i < 30 && !admin; i++) {
    const r = await req('POST', '/auth/login', null, { email, password });
    if (r.status === 200) admin = r.body.access_token;
    else await new Promise((ok) => setTimeout(ok, 1000));
  }
  if (!admin) throw new Error('the demo admin cannot log in');
  const cat = must(await req('POST', '/categories', admin, { name: `Bench ${TAG}`, slug: `bench-${TAG}` }), 201, 'category');
  const products = [];
  for (let i = 0; i < PRODUCTS; i++) {
    const p = must(await req('POST', '/products', admin, {
      sku: `BENCH-${TAG}-${i}`, name: `Bench product ${i}`, description: 'load test', category_id: cat.id,
      price: `${10 + i}.99`, currency: 'USD', stock: 1000000, status: 'active',
    }), 201, 'product');
    products.push(p.id);
  }
  const buyers = [];
  for (let i = 0; i < BUYERS; i += 8) {
    buyers.push(...await Promise.all(Array.from({ length: Math.min(8, BUYERS - i) }, async (_, j) => {
      const n = `${TAG}-${i + j}`;
      const cred = { email: `bench-${n}@example.com`, password: `Bench-${n}-pass!` };
      must(await req('POST', '/users', null, { ...cred, username: `bench_${n}`.replace(/-/g, '_'), first_name: 'Bench', last_name: n }), 201, 'register');
      const t = must(await req('POST', '/auth/login', null, cred), 200, 'login');
      return { token: t.access_token, product: products[(i + j) % PRODUCTS] };
    })));
  }
  return buyers;
}

const ADDRESS = { first_name: 'Load', last_name: 'Test', line1: '1 Main St', city: 'Austin', state: 'TX', postal_code: '73301', country: 'US' };

// One buyer's loop until `until`; pushes samples into `s`.
async function buyer(b, until, s) {
  while (Date.now() < until) {
    const t0 = performance.now();
    const c = await req('POST', '/carts', b.token, {});
    const t1 = performance.now();
    if (c.status !== 201) { s.errors++; continue; }
    const a = await req('POST', `/carts/${c.body.id}/items`, b.token, { product_id: b.product, quantity: 1 });
    const t2 = performance.now();
    if (a.status !== 201) { s.errors++; continue; }
    const o = await req('POST', '/orders', b.token, {
      cart_id: c.body.id, shipping_address: ADDRESS, shipping_method: 'standard',
      payment_method: { type: 'card', token: 'tok_visa' },
    }, { 'idempotency-key': randomUUID() });
    const t3 = performance.now();
    if (o.status !== 201) { s.errors++; continue; }
    s.cart.push(t1 - t0); s.item.push(t2 - t1); s.checkout.push(t3 - t2); s.flow.push(t3 - t0);
  }
}

function pct(values, p) {
  if (values.length === 0) return 0;
  const v = [...values].sort((x, y) => x - y);
  return v[Math.min(v.length - 1, Math.ceil((p / 100) * v.length) - 1)];
}

async function run(buyers, durationMs) {
  const s = { cart: [], item: [], checkout: [], flow: [], errors: 0 };
  const start = performance.now();
  const until = Date.now() + durationMs;
  await Promise.all(buyers.map((b) => buyer(b, until, s).catch(() => { s.errors++; })));
  const seconds = (performance.now() - start) / 1000;
  return { s, seconds };
}

const f = (x) => x.toFixed(2);
const buyers = await setup();
if (WARMUP > 0) await run(buyers, WARMUP);
for (let r = 0; r < RUNS; r++) {
  const { s, seconds } = await run(buyers, DURATION);
  const parts = [`orders=${s.flow.length}`, `seconds=${f(seconds)}`,
    `orders_per_s=${f(s.flow.length / seconds)}`, `errors=${s.errors}`];
  for (const [name, v] of Object.entries({ flow: s.flow, cart: s.cart, item: s.item, checkout: s.checkout })) {
    parts.push(`${name}_p50_ms=${f(pct(v, 50))}`, `${name}_p95_ms=${f(pct(v, 95))}`, `${name}_p99_ms=${f(pct(v, 99))}`);
  }
  console.log(`CHECKOUT_RESULT ${parts.join(' ')}`);
}
