// checkout.test.mjs - the checkout saga and orders through the gateway
// (DESIGN §5 Checkout & orders, §7; docs/checkout.md): a confirmed order
// with correct totals, idempotent retries, declines, a race for the last
// units, a crash in the middle of the saga, the state machine and refunds.
// Every test creates its own products and buyers.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { API, assertEnvelope, call, eventually, serviceUrl, sleep } from './lib.mjs';

const RUN = randomUUID().slice(0, 8);
let admin; // access token of the demo admin
let categoryId;
let seq = 0;

const auth = (token) => ({ authorization: `Bearer ${token}` });

const ADDRESS = {
  first_name: 'Ada', last_name: 'Lovelace', line1: '1 Market St', city: 'San Francisco',
  state: 'CA', postal_code: '94105', country: 'US', phone: '+14155550100',
};

// Decimal string → minor units (two decimals: every test product is USD).
const cents = (s) => {
  const [i, f = ''] = s.split('.');
  return Number(i) * 100 + Number((f + '00').slice(0, 2));
};

async function login(email, password) {
  const r = await call(`${API}/auth/login`, { method: 'POST', body: { email, password } });
  assert.equal(r.status, 200, `login ${email}: ${r.text}`);
  return r.body.access_token;
}

async function newBuyer() {
  const n = `${RUN}-${++seq}`;
  const email = `buyer-${n}@example.com`;
  const password = `Secret-${n}-pass!`;
  const r = await call(`${API}/users`, {
    method: 'POST',
    body: { email, password, username: `buyer_${n}`.replace(/-/g, '_'), first_name: 'Buyer', last_name: n, phone: '+15555550100' },
  });
  assert.equal(r.status, 201, `register: ${r.text}`);
  return { id: r.body.id, token: await login(email, password) };
}

async function newProduct({ price = '19.99', stock = 10 } = {}) {
  const n = `${RUN}-${++seq}`;
  const r = await call(`${API}/products`, {
    method: 'POST', headers: auth(admin),
    body: { sku: `CHK-${n}`, name: `Checkout test ${n}`, description: 'test', category_id: categoryId,
      price, currency: 'USD', stock, status: 'active' },
  });
  assert.equal(r.status, 201, `create product: ${r.text}`);
  return r.body;
}

// Reads the product as the admin (signed-in answers are never edge-cached).
async function product(id) {
  const r = await call(`${API}/products/${id}`, { headers: auth(admin) });
  assert.equal(r.status, 200, r.text);
  return r.body;
}

async function cartWith(token, lines) {
  const c = await call(`${API}/carts`, { method: 'POST', headers: auth(token), body: {} });
  assert.equal(c.status, 201, `create cart: ${c.text}`);
  for (const [productId, quantity] of lines) {
    const r = await call(`${API}/carts/${c.body.id}/items`, {
      method: 'POST', headers: auth(token), body: { product_id: productId, quantity },
    });
    assert.equal(r.status, 201, `add item: ${r.text}`);
  }
  return c.body.id;
}

function checkoutBody(cartId, token = 'tok_visa', extra = {}) {
  return {
    cart_id: cartId, shipping_address: ADDRESS, shipping_method: 'standard',
    payment_method: { type: 'card', token }, ...extra,
  };
}

function placeOrder(token, key, body, headers = {}) {
  return call(`${API}/orders`, {
    method: 'POST', headers: { ...auth(token), 'idempotency-key': key, ...headers }, body,
  });
}

// Retries a checkout with the same key while the answer is a 5xx or a 409
// "still in progress": the key makes retrying safe, which is its point.
async function placeOrderUntilFinal(token, key, body, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let r;
    try { r = await placeOrder(token, key, body); } catch (e) { r = { status: 599, text: String(e) }; }
    const inProgress = r.status === 409 && /in progress/.test(r.body?.error?.message ?? '');
    if (r.status < 500 && !inProgress) return r;
    if (Date.now() > deadline) return r;
    await sleep(300);
  }
}

