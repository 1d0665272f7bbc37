// promotions.test.mjs - promotions through the gateway (DESIGN §5
// Promotions; docs/promotions.md): the admin's CRUD (audited, admins only),
// discount codes on carts with clear refusals, automatic promotions, buy X
// get Y, totals to the cent at checkout, a 10-use code raced by 50
// checkouts, and a cancelled order giving its use back. Every test makes its
// own products, codes and customers; automatic promotions target this
// suite's products only, so other suites' carts never see them.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  API, adminToken, assertEnvelope, call, eventually, newCategory, newCustomer,
} from './lib.mjs';

const RUN = randomUUID().slice(0, 6).toUpperCase();
let admin;
let categoryId;
let seq = 0;

const auth = (token) => ({ authorization: `Bearer ${token}` });
const cents = (s) => {
  const neg = s.startsWith('-');
  const [i, f = ''] = s.replace('-', '').split('.');
  const v = Number(i) * 100 + Number((f + '00').slice(0, 2));
  return neg ? -v : v;
};
const code = (tag) => `${tag}-${RUN}-${++seq}`;

const ADDRESS = {
  first_name: 'Ada', last_name: 'Lovelace', line1: '1 Market St', city: 'San Francisco',
  state: 'CA', postal_code: '94105', country: 'US', phone: '+14155550100',
};

async function newProduct({ price = '10.00', stock = 100, category = categoryId } = {}) {
  const n = `${RUN}-${++seq}`;
  const r = await call(`${API}/products`, {
    method: 'POST', headers: auth(admin),
    body: { sku: `PROMO-${n}`, name: `Promotion test ${n}`, description: 'test', category_id: category,
      price, currency: 'USD', stock, status: 'active' },
  });
  assert.equal(r.status, 201, `create product: ${r.text}`);
  return r.body;
}

async function newPromotion(body) {
  const r = await call(`${API}/admin/promotions`, { method: 'POST', headers: auth(admin), body });
  assert.equal(r.status, 201, `create promotion: ${r.text}`);
  return r.body;
}

async function promotion(id) {
  const r = await call(`${API}/admin/promotions/${id}`, { headers: auth(admin) });
  assert.equal(r.status, 200, r.text);
  return r.body;
}

async function cartWith(token, lines) {
  const c = await call(`${API}/carts`, { method: 'POST', headers: token ? auth(token) : {}, body: {} });
  assert.equal(c.status, 201, `create cart: ${c.text}`);
  for (const [productId, quantity] of lines) {
    const r = await call(`${API}/carts/${c.body.id}/items`, {
      method: 'POST', headers: token ? auth(token) : {}, body: { product_id: productId, quantity },
    });
    assert.equal(r.status, 201, `add item: ${r.text}`);
  }
  return c.body.id;
}

function applyCode(token, cartId, value) {
  return call(`${API}/carts/${cartId}/discount-codes`, {
    method: 'POST', headers: token ? auth(token) : {}, body: { code: value },
  });
}

function checkout(token, cartId, key = randomUUID()) {
  return call(`${API}/orders`, {
    method: 'POST', headers: { ...auth(token), 'idempotency-key': key },
    body: { cart_id: cartId, shipping_address: ADDRESS, shipping_method: 'standard',
      payment_method: { type: 'card', token: 'tok_visa' } },
  });
}

// Retries while the answer is a 5xx or a 409 "in progress" (same key: safe).
async function checkoutUntilFinal(token, cartId, timeoutMs = 120000) {
  const key = randomUUID();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let r;
    try { r = await checkout(token, cartId, key); } catch (e) { r = { status: 599, text: String(e) }; }
    const inProgress = r.status === 409 && /in progress/.test(r.body?.error?.message ?? '');
    if ((r.status < 500 && !inProgress) || Date.now() > deadline) return r;
    await new Promise((res) => setTimeout(res, 300));
  }
}

