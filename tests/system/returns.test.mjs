// returns.test.mjs - returns of delivered lines through the gateway
// (docs/returns.md): asked by the buyer within the window, approved,
// received (sellable units back to stock, damaged ones not) and refunded
// through the payment service, to the cent; the refusals; a repeated or
// concurrent refund refunds once; a crash between the refund's intent and
// the payment call is finished by the sweeper. Every test makes its own
// products, buyers and orders, and drives them to delivered with the
// sandbox courier.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  API, adminToken, assertEnvelope, call, eventually, newCategory, serviceUrl,
} from './lib.mjs';

const RUN = randomUUID().slice(0, 8);
const HOME = {
  first_name: 'Rita', last_name: 'Returns', line1: '9 Dock Rd', city: 'Austin', state: 'TX',
  postal_code: '73301', country: 'US', phone: '+15125550100',
};
let admin;
let category;
let n = 0;

const bearer = (token) => ({ authorization: `Bearer ${token}` });
// Decimal string of two decimals <-> cents.
const cents = (s) => Math.round(Number(s) * 100);
// round(amount x k / q), half up, as the order service prorates.
const share = (amount, k, q) => Math.floor((2 * amount * k + q) / (2 * q));

before(async () => {
  admin = await adminToken();
  category = await newCategory(admin, `Returns ${RUN}`, `returns-${RUN}`);
});

// An admin call (GET unless a body is given).
const asAdmin = (path, body) => call(`${API}${path}`, body === undefined
  ? { headers: bearer(admin) }
  : { method: 'POST', headers: bearer(admin), body });

// A customer of this run: {email, token}.
async function customer() {
  const tag = `${RUN}-${++n}`;
  const email = `returner-${tag}@example.com`;
  const password = `Pw-${tag}-long-enough!`;
  const reg = await call(`${API}/users`, {
    method: 'POST', body: { email, password, username: `returner_${tag.replace(/-/g, '_')}`, first_name: 'Rita' },
  });
  assert.equal(reg.status, 201, reg.text);
  const login = await call(`${API}/auth/login`, { method: 'POST', body: { email, password } });
  assert.equal(login.status, 200, login.text);
  return { email, token: login.body.access_token };
}

// Products of the given prices (stock 10 each), bought by a new customer
// in the given quantities: {who, order, products}.
async function purchase(prices, quantities) {
  const products = [];
  for (const price of prices) {
    const tag = `${RUN}-${++n}`;
    const p = await asAdmin('/products', {
      sku: `RET-${tag}`, name: `Returnable ${tag}`, description: 'returns test', category_id: category,
      price, currency: 'USD', stock: 10, status: 'active',
    });
    assert.equal(p.status, 201, p.text);
    products.push(p.body);
  }
  const who = await customer();
  const cart = await call(`${API}/carts`, { method: 'POST', headers: bearer(who.token), body: {} });
  assert.equal(cart.status, 201, cart.text);
  for (const [i, p] of products.entries()) {
    const add = await call(`${API}/carts/${cart.body.id}/items`, {
      method: 'POST', headers: bearer(who.token), body: { product_id: p.id, quantity: quantities[i] },
    });
    assert.equal(add.status, 201, add.text);
  }
  const order = await call(`${API}/orders`, {
    method: 'POST', headers: { ...bearer(who.token), 'idempotency-key': randomUUID() },
    body: { cart_id: cart.body.id, shipping_address: HOME, shipping_method: 'standard', payment_method: { type: 'card', token: 'tok_visa' } },
  });
  assert.equal(order.status, 201, order.text);
  return { who, order: order.body, products };
}

// Ships the order (the payment is captured) and lets the sandbox courier,
// sped up for this parcel, deliver it. Returns the delivered order.
async function deliver(who, orderId) {
  const shipped = await call(`${API}/orders/${orderId}/status`, {
    method: 'PATCH', headers: bearer(admin), body: { status: 'shipped' },
  });
  assert.equal(shipped.status, 200, shipped.text);
  const parcel = await call(`${API}/shipments/${shipped.body.shipment_id}`, { headers: bearer(who.token) });
  assert.equal(parcel.status, 200, parcel.text);
  const speed = await call(`${serviceUrl('sandbox-courier')}/v1/shipments/${parcel.body.tracking_number}/speed`, {
    method: 'POST', body: { step_ms: 300 },
  });
  assert.equal(speed.status, 200, speed.text);
  return eventually(async () => {
    const o = await call(`${API}/orders/${orderId}`, { headers: bearer(who.token) });
    return o.body?.status === 'delivered' ? o.body : null;
  }, 120000, 500);
}

