// admin.test.mjs - admin reports and the audit log through the gateway
// (DESIGN §5 Admin reports; docs/admin.md, docs/audit.md): orders placed,
// cancelled and refunded here are reconciled to the cent against the sales
// report (JSON and CSV), top products and the dashboard; low stock follows
// the inventory; every admin write lands in the audit log with its actor,
// before/after and the request's trace id; bad parameters get 422.
// Every test creates its own products and buyers.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { API, assertEnvelope, call, eventually } from './lib.mjs';

const RUN = randomUUID().slice(0, 8);
let admin; // {token, id, email}
let categoryId;
let seq = 0;

const auth = (token) => ({ authorization: `Bearer ${token}` });
const ADDRESS = {
  first_name: 'Ada', last_name: 'Lovelace', line1: '1 Market St', city: 'San Francisco',
  state: 'CA', postal_code: '94105', country: 'US', phone: '+14155550100',
};

// Decimal string <-> minor units (every test product is USD).
const cents = (s) => {
  const neg = s.startsWith('-');
  const [i, f = ''] = (neg ? s.slice(1) : s).split('.');
  const v = Number(i) * 100 + Number((f + '00').slice(0, 2));
  return neg ? -v : v;
};
const money = (c) => `${c < 0 ? '-' : ''}${Math.floor(Math.abs(c) / 100)}.${String(Math.abs(c) % 100).padStart(2, '0')}`;
// gross / orders rounded half-up, in cents.
const average = (gross, orders) => (orders === 0 ? 0 : Math.floor((2 * gross + orders) / (2 * orders)));
const dayOf = (iso) => `${iso.slice(0, 10)}T00:00:00.000Z`;

async function login(email, password) {
  const r = await call(`${API}/auth/login`, { method: 'POST', body: { email, password } });
  assert.equal(r.status, 200, `login ${email}: ${r.text}`);
  return r.body;
}

async function newBuyer() {
  const n = `${RUN}-${++seq}`;
  const email = `adm-buyer-${n}@example.com`;
  const password = `Secret-${n}-pass!`;
  const r = await call(`${API}/users`, {
    method: 'POST',
    body: { email, password, username: `admb_${n}`.replace(/-/g, '_'), first_name: 'Buyer', last_name: n },
  });
  assert.equal(r.status, 201, `register: ${r.text}`);
  return { id: r.body.id, token: (await login(email, password)).access_token };
}

async function newProduct({ price = '19.99', stock = 20 } = {}) {
  const n = `${RUN}-${++seq}`;
  const r = await call(`${API}/products`, {
    method: 'POST', headers: auth(admin.token),
    body: { sku: `ADM-${n}`, name: `Admin report ${n}`, description: 'test', category_id: categoryId,
      price, currency: 'USD', stock, status: 'active' },
  });
  assert.equal(r.status, 201, `create product: ${r.text}`);
  return r.body;
}

async function placeOrder(buyer, lines) {
  const c = await call(`${API}/carts`, { method: 'POST', headers: auth(buyer.token), body: {} });
  assert.equal(c.status, 201, `create cart: ${c.text}`);
  for (const [productId, quantity] of lines) {
    const r = await call(`${API}/carts/${c.body.id}/items`, {
      method: 'POST', headers: auth(buyer.token), body: { product_id: productId, quantity },
    });
    assert.equal(r.status, 201, `add item: ${r.text}`);
  }
  const r = await call(`${API}/orders`, {
    method: 'POST', headers: { ...auth(buyer.token), 'idempotency-key': randomUUID() },
    body: { cart_id: c.body.id, shipping_address: ADDRESS, shipping_method: 'standard',
      payment_method: { type: 'card', token: 'tok_visa' } },
  });
  assert.equal(r.status, 201, `checkout: ${r.text}`);
  assert.equal(r.body.status, 'confirmed');
  return r.body;
}

const adminGet = (path) => call(`${API}${path}`, { headers: auth(admin.token) });
const orderNow = async (id) => {
  const r = await adminGet(`/orders/${id}`);
  assert.equal(r.status, 200, r.text);
  return r.body;
};

