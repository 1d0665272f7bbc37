// notification-lag.mjs - `make bench` driver: how long a new in-app
// notification takes to reach an open live stream (docs/notifications.md).
//
// Set-up (not measured): the demo admin creates a category and a product; a
// buyer signs up and opens GET /api/v1/notifications/stream through the
// gateway. Then, --orders times, one after another: cart, item, POST
// /orders; the lag is from the 201 of POST /orders to the arrival of the
// frame naming that order on the stream (outbox → RabbitMQ → consumer →
// sender → Redis → stream → gateway). Prints one line per run:
//   NOTIFY_RESULT samples=N lag_p50_ms=X lag_p99_ms=Y lag_max_ms=Z errors=E
import { randomUUID } from 'node:crypto';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const BASE = arg('base', 'http://127.0.0.1:8080');
const ORDERS = Number(arg('orders', '50'));
const RUNS = Number(arg('runs', '3'));
const TAG = randomUUID().slice(0, 8);
const API = `${BASE}/api/v1`;

async function req(method, path, token, body, headers = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  if (body !== undefined && body !== null) h['content-type'] = 'application/json';
  const r = await fetch(`${API}${path}`, { method, headers: h, body: body ? JSON.stringify(body) : undefined });
  const text = await r.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: r.status, body: json, text };
}
function must(r, status, what) {
  if (r.status !== status) throw new Error(`${what}: ${r.status} ${r.text.slice(0, 200)}`);
  return r.body;
}
const pct = (xs, p) => {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

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
  const cat = must(await req('POST', '/categories', admin, { name: `Lag ${TAG}`, slug: `lag-${TAG}` }), 201, 'category');
  const p = must(await req('POST', '/products', admin, {
    sku: `LAG-${TAG}`, name: 'Lag probe', description: 'bench', category_id: cat.id,
    price: '9.99', currency: 'USD', stock: 1000000, status: 'active',
  }), 201, 'product');
  const cred = { email: `lag-${TAG}@example.com`, password: `Lag-${TAG}-pass!` };
  must(await req('POST', '/users', null, { ...cred, username: `lag_${TAG}`, first_name: 'Lag', last_name: 'Probe' }), 201, 'register');
  const t = must(await req('POST', '/auth/login', null, cred), 200, 'login');
  return { token: t.access_token, product: p.id };
}

// Opens the stream; calls onFrame(text, arrivalMs) per frame.
async function openStream(token, onFrame) {
  const controller = new AbortController();
  const res = await fetch(`${API}/notifications/stream`, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: controller.signal,
  });
  if (res.status !== 200) throw new Error(`stream: ${res.status}`);
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  const done = (async () => {
    try {
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end) break;
        const now = performance.now();
        buf += dec.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          onFrame(buf.slice(0, i), now);
          buf = buf.slice(i + 2);
        }
      }
    } catch { /* aborted */ }
  })();
  return { close: async () => { controller.abort(); await done; } };
}

const ADDRESS = { first_name: 'Lag', last_name: 'Probe', line1: '1 Main St', city: 'Austin', state: 'TX', postal_code: '73301', country: 'US' };

async function main() {
  const buyer = await setup();
  const arrivals = new Map(); // order id -> arrival ms
  const waiters = new Map();
  const stream = await openStream(buyer.token, (frame, at) => {
    const m = /"order_id":\s*"([0-9a-f-]{36})"/.exec(frame);
    if (!m || !frame.includes('event: notification')) return;
    arrivals.set(m[1], at);
    const w = waiters.get(m[1]);
    if (w) w();
  });
  try {
    for (let run = 1; run <= RUNS; run++) {
      const lags = [];
      let errors = 0;
      for (let i = 0; i < ORDERS; i++) {
        const c = await req('POST', '/carts', buyer.token, {});
        const a = c.status === 201
          ? await req('POST', `/carts/${c.body.id}/items`, buyer.token, { product_id: buyer.product, quantity: 1 })
          : c;
        if (a.status !== 201) { errors++; if (errors === 1) console.error(`cart: ${a.status} ${a.text.slice(0, 200)}`); continue; }
        const o = await req('POST', '/orders', buyer.token, {
          cart_id: c.body.id, shipping_address: ADDRESS, shipping_method: 'standard',
          payment_method: { type: 'card', token: 'tok_visa' },
        }, { 'idempotency-key': randomUUID() });
        const placed = performance.now();
        if (o.status !== 201) { errors++; if (errors === 1) console.error(`order: ${o.status} ${o.text.slice(0, 200)}`); continue; }
        const id = o.body.id;
        if (!arrivals.has(id)) {
          const ok = await new Promise((resolve) => {
            const timer = setTimeout(() => resolve(false), 10000);
            waiters.set(id, () => { clearTimeout(timer); resolve(true); });
          });
          waiters.delete(id);
          if (!ok) { errors++; continue; }
        }
        lags.push(Math.max(0, arrivals.get(id) - placed));
      }
      console.log(`NOTIFY_RESULT samples=${lags.length} lag_p50_ms=${pct(lags, 50).toFixed(1)} `
        + `lag_p99_ms=${pct(lags, 99).toFixed(1)} lag_max_ms=${Math.max(0, ...lags).toFixed(1)} errors=${errors}`);
    }
  } finally {
    await stream.close();
  }
}

main().catch((e) => { console.error(e.message); process.exit(1); });