// A purchase driven to delivered.
async function deliveredPurchase(prices, quantities) {
  const bought = await purchase(prices, quantities);
  bought.order = await deliver(bought.who, bought.order.id);
  return bought;
}

const askReturn = (who, orderId, body, headers = {}) => call(`${API}/orders/${orderId}/returns`, {
  method: 'POST', headers: { ...bearer(who.token), ...headers }, body,
});

// Asks, approves and receives a return of lines [[line, quantity,
// condition]]; answers the received return.
async function receivedReturn(who, orderId, lines) {
  const asked = await askReturn(who, orderId, {
    items: lines.map(([line, quantity]) => ({ order_item_id: line.id, quantity })), reason: 'does not fit',
  });
  assert.equal(asked.status, 201, asked.text);
  assert.equal(asked.body.status, 'requested');
  const approved = await asAdmin(`/admin/returns/${asked.body.id}/approve`, {});
  assert.equal(approved.status, 200, approved.text);
  assert.equal(approved.body.status, 'approved');
  const received = await asAdmin(`/admin/returns/${asked.body.id}/receive`, {
    items: lines.map(([line, , condition]) => ({ order_item_id: line.id, condition })),
  });
  assert.equal(received.status, 200, received.text);
  assert.equal(received.body.status, 'received');
  return received.body;
}

const stockOf = async (productId) => (await asAdmin(`/products/${productId}`)).body.stock;
const paymentOf = async (who, orderId) => (await call(`${API}/payments?order_id=${orderId}`, { headers: bearer(who.token) })).body.items[0];

// What the order service refunds for k units of a line (its net less
// discount, and its tax, each prorated), after `done` units refunded.
function refundOf(line, done, k) {
  const net = cents(line.subtotal) - cents(line.discount ?? '0');
  const tax = cents(line.tax);
  const part = (a) => share(a, done + k, line.quantity) - share(a, done, line.quantity);
  return part(net) + part(tax);
}