before(async () => {
  const email = process.env.SHOPSPHERE_ADMIN_EMAIL;
  const password = process.env.SHOPSPHERE_ADMIN_PASSWORD;
  assert.ok(email && password, 'SHOPSPHERE_ADMIN_EMAIL / _PASSWORD must be set (scripts/profile.sh)');
  // At most 9 attempts: 10 failed logins would lock the account for a while.
  const body = await eventually(async () => {
    const r = await call(`${API}/auth/login`, { method: 'POST', body: { email, password } });
    return r.status === 200 ? r.body : null;
  }, 40000, 4500);
  admin = { token: body.access_token, id: body.user.id, email: email.toLowerCase() };
  const c = await call(`${API}/categories`, {
    method: 'POST', headers: auth(admin.token), body: { name: `Admin ${RUN}`, slug: `admin-${RUN}` },
  });
  assert.equal(c.status, 201, `create category: ${c.text}`);
  categoryId = c.body.id;
});

test('reports reconcile to the cent with confirmed, cancelled and refunded orders', async () => {
  const baseline = await adminGet('/admin/reports/dashboard');
  assert.equal(baseline.status, 200, baseline.text);
  const from = new Date(Date.now() - 2000).toISOString();

  const a = await newProduct({ price: '19.99' });
  const b = await newProduct({ price: '0.35' });
  const onlyCancelled = await newProduct({ price: '7.77' });
  const buyer1 = await newBuyer();
  const buyer2 = await newBuyer();
  const o1 = await placeOrder(buyer1, [[a.id, 2], [b.id, 3]]);
  const o2 = await placeOrder(buyer2, [[b.id, 7]]);
  const o3 = await placeOrder(buyer1, [[a.id, 1]]);
  const o4 = await placeOrder(buyer2, [[onlyCancelled.id, 1], [b.id, 1]]);

  // An admin cancels o4 before shipping: it sells nothing.
  const cancel = await call(`${API}/orders/${o4.id}/cancel`, { method: 'POST', headers: auth(admin.token) });
  assert.equal(cancel.status, 200, cancel.text);
  assert.equal(cancel.body.status, 'cancelled');
  // o3 ships (the payment is captured), is delivered and partly refunded.
  const patch = (id, status) => call(`${API}/orders/${id}/status`, {
    method: 'PATCH', headers: auth(admin.token), body: { status },
  });
  const shipped = await patch(o3.id, 'shipped');
  assert.equal(shipped.status, 200, shipped.text);
  const delivered = await patch(o3.id, 'delivered');
  if (delivered.status !== 200) assertEnvelope(delivered, 409, 'CONFLICT'); // the courier was faster
  const refund = await call(`${API}/orders/${o3.id}/refund`, {
    method: 'POST', headers: { ...auth(admin.token), 'idempotency-key': randomUUID() }, body: { amount: '3.33' },
  });
  assert.equal(refund.status, 200, refund.text);
  const refundDay = dayOf(new Date().toISOString());
  const to = new Date(Date.now() + 3600 * 1000).toISOString();

  // What the orders' own answers say.
  const orders = await Promise.all([o1, o2, o3, o4].map((o) => orderNow(o.id)));
  const sold = orders.filter((o) => o.status !== 'cancelled');
  assert.equal(sold.length, 3);
  const expectBuckets = new Map();
  const bucket = (day) => {
    if (!expectBuckets.has(day)) expectBuckets.set(day, { orders: 0, gross: 0, refunds: 0 });
    return expectBuckets.get(day);
  };
  for (const o of sold) {
    const confirmed = o.status_history.find((h) => h.status === 'confirmed');
    const e = bucket(dayOf(confirmed.at));
    e.orders += 1;
    e.gross += cents(o.total);
  }
  let refunded = 0;
  for (const o of orders) refunded += cents(o.refunded_amount);
  assert.equal(refunded, 333);
  bucket(refundDay).refunds += refunded;
  const totals = { orders: 0, gross: 0, refunds: 0 };
  for (const e of expectBuckets.values()) {
    totals.orders += e.orders;
    totals.gross += e.gross;
    totals.refunds += e.refunds;
  }
  const figures = (e) => ({
    orders: e.orders, gross: money(e.gross), refunds: money(e.refunds),
    net: money(e.gross - e.refunds), average_order: money(average(e.gross, e.orders)),
  });

  const q = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
  const report = await eventually(async () => {
    const r = await adminGet(`/admin/reports/sales?${q}&granularity=day`);
    assert.equal(r.status, 200, r.text);
    return JSON.stringify(r.body.totals) === JSON.stringify(figures(totals)) ? r.body : null;
  }, 20000, 200);
  assert.equal(report.currency, 'USD');
  assert.equal(report.granularity, 'day');
  for (const b of report.buckets) {
    const e = expectBuckets.get(b.start) ?? { orders: 0, gross: 0, refunds: 0 };
    assert.deepEqual(b, { start: b.start, ...figures(e) }, `bucket ${b.start}`);
  }
  for (const day of expectBuckets.keys()) assert.ok(report.buckets.some((b) => b.start === day), `bucket ${day}`);

  // Weeks and months add up to the same totals.
  for (const g of ['week', 'month']) {
    const r = await adminGet(`/admin/reports/sales?${q}&granularity=${g}&currency=usd`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.totals, figures(totals), g);
    assert.ok(r.body.buckets.length >= 1);
  }

  // The CSV says what the JSON says.
  const csv = await adminGet(`/admin/reports/sales.csv?${q}&granularity=day`);
  assert.equal(csv.status, 200, csv.text);
  assert.match(csv.headers.get('content-type'), /^text\/csv/);
  const rows = csv.text.trim().split(/\r?\n/);
  assert.equal(rows[0], 'start,orders,gross,refunds,net,average_order');
  assert.deepEqual(rows.slice(1), report.buckets.map((b) =>
    [b.start, b.orders, b.gross, b.refunds, b.net, b.average_order].join(',')));

  // Top products: units and units x unit price of the orders not cancelled.
  const expectTop = new Map();
  for (const o of sold) {
    for (const it of o.items) {
      const t = expectTop.get(it.product_id) ?? { units: 0, revenue: 0, name: it.name };
      t.units += it.quantity;
      t.revenue += it.quantity * cents(it.unit_price);
      expectTop.set(it.product_id, t);
    }
  }
  const top = await adminGet(`/admin/reports/top-products?${q}&limit=100`);
  assert.equal(top.status, 200, top.text);
  const mine = top.body.items.filter((i) => [a.id, b.id, onlyCancelled.id].includes(i.product_id));
  assert.deepEqual(mine.map((i) => ({ ...i })).sort((x, y) => x.product_id.localeCompare(y.product_id)),
    [...expectTop.entries()].map(([id, t]) => ({ product_id: id, name: t.name, units: t.units, revenue: money(t.revenue) }))
      .sort((x, y) => x.product_id.localeCompare(y.product_id)));
  assert.ok(!top.body.items.some((i) => i.product_id === onlyCancelled.id), 'a cancelled order sells nothing');
  // Sorted by units, most first.
  for (let i = 1; i < top.body.items.length; i++) assert.ok(top.body.items[i - 1].units >= top.body.items[i].units);
  const top1 = await adminGet(`/admin/reports/top-products?${q}&limit=1`);
  assert.equal(top1.body.items.length, 1);
  assert.equal(top1.body.items[0].product_id, b.id); // 3 + 7 units

  // The dashboard: today's orders and revenue and the orders by status moved
  // by exactly these orders (no other test runs meanwhile).
  const today = new Date().toISOString().slice(0, 10);
  const expectStatus = {};
  for (const o of orders) expectStatus[o.status] = (expectStatus[o.status] ?? 0) + 1;
  const dash = await eventually(async () => {
    const r = await adminGet('/admin/reports/dashboard');
    assert.equal(r.status, 200, r.text);
    for (const s of ['pending', 'confirmed', 'processing', 'shipped', 'delivered', 'cancelled', 'refunded']) {
      const delta = (r.body.orders_by_status[s] ?? 0) - (baseline.body.orders_by_status[s] ?? 0);
      if (delta !== (expectStatus[s] ?? 0)) return null;
    }
    return r.body;
  }, 20000, 200);
  if (baseline.body.last_24h.at(-1).hour.slice(0, 10) === today && dash.last_24h.at(-1).hour.slice(0, 10) === today) {
    assert.equal(dash.orders_today - baseline.body.orders_today, sold.length);
    assert.equal(cents(dash.revenue_today) - cents(baseline.body.revenue_today), totals.gross);
    assert.equal(dash.new_customers_today - baseline.body.new_customers_today, 2);
  }
  assert.equal(dash.currency, 'USD');
  assert.equal(dash.last_24h.length, 24);
  for (let i = 1; i < 24; i++) {
    assert.equal(Date.parse(dash.last_24h[i].hour) - Date.parse(dash.last_24h[i - 1].hour), 3600 * 1000);
  }
  const hourNow = new Date();
  hourNow.setUTCMinutes(0, 0, 0);
  assert.ok(Math.abs(Date.parse(dash.last_24h[23].hour) - hourNow.getTime()) <= 3600 * 1000);
  assert.equal(typeof dash.pending_reviews, 'number');

  // The admin's order writes are audited: the cancel, the moves and the refund.
  const log = await eventually(async () => {
    const r = await adminGet(`/admin/audit-log?target=${o3.id}`);
    assert.equal(r.status, 200, r.text);
    return r.body.items.some((e) => e.action === 'order.refund') ? r.body : null;
  }, 20000, 200);
  const refundEntry = log.items.find((e) => e.action === 'order.refund');
  assert.deepEqual(refundEntry.target, { type: 'order', id: o3.id });
  assert.equal(refundEntry.after.refund.amount, '3.33');
  assert.equal(refundEntry.after.refunded_amount, '3.33');
  assert.equal(refundEntry.before.refunded_amount, '0.00');
  assert.ok(log.items.some((e) => e.action === 'order.status' && e.after.status === 'shipped'));
  const cancelLog = await eventually(async () => {
    const r = await adminGet(`/admin/audit-log?target=${o4.id}`);
    return r.body.items.find((e) => e.action === 'order.cancel');
  }, 20000, 200);
  assert.deepEqual(cancelLog.before, { status: 'confirmed' });
  assert.equal(cancelLog.after.status, 'cancelled');
});