// Every figure of an order adds up to the cent: lines' discounts to the
// total discount, tax half-up per line on the discounted amount, total =
// subtotal - discount_total + tax + shipping.
function assertOrderTotals(order) {
  let subtotal = 0; let discount = 0; let tax = 0;
  for (const it of order.items) {
    const sub = cents(it.subtotal);
    const off = cents(it.discount);
    assert.equal(sub, cents(it.unit_price) * it.quantity);
    assert.ok(off >= 0 && off <= sub, `line discount ${it.discount} within ${it.subtotal}`);
    assert.equal(cents(it.tax), Math.floor(((sub - off) * order.tax_rate_bp + 5000) / 10000));
    assert.equal(cents(it.line_total), sub - off + cents(it.tax));
    subtotal += sub; discount += off; tax += cents(it.tax);
  }
  assert.equal(cents(order.subtotal), subtotal);
  assert.equal(cents(order.discount_total), discount);
  assert.equal(order.discounts.reduce((s, d) => s + cents(d.amount), 0), discount);
  assert.equal(cents(order.tax), tax);
  assert.equal(cents(order.total), subtotal - discount + tax + cents(order.shipping));
}

before(async () => {
  admin = await adminToken();
  categoryId = await newCategory(admin, `Promotions ${RUN}`, `promotions-${RUN.toLowerCase()}`);
});

test('an admin creates, reads, lists, changes and ends a promotion; every write is audited', async () => {
  const c = code('CRUD');
  const p = await newPromotion({
    code: c.toLowerCase(), description: 'ten off', type: 'percentage', value: '12.5',
    usage_limit: 5, per_customer_limit: 1, stackable: false,
  });
  assert.equal(p.code, c, 'codes are stored uppercase');
  assert.equal(p.value, '12.5');
  assert.equal(p.type, 'percentage');
  assert.equal(p.used, 0);
  assert.equal(p.status, 'active');
  assert.deepEqual(p.applies_to, { product_ids: [], category_ids: [] });

  assert.equal((await promotion(p.id)).code, c);
  const list = await call(`${API}/admin/promotions?limit=100`, { headers: auth(admin) });
  assert.equal(list.status, 200, list.text);
  assert.ok(list.body.items.some((x) => x.id === p.id));

  const changed = await call(`${API}/admin/promotions/${p.id}`, {
    method: 'PATCH', headers: auth(admin),
    body: { description: 'changed', usage_limit: null, starts_at: '2030-01-01T00:00:00Z' },
  });
  assert.equal(changed.status, 200, changed.text);
  assert.equal(changed.body.description, 'changed');
  assert.equal(changed.body.usage_limit, null);
  assert.equal(changed.body.status, 'scheduled');
  assert.equal(changed.body.value, '12.5');

  // The same live code twice is 409.
  const dup = await call(`${API}/admin/promotions`, {
    method: 'POST', headers: auth(admin), body: { code: c, type: 'free_shipping' },
  });
  assertEnvelope(dup, 409, 'CONFLICT');

  const del = await call(`${API}/admin/promotions/${p.id}`, { method: 'DELETE', headers: auth(admin) });
  assert.equal(del.status, 204, del.text);
  const gone = await call(`${API}/admin/promotions/${p.id}`, { headers: auth(admin) });
  assertEnvelope(gone, 404, 'NOT_FOUND');

  const audit = await eventually(async () => {
    const r = await call(`${API}/admin/audit-log?target=${p.id}`, { headers: auth(admin) });
    const actions = r.body?.items?.map((e) => e.action) ?? [];
    return ['promotion.create', 'promotion.update', 'promotion.delete'].every((a) => actions.includes(a)) ? r : null;
  }, 60000, 500);
  const update = audit.body.items.find((e) => e.action === 'promotion.update');
  assert.equal(update.target.type, 'promotion');
  assert.equal(update.after.description, 'changed');
  assert.equal(update.before.description, 'ten off');
});