test("a delivered order's line is returned, received and refunded, and stock, payment and order agree", async () => {
  const { who, order, products } = await deliveredPurchase(['19.99', '5.00'], [3, 1]);
  const [lineA, lineB] = order.items;
  assert.equal(await stockOf(products[0].id), 7);

  // Two of the three units of the first line.
  const first = await receivedReturn(who, order.id, [[lineA, 2, 'sellable']]);
  assert.equal(first.items[0].condition, 'sellable');
  const listed = await call(`${API}/orders/${order.id}/returns`, { headers: bearer(who.token) });
  assert.equal(listed.status, 200, listed.text);
  assert.deepEqual(listed.body.items.map((r) => r.id), [first.id]);
  await eventually(async () => (await stockOf(products[0].id)) === 9, 30000, 250);

  const refunded = await asAdmin(`/admin/returns/${first.id}/refund`, {});
  assert.equal(refunded.status, 200, refunded.text);
  assert.equal(refunded.body.status, 'refunded');
  const firstAmount = refundOf(lineA, 0, 2);
  assert.equal(cents(refunded.body.refund_amount), firstAmount);
  assert.equal(cents(refunded.body.items[0].refund_amount), firstAmount);

  let now = (await call(`${API}/orders/${order.id}`, { headers: bearer(who.token) })).body;
  assert.equal(now.status, 'delivered'); // partly refunded
  assert.equal(cents(now.refunded_amount), firstAmount);
  assert.equal(now.items[0].refunded_quantity, 2);
  assert.equal(cents(now.items[0].refunded_amount), firstAmount);
  assert.equal(now.items[1].refunded_quantity, 0);
  let payment = await paymentOf(who, order.id);
  assert.equal(payment.status, 'partially_refunded');
  assert.equal(cents(payment.refunded_amount), firstAmount);

  // The rest: the last unit of the first line and the second line.
  const second = await receivedReturn(who, order.id, [[lineA, 1, 'sellable'], [lineB, 1, 'sellable']]);
  const done = await asAdmin(`/admin/returns/${second.id}/refund`, {});
  assert.equal(done.status, 200, done.text);
  const secondAmount = refundOf(lineA, 2, 1) + refundOf(lineB, 0, 1);
  assert.equal(cents(done.body.refund_amount), secondAmount);
  // Every line refunded: the order is refunded, all that was paid for the
  // goods came back to the cent (shipping is not returned).
  const goods = order.items.reduce((sum, l) => sum + cents(l.subtotal) + cents(l.tax), 0);
  assert.equal(firstAmount + secondAmount, goods);
  now = (await call(`${API}/orders/${order.id}`, { headers: bearer(who.token) })).body;
  assert.equal(now.status, 'refunded');
  assert.equal(cents(now.refunded_amount), goods);
  assert.deepEqual(now.items.map((l) => l.refunded_quantity), [3, 1]);
  payment = await paymentOf(who, order.id);
  assert.equal(cents(payment.refunded_amount), goods);
  await eventually(async () => (await stockOf(products[0].id)) === 10 && (await stockOf(products[1].id)) === 10,
    30000, 250);

  // The buyer heard of each step by e-mail; the operator's decisions are audited.
  const mails = await eventually(async () => {
    const r = await call(`${serviceUrl('sandbox-mail')}/messages?to=${encodeURIComponent(who.email)}`);
    const subjects = r.body.items.map((m) => m.subject);
    return ['Return requested', 'Return approved', 'for your return'].every((s) => subjects.filter((x) => x.includes(s)).length === 2)
      ? r.body.items : null;
  }, 30000, 250);
  assert.ok(mails.some((m) => m.subject === `Refund of $${(firstAmount / 100).toFixed(2)} for your return (order ${order.id})`));
  const audit = await eventually(async () => {
    const r = await asAdmin(`/admin/audit-log?target=${first.id}`);
    return r.body.items.length === 3 ? r.body.items : null;
  }, 20000, 250);
  assert.deepEqual(audit.map((e) => e.action).sort(), ['return.approve', 'return.receive', 'return.refund']);
  assert.equal(audit.find((e) => e.action === 'return.refund').after.refund_amount, refunded.body.refund_amount);
});

test('damaged units are recorded, not restocked; sellable ones of the same return are', async () => {
  const { who, order, products } = await deliveredPurchase(['12.00', '3.50'], [2, 2]);
  const [lineA, lineB] = order.items;
  const received = await receivedReturn(who, order.id, [[lineA, 2, 'damaged'], [lineB, 1, 'sellable']]);
  assert.deepEqual(received.items.map((i) => i.condition), ['damaged', 'sellable']);
  await eventually(async () => (await stockOf(products[1].id)) === 9, 30000, 250);
  assert.equal(await stockOf(products[0].id), 8); // the damaged units stay out
  const refunded = await asAdmin(`/admin/returns/${received.id}/refund`, {});
  assert.equal(refunded.status, 200, refunded.text);
  assert.equal(cents(refunded.body.refund_amount), refundOf(lineA, 0, 2) + refundOf(lineB, 0, 1));
  assert.equal(await stockOf(products[0].id), 8);
});

test('a refund asked twice at once and again later refunds once', async () => {
  const { who, order } = await deliveredPurchase(['8.00'], [2]);
  const received = await receivedReturn(who, order.id, [[order.items[0], 1, 'sellable']]);
  const [a, b] = await Promise.all([
    asAdmin(`/admin/returns/${received.id}/refund`, {}),
    asAdmin(`/admin/returns/${received.id}/refund`, {}),
  ]);
  assert.equal(a.status, 200, a.text);
  assert.equal(b.status, 200, b.text);
  const again = await asAdmin(`/admin/returns/${received.id}/refund`, {});
  assert.equal(again.status, 200, again.text);
  const amount = refundOf(order.items[0], 0, 1);
  for (const r of [a, b, again]) assert.equal(cents(r.body.refund_amount), amount);
  assert.equal(cents((await paymentOf(who, order.id)).refunded_amount), amount);
  const o = (await call(`${API}/orders/${order.id}`, { headers: bearer(who.token) })).body;
  assert.equal(cents(o.refunded_amount), amount);
  assert.equal(o.items[0].refunded_quantity, 1);
});