// The events the platform published since `since` (RFC 3339) of a type, as
// the event log keeps them (`shopsphere events log`).
function loggedEvents(since, type) {
  const pid = readFileSync(`${process.env.SHOPSPHERE_VAR_DIR}/platform.pid`, 'utf8').trim();
  const r = spawnSync(readlinkSync(`/proc/${pid}/exe`), ['events', 'log', '--since', since, '--type', type], {
    encoding: 'utf8', env: process.env, timeout: 60000,
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

function assertTotals(order) {
  // `shipping` is the seed's name; `shipping_cost` its deprecated alias.
  assert.equal(order.shipping_cost, order.shipping);
  const expected = cents(order.subtotal) + cents(order.tax) + cents(order.shipping);
  assert.equal(cents(order.total), expected, `total ${order.total} = subtotal + tax + shipping`);
  let subtotal = 0;
  let tax = 0;
  for (const it of order.items) {
    subtotal += cents(it.subtotal);
    tax += cents(it.tax);
    assert.equal(cents(it.subtotal), cents(it.unit_price) * it.quantity);
    // Half-up per line in basis points.
    assert.equal(cents(it.tax), Math.floor((cents(it.subtotal) * order.tax_rate_bp + 5000) / 10000));
  }
  assert.equal(cents(order.subtotal), subtotal);
  assert.equal(cents(order.tax), tax);
}

async function orderAs(token, id) {
  return call(`${API}/orders/${id}`, { headers: auth(token) });
}

before(async () => {
  const email = process.env.SHOPSPHERE_ADMIN_EMAIL;
  const password = process.env.SHOPSPHERE_ADMIN_PASSWORD;
  assert.ok(email && password, 'SHOPSPHERE_ADMIN_EMAIL / _PASSWORD must be set (scripts/profile.sh)');
  // At most 9 attempts: 10 failed logins would lock the account for a while.
  admin = await eventually(async () => {
    const r = await call(`${API}/auth/login`, { method: 'POST', body: { email, password } });
    return r.status === 200 ? r.body.access_token : null;
  }, 40000, 4500);
  const c = await call(`${API}/categories`, {
    method: 'POST', headers: auth(admin), body: { name: `Checkout ${RUN}`, slug: `checkout-${RUN}` },
  });
  assert.equal(c.status, 201, `create category: ${c.text}`);
  categoryId = c.body.id;
});

test('register, cart, checkout: a confirmed order, the cart emptied, the stock taken', async () => {
  const p = await newProduct({ price: '19.99', stock: 5 });
  const q = await newProduct({ price: '0.10', stock: 50 });
  const buyer = await newBuyer();
  const cartId = await cartWith(buyer.token, [[p.id, 2], [q.id, 3]]);

  const since = new Date(Date.now() - 2000).toISOString();
  const r = await placeOrder(buyer.token, randomUUID(), checkoutBody(cartId));
  assert.equal(r.status, 201, r.text);
  const order = r.body;
  assert.equal(order.status, 'confirmed');
  // The seed's Order model: shipping, billing address and the card paid
  // with (brand and last four digits, never the token).
  assert.match(order.shipping, /^\d+\.\d\d$/);
  assert.deepEqual(order.payment_method, { type: 'card', brand: 'visa', last4: '4242' });
  assert.deepEqual(order.shipping_address, ADDRESS);
  assert.ok(order.billing_address && order.billing_address.line1, 'billing address');
  for (const f of ['subtotal', 'tax', 'shipping', 'total', 'currency', 'shipping_address', 'billing_address',
    'payment_method', 'items', 'status', 'created_at', 'updated_at']) {
    assert.ok(f in order, `order.${f}`);
  }
  assert.ok(!r.text.includes('tok_visa'), 'the token never comes back');
  assert.equal(order.user_id, buyer.id);
  assert.equal(order.currency, 'USD');
  assert.equal(order.items.length, 2);
  assert.equal(order.tax_rate_bp, 725); // US-CA in the tax rules
  assert.equal(order.subtotal, '40.28');
  assert.equal(order.tax, '2.92'); // 2.89855 -> 2.90 and 0.02175 -> 0.02, per line
  assert.ok(cents(order.shipping_cost) >= 0);
  assertTotals(order);
  assert.ok(order.payment_id);
  assert.deepEqual(order.status_history.map((h) => h.status), ['pending', 'confirmed']);
  for (const h of order.status_history) assert.match(h.at, /^\d{4}-\d\d-\d\dT/);

  const cart = await call(`${API}/carts/${cartId}`, { headers: auth(buyer.token) });
  assert.equal(cart.status, 200, cart.text);
  assert.equal(cart.body.items.length, 0);
  assert.equal(cart.body.item_count, 0);

  assert.equal((await product(p.id)).stock, 3);
  assert.equal((await product(q.id)).stock, 47);

  const mine = await orderAs(buyer.token, order.id);
  assert.equal(mine.status, 200);
  assert.equal(mine.body.total, order.total);
  assert.equal(mine.body.shipping, order.shipping);
  assert.deepEqual(mine.body.payment_method, order.payment_method);
  const list = await call(`${API}/orders`, { headers: auth(buyer.token) });
  assert.equal(list.status, 200);
  assert.deepEqual(list.body.items.map((o) => o.id), [order.id]);
  assert.deepEqual(list.body.items[0].payment_method, order.payment_method);

  // order.created in the seed's envelope with the seed's OrderCreatedData,
  // and order.confirmed with the card; both name shipping twice (the
  // deprecated shipping_cost beside it).
  const [created, confirmed] = await eventually(() => {
    const mine = loggedEvents(since, 'order.*').filter((e) => e.aggregate_id === order.id);
    const c = mine.find((e) => e.event_type === 'order.created');
    const k = mine.find((e) => e.event_type === 'order.confirmed');
    return c && k ? [c, k] : null;
  }, 30000, 500);
  assert.deepEqual(Object.keys(created).sort(),
    ['aggregate_id', 'data', 'event_id', 'event_type', 'timestamp', 'trace_id', 'version']);
  assert.equal(created.event_type, 'order.created');
  const d = created.data;
  assert.equal(d.order_id, order.id);
  assert.equal(d.user_id, buyer.id);
  assert.equal(d.total, order.total);
  assert.equal(d.currency, 'USD');
  assert.deepEqual(d.shipping_address, ADDRESS);
  assert.equal(d.shipping, order.shipping);
  assert.equal(d.shipping_cost, order.shipping);
  assert.deepEqual(d.items.map((i) => [i.product_id, i.quantity, i.unit_price]),
    order.items.map((i) => [i.product_id, i.quantity, i.unit_price]));
  assert.deepEqual(confirmed.data.payment_method, { type: 'card', brand: 'visa', last4: '4242' });
  assert.ok(!JSON.stringify([created, confirmed]).includes('tok_visa'));
  assert.equal(list.body.next_cursor, null);

  const payments = await call(`${API}/payments?order_id=${order.id}`, { headers: auth(buyer.token) });
  assert.equal(payments.status, 200, payments.text);
  assert.equal(payments.body.items.length, 1);
  assert.equal(payments.body.items[0].status, 'authorized');
  assert.equal(payments.body.items[0].amount, order.total);
});

test('the order shows the brand and last four digits of the card it was paid with', async () => {
  const p = await newProduct({ price: '3.00', stock: 5 });
  const buyer = await newBuyer();
  const cartId = await cartWith(buyer.token, [[p.id, 1]]);
  const r = await placeOrder(buyer.token, randomUUID(), checkoutBody(cartId, 'tok_mastercard'));
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(r.body.payment_method, { type: 'card', brand: 'mastercard', last4: '4444' });
  assert.ok(!r.text.includes('tok_mastercard'));
});

test('five concurrent retries with one key make one order and one authorization', async () => {
  const p = await newProduct({ price: '5.00', stock: 20 });
  const buyer = await newBuyer();
  const cartId = await cartWith(buyer.token, [[p.id, 1]]);
  const key = randomUUID();
  const body = checkoutBody(cartId);
  const answers = await Promise.all(
    Array.from({ length: 5 }, () => placeOrderUntilFinal(buyer.token, key, body)));
  for (const a of answers) assert.equal(a.status, 201, a.text);
  const ids = new Set(answers.map((a) => a.body.id));
  assert.equal(ids.size, 1, 'every retry answers the same order');
  const [orderId] = ids;

  const list = await call(`${API}/orders`, { headers: auth(buyer.token) });
  assert.equal(list.body.items.length, 1);
  const payments = await call(`${API}/payments?order_id=${orderId}`, { headers: auth(buyer.token) });
  assert.equal(payments.body.items.length, 1, 'one authorization');
  assert.equal((await product(p.id)).stock, 19);

  // A later retry gets the first answer too; another body with the key is 409.
  const again = await placeOrder(buyer.token, key, body);
  assert.equal(again.status, 201);
  assert.equal(again.body.id, orderId);
  const other = await placeOrder(buyer.token, key, { ...body, shipping_method: 'express' });
  assertEnvelope(other, 409, 'CONFLICT');
});

test('a declined card is 402, the stock comes back and no order is confirmed', async () => {
  const p = await newProduct({ price: '12.00', stock: 4 });
  const buyer = await newBuyer();
  const cartId = await cartWith(buyer.token, [[p.id, 3]]);
  const r = await placeOrder(buyer.token, randomUUID(), checkoutBody(cartId, 'tok_chargeDeclined'));
  assertEnvelope(r, 402, 'PAYMENT_DECLINED');

  const after = await product(p.id);
  assert.equal(after.stock, 4);
  assert.equal(after.available, 4);
  const list = await call(`${API}/orders`, { headers: auth(buyer.token) });
  assert.equal(list.body.items.filter((o) => o.status === 'confirmed').length, 0);
  for (const o of list.body.items) {
    assert.equal(o.status, 'cancelled');
    assert.equal(o.payment_method, null, 'no card was charged');
  }
  // The cart is kept for another try.
  const cart = await call(`${API}/carts/${cartId}`, { headers: auth(buyer.token) });
  assert.equal(cart.body.items.length, 1);
});

test('a payment timeout is 504, the order is cancelled and the late authorization voided', async () => {
  const p = await newProduct({ price: '8.00', stock: 3 });
  const buyer = await newBuyer();
  const cartId = await cartWith(buyer.token, [[p.id, 1]]);
  // tok_timeout: the sandbox authorizes but its answer never arrives in time.
  const r = await placeOrder(buyer.token, randomUUID(), checkoutBody(cartId, 'tok_timeout'));
  assertEnvelope(r, 504, 'TIMEOUT_ERROR');
  const list = await call(`${API}/orders`, { headers: auth(buyer.token) });
  assert.equal(list.body.items.length, 1);
  assert.equal(list.body.items[0].status, 'cancelled');
  const after = await eventually(async () => {
    const a = await product(p.id);
    return a.available === 3 ? a : null;
  }, 30000, 500);
  assert.equal(after.stock, 3);
  // Once the payment service learns the outcome, the authorization is voided.
  const id = list.body.items[0].id;
  await eventually(async () => {
    const x = await call(`${API}/payments?order_id=${id}`, { headers: auth(buyer.token) });
    return x.body?.items?.length === 1 && ['voided', 'failed'].includes(x.body.items[0].status);
  }, 90000, 1000);
});

test('not enough stock is 409 and reserves nothing', async () => {
  const p = await newProduct({ price: '3.00', stock: 5 });
  const buyer = await newBuyer();
  const cartId = await cartWith(buyer.token, [[p.id, 5]]);
  // Someone else buys 3 of them first.
  const other = await newBuyer();
  const first = await placeOrder(other.token, randomUUID(), checkoutBody(await cartWith(other.token, [[p.id, 3]])));
  assert.equal(first.status, 201, first.text);
  const r = await placeOrder(buyer.token, randomUUID(), checkoutBody(cartId));
  assertEnvelope(r, 409, 'CONFLICT');
  const after = await product(p.id);
  assert.equal(after.stock, 2);
  assert.equal(after.available, 2);
});

test('50 buyers racing for the last 10 units make exactly 10 orders and stock 0', async () => {
  const p = await newProduct({ price: '9.99', stock: 10 });
  // Ten customers with five carts each: 50 checkouts of one unit at once.
  const buyers = await Promise.all(Array.from({ length: 10 }, () => newBuyer()));
  const jobs = [];
  for (const b of buyers) {
    for (let i = 0; i < 5; i++) jobs.push({ b, cartId: await cartWith(b.token, [[p.id, 1]]) });
  }
  const answers = await Promise.all(jobs.map(({ b, cartId }) =>
    placeOrderUntilFinal(b.token, randomUUID(), checkoutBody(cartId), 120000)));
  const statuses = answers.map((a) => a.status);
  assert.equal(statuses.filter((s) => s === 201).length, 10, `statuses: ${statuses.join(',')}`);
  assert.equal(statuses.filter((s) => s === 409).length, 40, `statuses: ${statuses.join(',')}`);
  const after = await product(p.id);
  assert.equal(after.stock, 0);
  assert.equal(after.available, 0);
});

async function orderServiceBack() {
  await eventually(async () => {
    const r = await call(`${serviceUrl('order')}/readyz`).catch(() => null);
    return r && r.status === 200;
  }, 60000, 250);
}

test('a crash between reservation and authorization ends cancelled, stock back', async () => {
  const p = await newProduct({ price: '7.50', stock: 6 });
  const buyer = await newBuyer();
  const cartId = await cartWith(buyer.token, [[p.id, 2]]);
  const key = randomUUID();
  const body = checkoutBody(cartId);
  // Test profiles only: the order process _exits right after the pending
  // order is stored, before the payment is authorized (docs/checkout.md).
  const r = await placeOrder(buyer.token, key, body, { 'x-fault-inject': 'after_order_created' })
    .catch((e) => ({ status: 599, text: String(e) }));
  assert.ok(r.status >= 500, `the order process died: ${r.status} ${r.text}`);
  await orderServiceBack();

  // The sweeper finds the orphaned saga and cancels it cleanly.
  const list = await eventually(async () => {
    const l = await call(`${API}/orders`, { headers: auth(buyer.token) });
    return l.status === 200 && l.body.items.length === 1 &&
      ['confirmed', 'cancelled'].includes(l.body.items[0].status) ? l : null;
  }, 60000, 500);
  const order = list.body.items[0];
  assert.equal(order.status, 'cancelled');
  const after = await eventually(async () => {
    const a = await product(p.id);
    return a.available === 6 ? a : null;
  }, 30000, 500);
  assert.equal(after.stock, 6);
  // The key now answers the recorded outcome.
  const again = await placeOrderUntilFinal(buyer.token, key, body);
  assertEnvelope(again, 409, 'CONFLICT');
  const payments = await call(`${API}/payments?order_id=${order.id}`, { headers: auth(buyer.token) });
  assert.equal(payments.body.items.filter((x) => x.status === 'authorized').length, 0);
});

test('a crash right after the reservation leaks nothing and a retry then succeeds', async () => {
  const p = await newProduct({ price: '4.25', stock: 3 });
  const buyer = await newBuyer();
  const cartId = await cartWith(buyer.token, [[p.id, 3]]);
  const key = randomUUID();
  const body = checkoutBody(cartId);
  const r = await placeOrder(buyer.token, key, body, { 'x-fault-inject': 'after_reserve' })
    .catch((e) => ({ status: 599, text: String(e) }));
  assert.ok(r.status >= 500, `the order process died: ${r.status} ${r.text}`);
  await orderServiceBack();
  // The reservation is released by the sweeper; no order was recorded.
  await eventually(async () => (await product(p.id)).available === 3, 60000, 500);
  const again = await placeOrderUntilFinal(buyer.token, key, body);
  assert.equal(again.status, 201, again.text);
  assert.equal(again.body.status, 'confirmed');
  assert.equal((await product(p.id)).stock, 0);
});

test('a crash after the authorization ends in a confirmed order', async () => {
  const p = await newProduct({ price: '6.00', stock: 5 });
  const buyer = await newBuyer();
  const cartId = await cartWith(buyer.token, [[p.id, 2]]);
  const key = randomUUID();
  const body = checkoutBody(cartId);
  const r = await placeOrder(buyer.token, key, body, { 'x-fault-inject': 'after_authorize' })
    .catch((e) => ({ status: 599, text: String(e) }));
  assert.ok(r.status >= 500, `the order process died: ${r.status} ${r.text}`);
  await orderServiceBack();
  // The sweeper finds the payment authorized and completes the saga.
  const again = await placeOrderUntilFinal(buyer.token, key, body);
  assert.equal(again.status, 201, again.text);
  assert.equal(again.body.status, 'confirmed');
  // Recovered from the payment service's record of the authorization.
  assert.deepEqual(again.body.payment_method, { type: 'card', brand: 'visa', last4: '4242' });
  assertTotals(again.body);
  const list = await call(`${API}/orders`, { headers: auth(buyer.token) });
  assert.deepEqual(list.body.items.map((o) => o.id), [again.body.id]);
  const after = await product(p.id);
  assert.equal(after.stock, 3);
  assert.equal(after.available, 3);
  const payments = await call(`${API}/payments?order_id=${again.body.id}`, { headers: auth(buyer.token) });
  assert.equal(payments.body.items.length, 1);
  assert.equal(payments.body.items[0].status, 'authorized');
});

test('a crash after the confirmation leaves no full cart: order.confirmed empties it', async () => {
  const p = await newProduct({ price: '4.00', stock: 5 });
  const buyer = await newBuyer();
  const cartId = await cartWith(buyer.token, [[p.id, 2]]);
  const key = randomUUID();
  const body = checkoutBody(cartId);
  const since = new Date(Date.now() - 5000).toISOString();
  // The order process dies right after the confirming transaction, before
  // the saga's own call that empties the cart.
  const r = await placeOrder(buyer.token, key, body, { 'x-fault-inject': 'after_confirm' })
    .catch((e) => ({ status: 599, text: String(e) }));
  assert.ok(r.status >= 500, `the order process died: ${r.status} ${r.text}`);
  await orderServiceBack();
  // The order was confirmed and answered before the crash: a retry replays it.
  const again = await placeOrderUntilFinal(buyer.token, key, body);
  assert.equal(again.status, 201, again.text);
  assert.equal(again.body.status, 'confirmed');
  assert.equal(again.body.cart_id, cartId);
  // The event names the cart ...
  const confirmed = await eventually(() => loggedEvents(since, 'order.confirmed')
    .find((e) => e.aggregate_id === again.body.id), 30000, 500);
  assert.equal(confirmed.data.cart_id, cartId);
  // ... and the cart service, hearing it, empties the cart.
  const cart = await eventually(async () => {
    const c = await call(`${API}/carts/${cartId}`, { headers: auth(buyer.token) });
    assert.equal(c.status, 200, c.text);
    return c.body.items.length === 0 ? c.body : null;
  }, 60000, 500);
  assert.equal(cart.item_count, 0);
  assert.equal(cart.subtotal, '0.00');
  // The customer shops on with the same cart; nothing empties it again.
  const add = await call(`${API}/carts/${cartId}/items`, {
    method: 'POST', headers: auth(buyer.token), body: { product_id: p.id, quantity: 1 },
  });
  assert.equal(add.status, 201, add.text);
  await sleep(2000);
  const later = await call(`${API}/carts/${cartId}`, { headers: auth(buyer.token) });
  assert.equal(later.body.items.length, 1);
  assert.equal((await product(p.id)).stock, 3);
});

test('illegal transitions are 409; cancel before shipping gives the stock back', async () => {
  const p = await newProduct({ price: '15.00', stock: 10 });
  const buyer = await newBuyer();
  const r = await placeOrder(buyer.token, randomUUID(), checkoutBody(await cartWith(buyer.token, [[p.id, 2]])));
  assert.equal(r.status, 201, r.text);
  const id = r.body.id;
  const patch = (status) => call(`${API}/orders/${id}/status`, {
    method: 'PATCH', headers: auth(admin), body: { status },
  });
  assertEnvelope(await patch('delivered'), 409, 'CONFLICT'); // confirmed -> delivered
  assertEnvelope(await patch('pending'), 409, 'CONFLICT');
  assertEnvelope(await patch('confirmed'), 409, 'CONFLICT');
  assertEnvelope(await patch('refunded'), 409, 'CONFLICT');
  assertEnvelope(await patch('lost'), 422, 'VALIDATION_ERROR');
  // A customer may not drive the state machine.
  assertEnvelope(await call(`${API}/orders/${id}/status`, {
    method: 'PATCH', headers: auth(buyer.token), body: { status: 'shipped' },
  }), 403, 'AUTHORIZATION_ERROR');

  const processing = await patch('processing');
  assert.equal(processing.status, 200, processing.text);
  assert.equal(processing.body.status, 'processing');
  const cancel = await call(`${API}/orders/${id}/cancel`, { method: 'POST', headers: auth(buyer.token) });
  assert.equal(cancel.status, 200, cancel.text);
  assert.equal(cancel.body.status, 'cancelled');
  assert.deepEqual(cancel.body.status_history.map((h) => h.status),
    ['pending', 'confirmed', 'processing', 'cancelled']);
  assertEnvelope(await call(`${API}/orders/${id}/cancel`, { method: 'POST', headers: auth(buyer.token) }),
    409, 'CONFLICT');
  assertEnvelope(await patch('shipped'), 409, 'CONFLICT');
  await eventually(async () => (await product(p.id)).stock === 10, 30000, 500);
  const payments = await eventually(async () => {
    const x = await call(`${API}/payments?order_id=${id}`, { headers: auth(buyer.token) });
    return x.body?.items?.[0]?.status === 'voided' ? x : null;
  }, 30000, 500);
  assert.equal(payments.body.items.length, 1);
});

test('shipping captures the payment; refunds never exceed what was captured', async () => {
  const p = await newProduct({ price: '20.00', stock: 10 });
  const buyer = await newBuyer();
  const r = await placeOrder(buyer.token, randomUUID(), checkoutBody(await cartWith(buyer.token, [[p.id, 1]])));
  assert.equal(r.status, 201, r.text);
  const id = r.body.id;
  const total = cents(r.body.total);
  const patch = (status) => call(`${API}/orders/${id}/status`, {
    method: 'PATCH', headers: auth(admin), body: { status },
  });
  const refund = (body, key) => call(`${API}/orders/${id}/refund`, {
    method: 'POST', headers: { ...auth(admin), ...(key ? { 'idempotency-key': key } : {}) }, body,
  });
  assertEnvelope(await refund({}), 409, 'CONFLICT'); // nothing captured yet

  const shipped = await patch('shipped');
  assert.equal(shipped.status, 200, shipped.text);
  assert.equal(shipped.body.status, 'shipped');
  assert.ok(shipped.body.shipment_id);
  assert.equal(cents(shipped.body.captured_amount), total);
  assertEnvelope(await call(`${API}/orders/${id}/cancel`, { method: 'POST', headers: auth(buyer.token) }),
    409, 'CONFLICT');
  const shipments = await call(`${API}/shipments?order_id=${id}`, { headers: auth(buyer.token) });
  assert.equal(shipments.status, 200, shipments.text);

  // The courier's tracking may deliver it first; otherwise the admin does.
  const delivered = await patch('delivered');
  if (delivered.status !== 200) {
    assertEnvelope(delivered, 409, 'CONFLICT');
    assert.equal((await orderAs(buyer.token, id)).body.status, 'delivered');
  }

  const key = randomUUID();
  const part = await refund({ amount: '5.00' }, key);
  assert.equal(part.status, 200, part.text);
  assert.equal(part.body.refunded_amount, '5.00');
  assert.equal(part.body.status, 'delivered');
  const replay = await refund({ amount: '5.00' }, key);
  assert.equal(replay.status, 200);
  assert.equal(replay.body.refund.id, part.body.refund.id);
  assertEnvelope(await refund({ amount: '6.00' }, key), 409, 'CONFLICT');
  const tooMuch = await refund({ amount: ((total - 500 + 1) / 100).toFixed(2) });
  assertEnvelope(tooMuch, 409, 'CONFLICT');
  const rest = await refund({});
  assert.equal(rest.status, 200, rest.text);
  assert.equal(cents(rest.body.refunded_amount), total);
  assert.equal(rest.body.status, 'refunded');
  assertEnvelope(await refund({ amount: '0.01' }), 409, 'CONFLICT');
});

test("the courier's tracking events move a shipped order to delivered", async () => {
  const p = await newProduct({ price: '11.00', stock: 5 });
  const buyer = await newBuyer();
  const r = await placeOrder(buyer.token, randomUUID(), checkoutBody(await cartWith(buyer.token, [[p.id, 1]])));
  assert.equal(r.status, 201, r.text);
  const shipped = await call(`${API}/orders/${r.body.id}/status`, {
    method: 'PATCH', headers: auth(admin), body: { status: 'shipped' },
  });
  assert.equal(shipped.status, 200, shipped.text);
  // The sandbox courier advances a parcel every SHOPSPHERE_COURIER_STEP_MS
  // (8 s by default); shipment.status_changed "delivered" reaches the order.
  const delivered = await eventually(async () => {
    const o = await orderAs(buyer.token, r.body.id);
    return o.body?.status === 'delivered' ? o.body : null;
  }, 120000, 1000);
  const history = delivered.status_history.map((h) => h.status);
  assert.deepEqual(history, ['pending', 'confirmed', 'shipped', 'delivered']);
  assert.match(delivered.status_history.at(-1).reason, /courier/);
});

test("another customer's order is 404, and bad requests change nothing", async () => {
  const p = await newProduct({ price: '1.00', stock: 10 });
  const a = await newBuyer();
  const b = await newBuyer();
  const cartId = await cartWith(a.token, [[p.id, 1]]);
  // b cannot check out a's cart, see a's order, or cancel it.
  assertEnvelope(await placeOrder(b.token, randomUUID(), checkoutBody(cartId)), 404, 'NOT_FOUND');
  const r = await placeOrder(a.token, randomUUID(), checkoutBody(cartId));
  assert.equal(r.status, 201, r.text);
  assertEnvelope(await orderAs(b.token, r.body.id), 404, 'NOT_FOUND');
  assertEnvelope(await call(`${API}/orders/${r.body.id}/cancel`, { method: 'POST', headers: auth(b.token) }),
    404, 'NOT_FOUND');
  assertEnvelope(await orderAs(b.token, randomUUID()), 404, 'NOT_FOUND');
  assertEnvelope(await orderAs(b.token, 'not-a-uuid'), 404, 'NOT_FOUND');
  assert.equal((await orderAs(admin, r.body.id)).status, 200);
  assertEnvelope(await call(`${API}/orders`), 401, 'AUTHENTICATION_ERROR');

  const c2 = await cartWith(a.token, [[p.id, 1]]);
  const noKey = await call(`${API}/orders`, { method: 'POST', headers: auth(a.token), body: checkoutBody(c2) });
  assertEnvelope(noKey, 400, 'VALIDATION_ERROR');
  const noCountry = checkoutBody(c2, 'tok_visa', { shipping_address: { ...ADDRESS, country: 'usa' } });
  const bad = await placeOrder(a.token, randomUUID(), noCountry);
  assertEnvelope(bad, 422, 'VALIDATION_ERROR');
  assert.match(bad.body.error.details, /shipping_address\.country/);
  const noToken = checkoutBody(c2, 'tok_visa', { payment_method: { type: 'card' } });
  assertEnvelope(await placeOrder(a.token, randomUUID(), noToken), 422, 'VALIDATION_ERROR');
  assertEnvelope(await placeOrder(a.token, randomUUID(), checkoutBody(c2, 'tok_visa', { shipping_method: 'teleport' })),
    422, 'VALIDATION_ERROR');
  const empty = await cartWith(a.token, []);
  assertEnvelope(await placeOrder(a.token, randomUUID(), checkoutBody(empty)), 422, 'VALIDATION_ERROR');
  assert.equal((await product(p.id)).stock, 9);
  assert.equal((await product(p.id)).available, 9);
});

test('order history pages with a cursor, newest first', async () => {
  const p = await newProduct({ price: '2.00', stock: 20 });
  const buyer = await newBuyer();
  const ids = [];
  for (let i = 0; i < 3; i++) {
    const r = await placeOrder(buyer.token, randomUUID(), checkoutBody(await cartWith(buyer.token, [[p.id, 1]])));
    assert.equal(r.status, 201, r.text);
    ids.push(r.body.id);
  }
  const page1 = await call(`${API}/orders?limit=2`, { headers: auth(buyer.token) });
  assert.equal(page1.status, 200);
  assert.deepEqual(page1.body.items.map((o) => o.id), [ids[2], ids[1]]);
  assert.ok(page1.body.next_cursor);
  const page2 = await call(`${API}/orders?limit=2&cursor=${page1.body.next_cursor}`, { headers: auth(buyer.token) });
  assert.deepEqual(page2.body.items.map((o) => o.id), [ids[0]]);
  assert.equal(page2.body.next_cursor, null);
  assertEnvelope(await call(`${API}/orders?limit=0`, { headers: auth(buyer.token) }), 422, 'VALIDATION_ERROR');
  assertEnvelope(await call(`${API}/orders?cursor=zzz`, { headers: auth(buyer.token) }), 422, 'VALIDATION_ERROR');
});

test("an admin's order list holds every customer's orders; a customer's only their own", async () => {
  const p = await newProduct({ price: '3.00', stock: 5 });
  const one = await newBuyer();
  const two = await newBuyer();
  const a = await placeOrder(one.token, randomUUID(), checkoutBody(await cartWith(one.token, [[p.id, 1]])));
  const b = await placeOrder(two.token, randomUUID(), checkoutBody(await cartWith(two.token, [[p.id, 1]])));
  assert.equal(a.status, 201, a.text);
  assert.equal(b.status, 201, b.text);
  const all = await call(`${API}/orders?limit=100`, { headers: auth(admin) });
  assert.equal(all.status, 200, all.text);
  const seen = all.body.items.map((o) => o.id);
  assert.ok(seen.includes(a.body.id) && seen.includes(b.body.id), 'the admin sees both customers\' orders');
  const mine = await call(`${API}/orders?limit=100`, { headers: auth(two.token) });
  assert.deepEqual(mine.body.items.map((o) => o.id), [b.body.id]);
});