test('bad promotions are refused naming the field; only admins may write them', async () => {
  const bad = async (body, field, status = 422) => {
    const r = await call(`${API}/admin/promotions`, { method: 'POST', headers: auth(admin), body });
    assertEnvelope(r, status, 'VALIDATION_ERROR');
    assert.equal(r.body.error.details, field, `${JSON.stringify(body)}: ${r.text}`);
  };
  await bad({ code: code('NEG'), type: 'fixed', value: '-5.00', currency: 'USD' }, 'value');
  await bad({ code: code('BIG'), type: 'fixed', value: '99999999999999999999.99', currency: 'USD' }, 'value');
  await bad({ code: code('ZERO'), type: 'fixed', value: '0.00', currency: 'USD' }, 'value');
  await bad({ code: code('PCT'), type: 'percentage', value: '100.01' }, 'value');
  await bad({ code: code('PCT'), type: 'percentage', value: '0' }, 'value');
  await bad({ code: code('NOCUR'), type: 'fixed', value: '5.00' }, 'currency');
  await bad({ code: "X'; DROP TABLE promotions;--", type: 'percentage', value: '10' }, 'code');
  await bad({ code: 'SAVE 10%', type: 'percentage', value: '10' }, 'code');
  await bad({ code: code('BXGY'), type: 'buy_x_get_y' }, 'buy_quantity');
  await bad({ code: code('MIN'), type: 'percentage', value: '10', min_subtotal: '50.00' }, 'currency');
  await bad({ code: code('WHEN'), type: 'percentage', value: '10', starts_at: 'yesterday' }, 'starts_at');
  await bad({ code: code('ORDER'), type: 'percentage', value: '10',
    starts_at: '2030-01-02T00:00:00Z', ends_at: '2030-01-01T00:00:00Z' }, 'ends_at');
  await bad({ code: code('TGT'), type: 'percentage', value: '10', applies_to: { product_ids: ['nope'] } },
    'applies_to.product_ids');
  await bad({ code: code('LIM'), type: 'percentage', value: '10', usage_limit: 0 }, 'usage_limit');
  await bad({ code: code('UNK'), type: 'percentage', value: '10', surprise: true }, 'surprise');
  await bad({ code: code('TYPE'), type: 'bogus', value: '10' }, 'type');

  const body = { code: code('AUTH'), type: 'percentage', value: '10' };
  const anonymous = await call(`${API}/admin/promotions`, { method: 'POST', body });
  assertEnvelope(anonymous, 401, 'AUTHENTICATION_ERROR');
  const customer = await newCustomer('promo-nonadmin');
  const refused = await call(`${API}/admin/promotions`, { method: 'POST', headers: auth(customer.token), body });
  assertEnvelope(refused, 403, 'AUTHORIZATION_ERROR');
  const list = await call(`${API}/admin/promotions`, { headers: auth(customer.token) });
  assertEnvelope(list, 403, 'AUTHORIZATION_ERROR');
});

test('a code on a cart: discounts per line, clear refusals, stacking and removal', async () => {
  const a = await newProduct({ price: '19.99' });
  const b = await newProduct({ price: '0.35' });
  const cartId = await cartWith(null, [[a.id, 3], [b.id, 1]]);

  const pct = await newPromotion({ code: code('PCT'), type: 'percentage', value: '15', stackable: true });
  const r = await applyCode(null, cartId, pct.code.toLowerCase());
  assert.equal(r.status, 200, r.text);
  // 15 % of 60.32 = 9.048 -> 9.05, spread over the lines to the cent.
  assert.equal(r.body.subtotal, '60.32');
  assert.equal(r.body.discount_total, '9.05');
  assert.deepEqual(r.body.discounts, [{
    code: pct.code, promotion_id: pct.id, type: 'percentage', description: pct.description, amount: '9.05', shipping_discount: '0.00',
  }]);
  const byProduct = Object.fromEntries(r.body.items.map((i) => [i.product_id, i.discount]));
  assert.equal(byProduct[a.id], '9.00');
  assert.equal(byProduct[b.id], '0.05');
  assert.equal(r.body.free_shipping, false);
  // Applying it again changes nothing.
  const again = await applyCode(null, cartId, pct.code);
  assert.equal(again.status, 200, again.text);
  assert.equal(again.body.discounts.length, 1);

  const refusal = async (value, pattern) => {
    const x = await applyCode(null, cartId, value);
    assertEnvelope(x, 422, 'VALIDATION_ERROR');
    assert.equal(x.body.error.details, 'code');
    assert.match(x.body.error.message, pattern);
  };
  await refusal('NO-SUCH-CODE-' + RUN, /unknown/);
  await refusal("X'; DROP TABLE promotions;--", /unknown/);
  await refusal('%00%27', /unknown/);
  const expired = await newPromotion({ code: code('OLD'), type: 'percentage', value: '10', stackable: true,
    starts_at: '2020-01-01T00:00:00Z', ends_at: '2020-02-01T00:00:00Z' });
  assert.equal(expired.status, 'expired');
  await refusal(expired.code, /expired/);
  const future = await newPromotion({ code: code('NEW'), type: 'percentage', value: '10', stackable: true,
    starts_at: '2099-01-01T00:00:00Z' });
  await refusal(future.code, /not valid yet/);
  const min = await newPromotion({ code: code('MIN'), type: 'fixed', value: '5.00', currency: 'USD',
    min_subtotal: '100.00', stackable: true });
  await refusal(min.code, /minimum/);
  const eur = await newPromotion({ code: code('EUR'), type: 'fixed', value: '5.00', currency: 'EUR', stackable: true });
  await refusal(eur.code, /currency/);
  const other = await newProduct({ price: '1.00' });
  const targeted = await newPromotion({ code: code('TGT'), type: 'percentage', value: '50', stackable: true,
    applies_to: { product_ids: [other.id] } });
  await refusal(targeted.code, /does not apply/);
  const lone = await newPromotion({ code: code('LONE'), type: 'percentage', value: '5' });
  await refusal(lone.code, /cannot be combined/);

  // A stackable second code joins; free shipping shows on the cart.
  const ship = await newPromotion({ code: code('SHIP'), type: 'free_shipping', stackable: true });
  const both = await applyCode(null, cartId, ship.code);
  assert.equal(both.status, 200, both.text);
  assert.equal(both.body.free_shipping, true);
  assert.deepEqual(both.body.discounts.map((d) => d.code), [pct.code, ship.code]);
  assert.equal(both.body.discount_total, '9.05');

  // Removing a code reprices the cart; removing it again is 404.
  const del = await call(`${API}/carts/${cartId}/discount-codes/${pct.code}`, { method: 'DELETE' });
  assert.equal(del.status, 200, del.text);
  assert.equal(del.body.discount_total, '0.00');
  assert.deepEqual(del.body.discounts.map((d) => d.code), [ship.code]);
  assert.ok(del.body.items.every((i) => i.discount === '0.00'));
  const del2 = await call(`${API}/carts/${cartId}/discount-codes/${pct.code}`, { method: 'DELETE' });
  assertEnvelope(del2, 404, 'NOT_FOUND');

  // Malformed bodies.
  const unknownField = await call(`${API}/carts/${cartId}/discount-codes`, {
    method: 'POST', body: { code: pct.code, extra: 1 },
  });
  assertEnvelope(unknownField, 422, 'VALIDATION_ERROR');
  const notString = await call(`${API}/carts/${cartId}/discount-codes`, { method: 'POST', body: { code: 42 } });
  assertEnvelope(notString, 400, 'VALIDATION_ERROR');
});