test("an admin's price change is in the audit log with before, after, actor and trace id", async () => {
  const p = await newProduct({ price: '19.99' });
  const trace = randomBytes(16).toString('hex');
  const r = await call(`${API}/products/${p.id}`, {
    method: 'PATCH',
    headers: { ...auth(admin.token), traceparent: `00-${trace}-00f067aa0ba902b7-01` },
    body: { price: '24.99' },
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.price, '24.99');
  const entry = await eventually(async () => {
    const l = await adminGet(`/admin/audit-log?target=${p.id}`);
    assert.equal(l.status, 200, l.text);
    return l.body.items.find((e) => e.action === 'product.update');
  }, 20000, 200);
  assert.deepEqual(entry.before, { price: '19.99' });
  assert.deepEqual(entry.after, { price: '24.99' });
  assert.deepEqual(entry.actor, { id: admin.id, email: admin.email, role: 'admin' });
  assert.deepEqual(entry.target, { type: 'product', id: p.id });
  assert.equal(entry.trace_id, trace);
  assert.match(entry.id, /^[0-9a-f-]{36}$/);
  assert.match(entry.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

  // The creation is there too, and the actor filter (by id or e-mail) finds it.
  const created = await eventually(async () => {
    const l = await adminGet(`/admin/audit-log?target=${p.id}&actor=${encodeURIComponent(admin.email)}`);
    return l.body.items.find((e) => e.action === 'product.create');
  }, 20000, 200);
  assert.equal(created.before, null);
  assert.equal(created.after.price, '19.99');
  const byId = await adminGet(`/admin/audit-log?actor=${admin.id}&target=${p.id}`);
  assert.equal(byId.body.items.length, 2);
  assert.equal(byId.body.items[0].action, 'product.update'); // newest first

  // Pages: one entry at a time, following next_cursor.
  const page1 = await adminGet(`/admin/audit-log?target=${p.id}&limit=1`);
  assert.equal(page1.body.items.length, 1);
  assert.ok(page1.body.next_cursor);
  const page2 = await adminGet(`/admin/audit-log?target=${p.id}&limit=1&cursor=${page1.body.next_cursor}`);
  assert.equal(page2.body.items.length, 1);
  assert.equal(page2.body.items[0].action, 'product.create');
  assert.equal(page2.body.next_cursor, null);
  // A role change by the admin is audited with the role before and after.
  const someone = await newBuyer();
  const promote = await call(`${API}/admin/users/${someone.id}`, {
    method: 'PATCH', headers: auth(admin.token), body: { role: 'moderator' },
  });
  assert.equal(promote.status, 200, promote.text);
  const roleEntry = await eventually(async () => {
    const l = await adminGet(`/admin/audit-log?target=${someone.id}`);
    return l.body.items.find((e) => e.action === 'user.update');
  }, 20000, 200);
  assert.deepEqual(roleEntry.before, { role: 'customer', status: 'active' });
  assert.deepEqual(roleEntry.after, { role: 'moderator', status: 'active' });
  assert.deepEqual(roleEntry.target, { type: 'user', id: someone.id });
  const nobody = await adminGet(`/admin/audit-log?actor=${encodeURIComponent("x' OR '1'='1")}`);
  assert.equal(nobody.status, 200, nobody.text);
  assert.deepEqual(nobody.body.items, []);
});

test('low stock lists active products at or under the threshold, following the inventory', async () => {
  const p = await newProduct({ stock: 2 });
  const listed = (body) => body.items.find((i) => i.product_id === p.id);
  const low = await eventually(async () => {
    const r = await adminGet('/admin/reports/low-stock?threshold=2&limit=100');
    assert.equal(r.status, 200, r.text);
    return listed(r.body);
  }, 20000, 200);
  assert.deepEqual(low, { product_id: p.id, sku: p.sku, name: p.name, stock: 2, available: 2 });
  const adj = await call(`${API}/products/${p.id}/inventory-adjustments`, {
    method: 'POST', headers: auth(admin.token), body: { delta: 10, reason: 'restock' },
  });
  assert.equal(adj.status, 201, adj.text);
  await eventually(async () => {
    const r = await adminGet('/admin/reports/low-stock?threshold=2&limit=100');
    return r.status === 200 && !listed(r.body);
  }, 20000, 200);
  const entry = await eventually(async () => {
    const l = await adminGet(`/admin/audit-log?target=${p.id}`);
    return l.body.items.find((e) => e.action === 'inventory.adjust');
  }, 20000, 200);
  assert.equal(entry.before.stock, 2);
  assert.equal(entry.after.stock, 12);
  assert.equal(entry.after.delta, 10);
});

test('reports are for admins only, and bad parameters are 422 naming the parameter', async () => {
  const buyer = await newBuyer();
  for (const path of ['/admin/reports/sales', '/admin/reports/dashboard', '/admin/reports/sales.csv',
    '/admin/reports/top-products', '/admin/reports/low-stock', '/admin/audit-log']) {
    assertEnvelope(await call(`${API}${path}`, { headers: auth(buyer.token) }), 403, 'AUTHORIZATION_ERROR');
    assertEnvelope(await call(`${API}${path}`), 401, 'AUTHENTICATION_ERROR');
  }
  const bad = [
    ['/admin/reports/sales?from=2026-13-01', 'from'],
    ['/admin/reports/sales?from=yesterday', 'from'],
    ['/admin/reports/sales?to=2026-02-30', 'to'],
    ['/admin/reports/sales?to=2026-12-03T25:00:00Z', 'to'],
    [`/admin/reports/sales?from=${encodeURIComponent("2026-01-01'; DROP TABLE x;--")}`, 'from'],
    ['/admin/reports/sales?from=2026-12-03&to=2026-12-01', 'to'],
    ['/admin/reports/sales?from=2026-12-03&to=2026-12-03', 'to'],
    ['/admin/reports/sales.csv?from=12%2F01%2F2026', 'from'],
    ['/admin/reports/sales?granularity=year', 'granularity'],
    ['/admin/reports/sales?from=2000-01-01&to=2026-01-01&granularity=day', 'from'],
    ['/admin/reports/sales?currency=XXQ', 'currency'],
    ['/admin/reports/sales?colour=red', 'colour'],
    ['/admin/reports/top-products?limit=0', 'limit'],
    ['/admin/reports/top-products?limit=99999999999999999999', 'limit'],
    ['/admin/reports/top-products?from=%FF', 'from'],
    ['/admin/reports/low-stock?threshold=-1', 'threshold'],
    ['/admin/reports/dashboard?from=2026-01-01', 'from'],
    ['/admin/audit-log?cursor=nope', 'cursor'],
    ['/admin/audit-log?limit=101', 'limit'],
  ];
  for (const [path, field] of bad) {
    const r = await adminGet(path);
    assertEnvelope(r, 422, 'VALIDATION_ERROR');
    assert.equal(r.body.error.details, field, `${path}: ${r.text}`);
  }
  // Dates and RFC 3339 times with offsets are both fine.
  const ok = await adminGet(`/admin/reports/sales?from=2026-01-01&to=${encodeURIComponent('2026-03-01T00:00:00+01:00')}&granularity=month`);
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual(ok.body.buckets.map((b) => b.start), ['2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z']);
  assert.equal(ok.body.to, '2026-02-28T23:00:00.000Z');
});