test('a crash after the refund was recorded is finished by the sweeper, once', async () => {
  const { who, order } = await deliveredPurchase(['6.40'], [1]);
  const received = await receivedReturn(who, order.id, [[order.items[0], 1, 'sellable']]);
  // Test profiles only: the order process exits right after the refund's
  // intent commits, before the payment service is asked (docs/returns.md).
  const crash = await call(`${API}/admin/returns/${received.id}/refund`, {
    method: 'POST', headers: { ...bearer(admin), 'x-fault-inject': 'refund_after_intent' }, body: {},
  }).catch((e) => ({ status: 599, text: String(e) }));
  assert.ok(crash.status >= 500, `the order process died: ${crash.status} ${crash.text}`);
  const refunded = await eventually(async () => {
    const r = await call(`${API}/returns/${received.id}`, { headers: bearer(who.token) }).catch(() => null);
    return r?.status === 200 && r.body.status === 'refunded' ? r.body : null;
  }, 90000, 500);
  const amount = refundOf(order.items[0], 0, 1);
  assert.equal(cents(refunded.refund_amount), amount);
  const retry = await asAdmin(`/admin/returns/${received.id}/refund`, {});
  assert.equal(retry.status, 200, retry.text);
  const payment = await paymentOf(who, order.id);
  assert.equal(cents(payment.refunded_amount), amount);
  const o = (await call(`${API}/orders/${order.id}`, { headers: bearer(who.token) })).body;
  assert.equal(o.status, 'refunded');
  assert.equal(cents(o.refunded_amount), amount);
});