test('automatic promotions apply without a code: buy 2 get 1 on one product', async () => {
  const p = await newProduct({ price: '7.00' });
  const q = await newProduct({ price: '3.00' });
  const auto = await newPromotion({ code: null, type: 'buy_x_get_y', buy_quantity: 2, get_quantity: 1,
    applies_to: { product_ids: [p.id] } });
  assert.equal(auto.code, null);
  const cartId = await cartWith(null, [[p.id, 3], [q.id, 1]]);
  const cart = await call(`${API}/carts/${cartId}`);
  assert.equal(cart.status, 200, cart.text);
  assert.deepEqual(cart.body.discounts, [{
    code: null, promotion_id: auto.id, type: 'buy_x_get_y', description: auto.description, amount: '7.00', shipping_discount: '0.00',
  }]);
  const byProduct = Object.fromEntries(cart.body.items.map((i) => [i.product_id, i.discount]));
  assert.equal(byProduct[p.id], '7.00');
  assert.equal(byProduct[q.id], '0.00');
  // Two units are not enough: nothing free, nothing shown.
  const upd = await call(`${API}/carts/${cartId}/items/${p.id}`, { method: 'PATCH', body: { quantity: 2 } });
  assert.equal(upd.status, 200, upd.text);
  assert.deepEqual(upd.body.discounts, []);
  assert.equal(upd.body.discount_total, '0.00');
  const del = await call(`${API}/admin/promotions/${auto.id}`, { method: 'DELETE', headers: auth(admin) });
  assert.equal(del.status, 204);
});

test('checkout: discounts on the order and its lines, tax on the discounted amount, free shipping, to the cent', async () => {
  const a = await newProduct({ price: '19.99' });
  const b = await newProduct({ price: '0.35' });
  const buyer = await newCustomer('promo-totals');
  const cartId = await cartWith(buyer.token, [[a.id, 3], [b.id, 1]]);
  const pct = await newPromotion({ code: code('PCT'), description: '15 % off everything', type: 'percentage', value: '15', stackable: true });
  const ship = await newPromotion({ code: code('SHIP'), description: 'Shipping on us', type: 'free_shipping', stackable: true });
  assert.equal((await applyCode(buyer.token, cartId, pct.code)).status, 200);
  const applied = await applyCode(buyer.token, cartId, ship.code);
  assert.equal(applied.status, 200, applied.text);
  // The cart names each promotion, and free shipping says it takes the
  // shipping (not quoted until checkout) rather than a misleading 0.00.
  assert.deepEqual(applied.body.discounts, [
    { code: pct.code, promotion_id: pct.id, type: 'percentage', description: '15 % off everything', amount: '9.05', shipping_discount: '0.00' },
    { code: ship.code, promotion_id: ship.id, type: 'free_shipping', description: 'Shipping on us', amount: '0.00', shipping_discount: null },
  ]);
  assert.equal(applied.body.free_shipping, true);
  assert.equal(applied.body.discount_total, '9.05');

  const r = await checkout(buyer.token, cartId);
  assert.equal(r.status, 201, r.text);
  const order = r.body;
  assert.equal(order.subtotal, '60.32');
  assert.equal(order.discount_total, '9.05');
  assert.equal(order.shipping, '0.00');
  assert.equal(order.tax_rate_bp, 725);
  assert.deepEqual(order.discounts, [
    { code: pct.code, promotion_id: pct.id, type: 'percentage', description: '15 % off everything', amount: '9.05', shipping_discount: '0.00' },
    // standard shipping costs nothing above 50.00 here: nothing to waive
    { code: ship.code, promotion_id: ship.id, type: 'free_shipping', description: 'Shipping on us', amount: '0.00', shipping_discount: '0.00' },
  ]);
  assertOrderTotals(order);
  // 51.27 left to tax: 50.97 -> 3.70 and 0.30 -> 0.02, half-up per line
  assert.equal(order.tax, '3.72');
  assert.equal(order.total, '54.99');
  const payments = await call(`${API}/payments?order_id=${order.id}`, { headers: auth(buyer.token) });
  assert.equal(payments.body.items[0].amount, order.total, 'the card is charged the discounted total');
  assert.equal((await promotion(pct.id)).used, 1);
  assert.equal((await promotion(ship.id)).used, 1);
  const read = await call(`${API}/orders/${order.id}`, { headers: auth(buyer.token) });
  assert.deepEqual(read.body.discounts, order.discounts);
  assert.deepEqual(read.body.items.map((i) => i.discount), order.items.map((i) => i.discount));
});

test('free shipping shows the shipping it waived; the order adds up to the cent', async () => {
  const lamp = await newProduct({ price: '12.40' });
  const ship = await newPromotion({ code: code('WAIVE'), description: 'Shipping on us', type: 'free_shipping' });
  // The same line without the code: what standard shipping costs.
  const control = await newCustomer('promo-ctl');
  const paid = await checkout(control.token, await cartWith(control.token, [[lamp.id, 1]]));
  assert.equal(paid.status, 201, paid.text);
  const quote = paid.body.shipping;
  assert.ok(cents(quote) > 0, `standard shipping costs something for 12.40 (${quote})`);
  assertOrderTotals(paid.body);

  const buyer = await newCustomer('promo-waive');
  const cartId = await cartWith(buyer.token, [[lamp.id, 1]]);
  const applied = await applyCode(buyer.token, cartId, ship.code);
  assert.equal(applied.status, 200, applied.text);
  // The cart cannot price the shipping yet (the method is chosen at
  // checkout): it says the promotion takes the shipping, not a misleading 0.
  assert.deepEqual(applied.body.discounts, [
    { code: ship.code, promotion_id: ship.id, type: 'free_shipping', description: 'Shipping on us', amount: '0.00', shipping_discount: null },
  ]);
  assert.equal(applied.body.free_shipping, true);
  const r = await checkout(buyer.token, cartId);
  assert.equal(r.status, 201, r.text);
  const order = r.body;
  assert.equal(order.shipping, '0.00');
  assert.equal(order.discount_total, '0.00');
  assert.deepEqual(order.discounts, [
    { code: ship.code, promotion_id: ship.id, type: 'free_shipping', description: 'Shipping on us', amount: '0.00', shipping_discount: quote },
  ]);
  assertOrderTotals(order);
  // The shopper saves exactly the waived shipping, and is charged the rest.
  assert.equal(cents(paid.body.total) - cents(order.total), cents(quote));
  const payments = await call(`${API}/payments?order_id=${order.id}`, { headers: auth(buyer.token) });
  assert.equal(payments.body.items[0].amount, order.total);
  const read = await call(`${API}/orders/${order.id}`, { headers: auth(buyer.token) });
  assert.deepEqual(read.body.discounts, order.discounts);
});