test('returns are refused when not delivered, late, too many, not yours, or malformed', async () => {
  // Not delivered yet: confirmed.
  const early = await purchase(['4.00'], [2]);
  const line = early.order.items[0];
  const oneUnit = { items: [{ order_item_id: line.id, quantity: 1 }], reason: 'changed my mind' };
  assertEnvelope(await askReturn(early.who, early.order.id, oneUnit), 409, 'CONFLICT');

  const { who, order } = await deliver(early.who, early.order.id).then((o) => ({ who: early.who, order: o }));
  // Outside the window (test profiles: the clock as if the window passed).
  assertEnvelope(await askReturn(who, order.id, oneUnit, { 'x-fault-inject': 'return_window_elapsed' }),
    409, 'CONFLICT');
  // More than bought, zero, negative, a string, a line of no order.
  const bad = async (item, status, field) => {
    const r = await askReturn(who, order.id, { items: [item], reason: 'x' });
    assertEnvelope(r, status, 'VALIDATION_ERROR');
    assert.equal(r.body.error.details, field);
  };
  await bad({ order_item_id: line.id, quantity: 3 }, 422, 'items[0].quantity');
  await bad({ order_item_id: line.id, quantity: 0 }, 422, 'items[0].quantity');
  await bad({ order_item_id: line.id, quantity: -1 }, 422, 'items[0].quantity');
  await bad({ order_item_id: line.id, quantity: 100 }, 422, 'items[0].quantity');
  await bad({ order_item_id: line.id, quantity: '1' }, 400, 'items[0].quantity');
  await bad({ order_item_id: randomUUID(), quantity: 1 }, 422, 'items[0]');
  await bad({ product_id: line.product_id, quantity: 1, price: '0.01' }, 422, 'items[0].price');
  // Unknown and missing fields, invalid UTF-8.
  const unknown = await askReturn(who, order.id, { ...oneUnit, refund_amount: '100.00' });
  assertEnvelope(unknown, 422, 'VALIDATION_ERROR');
  assert.equal(unknown.body.error.details, 'refund_amount');
  assertEnvelope(await askReturn(who, order.id, { items: oneUnit.items }), 422, 'VALIDATION_ERROR');
  assertEnvelope(await askReturn(who, order.id, { items: [], reason: 'x' }), 422, 'VALIDATION_ERROR');
  const raw = await call(`${API}/orders/${order.id}/returns`, {
    method: 'POST', headers: { ...bearer(who.token), 'content-type': 'application/json' },
    raw: Buffer.from([0x7b, 0x22, 0x72, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]),
  });
  assertEnvelope(raw, 400, 'VALIDATION_ERROR');
  // Someone else's order, an unknown one: 404; the operator's routes: 403.
  const stranger = await customer();
  assertEnvelope(await askReturn(stranger, order.id, oneUnit), 404, 'NOT_FOUND');
  assertEnvelope(await askReturn(who, randomUUID(), oneUnit), 404, 'NOT_FOUND');
  assertEnvelope(await call(`${API}/orders/${order.id}/returns`, { headers: bearer(stranger.token) }), 404, 'NOT_FOUND');

  // SQL meta-characters are a reason like any other; by product id works.
  const reason = "too big'; DROP TABLE returns; --";
  const ok = await askReturn(who, order.id, { items: [{ product_id: line.product_id, quantity: 1 }], reason });
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.body.reason, reason);
  assertEnvelope(await call(`${API}/returns/${ok.body.id}`, { headers: bearer(stranger.token) }), 404, 'NOT_FOUND');
  assertEnvelope(await call(`${API}/admin/returns/${ok.body.id}/approve`, {
    method: 'POST', headers: bearer(who.token), body: {},
  }), 403, 'AUTHORIZATION_ERROR');
  // One unit left to return: two is more than bought minus returned.
  await bad({ order_item_id: line.id, quantity: 2 }, 422, 'items[0].quantity');

  // The operator's steps in order only; a rejection needs its reason.
  assertEnvelope(await asAdmin(`/admin/returns/${ok.body.id}/receive`, {}), 409, 'CONFLICT');
  assertEnvelope(await asAdmin(`/admin/returns/${ok.body.id}/refund`, {}), 409, 'CONFLICT');
  const noReason = await asAdmin(`/admin/returns/${ok.body.id}/reject`, {});
  assertEnvelope(noReason, 422, 'VALIDATION_ERROR');
  assert.equal(noReason.body.error.details, 'reason');
  const rejected = await asAdmin(`/admin/returns/${ok.body.id}/reject`, { reason: 'worn' });
  assert.equal(rejected.status, 200, rejected.text);
  assert.equal(rejected.body.rejection_reason, 'worn');
  assertEnvelope(await asAdmin(`/admin/returns/${ok.body.id}/approve`, {}), 409, 'CONFLICT');
  // A rejected return gives its units back to return.
  const retry = await askReturn(who, order.id, { items: [{ order_item_id: line.id, quantity: 2 }], reason: 'both' });
  assert.equal(retry.status, 201, retry.text);

  // The operator's list filters.
  const mine = await asAdmin(`/admin/returns?order_id=${order.id}&status=rejected`);
  assert.equal(mine.status, 200, mine.text);
  assert.deepEqual(mine.body.items.map((r) => r.id), [ok.body.id]);
  const byUser = await asAdmin(`/admin/returns?order_id=${order.id}&limit=1`);
  assert.deepEqual(byUser.body.items.map((r) => r.id), [retry.body.id]);
  assert.equal(byUser.body.next_cursor, retry.body.id);
  const page2 = await asAdmin(`/admin/returns?order_id=${order.id}&limit=1&cursor=${byUser.body.next_cursor}`);
  assert.deepEqual(page2.body.items.map((r) => r.id), [ok.body.id]);
  assertEnvelope(await asAdmin('/admin/returns?status=lost'), 422, 'VALIDATION_ERROR');
  assertEnvelope(await asAdmin('/admin/returns?user_id=1%27%20OR%201=1'), 422, 'VALIDATION_ERROR');
  assertEnvelope(await asAdmin(`/admin/returns/${randomUUID()}/approve`, {}), 404, 'NOT_FOUND');
});