test('a code limited to 10 uses, raced by 50 checkouts, makes exactly 10 orders', async () => {
  const p = await newProduct({ price: '4.99', stock: 200 });
  const promo = await newPromotion({ code: code('RACE'), type: 'fixed', value: '1.00', currency: 'USD', usage_limit: 10 });
  // Ten customers with five carts each, every cart holding the code (set up
  // one after the other: ten registrations at once, each hashing a password,
  // can outlast the gateway's patience on a loaded machine; the race is the
  // checkouts).
  const buyers = [];
  for (let i = 0; i < 10; i++) buyers.push(await newCustomer('promo-race'));
  const jobs = [];
  for (const b of buyers) {
    for (let i = 0; i < 5; i++) {
      const cartId = await cartWith(b.token, [[p.id, 1]]);
      const applied = await applyCode(b.token, cartId, promo.code);
      assert.equal(applied.status, 200, applied.text);
      jobs.push({ b, cartId });
    }
  }
  const answers = await Promise.all(jobs.map(({ b, cartId }) => checkoutUntilFinal(b.token, cartId)));
  const statuses = answers.map((a) => a.status);
  const won = answers.filter((a) => a.status === 201);
  assert.equal(won.length, 10, `statuses: ${statuses.join(',')}`);
  for (const a of answers.filter((x) => x.status !== 201)) {
    assertEnvelope(a, 422, 'VALIDATION_ERROR');
    assert.equal(a.body.error.details, 'discount_codes');
    assert.match(a.body.error.message, /usage limit/);
  }
  for (const a of won) {
    assert.equal(a.body.discount_total, '1.00');
    assertOrderTotals(a.body);
  }
  assert.equal((await promotion(promo.id)).used, 10);
  // The losers were never charged and hold no stock.
  const after = await call(`${API}/products/${p.id}`, { headers: auth(admin) });
  assert.equal(after.body.stock, 190);
  assert.equal(after.body.available, 190);
  for (const b of buyers) {
    const list = await call(`${API}/orders`, { headers: auth(b.token) });
    for (const o of list.body.items) assert.equal(o.status, 'confirmed');
  }
});

test('a cancelled order gives its use back; a customer limit holds', async () => {
  const p = await newProduct({ price: '25.00' });
  const promo = await newPromotion({ code: code('ONCE'), type: 'percentage', value: '20', usage_limit: 1,
    per_customer_limit: 1 });
  const first = await newCustomer('promo-cancel');
  const second = await newCustomer('promo-cancel');
  const cart1 = await cartWith(first.token, [[p.id, 1]]);
  assert.equal((await applyCode(first.token, cart1, promo.code)).status, 200);
  const order = await checkout(first.token, cart1);
  assert.equal(order.status, 201, order.text);
  assert.equal(order.body.discount_total, '5.00');
  assert.equal((await promotion(promo.id)).used, 1);

  // Used up: another customer is refused, clearly.
  const cart2 = await cartWith(second.token, [[p.id, 1]]);
  const refused = await applyCode(second.token, cart2, promo.code);
  assertEnvelope(refused, 422, 'VALIDATION_ERROR');
  assert.match(refused.body.error.message, /usage limit/);

  const cancel = await call(`${API}/orders/${order.body.id}/cancel`, { method: 'POST', headers: auth(first.token) });
  assert.equal(cancel.status, 200, cancel.text);
  await eventually(async () => (await promotion(promo.id)).used === 0, 60000, 500);

  const ok = await applyCode(second.token, cart2, promo.code);
  assert.equal(ok.status, 200, ok.text);
  const again = await checkout(second.token, cart2);
  assert.equal(again.status, 201, again.text);
  assert.equal(again.body.discount_total, '5.00');
  assert.equal((await promotion(promo.id)).used, 1);

  // The customer limit: the second customer cannot use it twice, even once
  // the total limit is raised.
  const raise = await call(`${API}/admin/promotions/${promo.id}`, {
    method: 'PATCH', headers: auth(admin), body: { usage_limit: 5 },
  });
  assert.equal(raise.status, 200, raise.text);
  const cart3 = await cartWith(second.token, [[p.id, 1]]);
  const twice = await applyCode(second.token, cart3, promo.code);
  assertEnvelope(twice, 422, 'VALIDATION_ERROR');
  assert.match(twice.body.error.message, /per customer/);
});
