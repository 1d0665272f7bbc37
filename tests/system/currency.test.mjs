// currency.test.mjs - prices per currency through the gateway (DESIGN §5
// Prices per currency; docs/catalog.md, docs/checkout.md): explicit price
// lists, reads in a currency, carts in one currency, and the same product
// bought in USD and in EUR at its list prices, shipping and tax in the
// order's currency and the payment authorized in it.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { API, assertEnvelope, call, eventually, sleep, adminToken, newCategory } from './lib.mjs';

const RUN = randomUUID().slice(0, 8);
let admin;
let categoryId;
let seq = 0;
const auth = (token) => ({ authorization: `Bearer ${token}` });
const sku = (prefix) => `${prefix}-${RUN}-${++seq}`;
const cents = (s) => {
  const [i, f = ''] = s.split('.');
  return Number(i) * 100 + Number((f + '00').slice(0, 2));
};

const US = {
  first_name: 'Ada', last_name: 'Lovelace', line1: '1 Market St', city: 'San Francisco',
  state: 'CA', postal_code: '94105', country: 'US', phone: '+14155550100',
};
const DE = {
  first_name: 'Emmy', last_name: 'Noether', line1: 'Unter den Linden 1', city: 'Berlin',
  postal_code: '10117', country: 'DE', phone: '+493012345678',
};

async function newBuyer() {
  const n = `${RUN}-${++seq}`;
  const email = `cbuyer-${n}@example.com`;
  const password = `Secret-${n}-pass!`;
  const r = await call(`${API}/users`, {
    method: 'POST',
    body: { email, password, username: `cbuyer_${n}`.replace(/-/g, '_'), first_name: 'Buyer', last_name: n, phone: '+15555550100' },
  });
  assert.equal(r.status, 201, `register: ${r.text}`);
  let l;
  for (let i = 0; i < 20; i++) { // the auth service may be too busy to answer
    l = await call(`${API}/auth/login`, { method: 'POST', body: { email, password } })
      .catch((e) => ({ status: 599, text: String(e) }));
    if (l.status < 500) break;
    await sleep(1000);
  }
  assert.equal(l.status, 200, l.text);
  return { id: r.body.id, token: l.body.access_token };
}

async function newProduct(extra = {}) {
  const r = await call(`${API}/products`, {
    method: 'POST', headers: auth(admin),
    body: { sku: sku('CUR'), name: `Currency test ${RUN} ${seq}`, category_id: categoryId,
      price: '20.00', currency: 'USD', stock: 10, status: 'active', ...extra },
  });
  assert.equal(r.status, 201, `create product: ${r.text}`);
  return r.body;
}

function putPrices(id, prices) {
  return call(`${API}/products/${id}/prices`, { method: 'PUT', headers: auth(admin), body: { prices } });
}

async function placeOrderUntilFinal(token, body, timeoutMs = 60000) {
  const key = randomUUID();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let r;
    try {
      r = await call(`${API}/orders`, { method: 'POST', headers: { ...auth(token), 'idempotency-key': key }, body });
    } catch (e) { r = { status: 599, text: String(e) }; }
    const inProgress = r.status === 409 && /in progress/.test(r.body?.error?.message ?? '');
    if (r.status < 500 && !inProgress) return r;
    if (Date.now() > deadline) return r;
    await sleep(300);
  }
}

before(async () => {
  admin = await adminToken();
  categoryId = await newCategory(admin, `Currency ${RUN}`, `currency-${RUN}`);
});

test('a price list answers reads in its currency; a missing currency is 422 in detail and absent from lists', async () => {
  const both = await newProduct();
  const usdOnly = await newProduct();
  const r = await putPrices(both.id, [{ currency: 'EUR', amount: '18.50' }, { currency: 'JPY', amount: '3000' }]);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.prices, [{ currency: 'EUR', amount: '18.50' }, { currency: 'JPY', amount: '3000' }]);

  const eur = await call(`${API}/products/${both.id}?currency=EUR`);
  assert.equal(eur.status, 200, eur.text);
  assert.equal(eur.body.price, '18.50');
  assert.equal(eur.body.currency, 'EUR');
  const own = await call(`${API}/products/${both.id}?currency=USD`);
  assert.equal(own.body.price, '20.00');
  const plain = await call(`${API}/products/${both.id}`);
  assert.equal(plain.body.price, '20.00');
  assert.equal(plain.body.currency, 'USD');

  const missing = await call(`${API}/products/${usdOnly.id}?currency=EUR`);
  assertEnvelope(missing, 422, 'VALIDATION_ERROR');
  assert.equal(missing.body.error.details, 'currency');
  const bogus = await call(`${API}/products/${both.id}?currency=EURO`);
  assertEnvelope(bogus, 422, 'VALIDATION_ERROR');

  const list = await call(`${API}/products?category_id=${categoryId}&currency=EUR&limit=100`, { headers: auth(admin) });
  assert.equal(list.status, 200, list.text);
  const ids = list.body.items.map((p) => p.id);
  assert.ok(ids.includes(both.id));
  assert.ok(!ids.includes(usdOnly.id), 'a product without an EUR price leaves the EUR list');
  assert.equal(list.body.items.find((p) => p.id === both.id).price, '18.50');
  const cheap = await call(`${API}/products?category_id=${categoryId}&currency=EUR&max_price=19.00`, { headers: auth(admin) });
  assert.ok(cheap.body.items.some((p) => p.id === both.id), 'price bounds use the EUR price');
  const dear = await call(`${API}/products?category_id=${categoryId}&currency=EUR&min_price=19.00`, { headers: auth(admin) });
  assert.ok(!dear.body.items.some((p) => p.id === both.id));

  // Bad price lists.
  assertEnvelope(await putPrices(both.id, [{ currency: 'EUR', amount: '1' }, { currency: 'EUR', amount: '2' }]), 422, 'VALIDATION_ERROR');
  assertEnvelope(await putPrices(both.id, [{ currency: 'USD', amount: '1' }]), 422, 'VALIDATION_ERROR');
  assertEnvelope(await putPrices(both.id, [{ currency: 'EUR', amount: '-1' }]), 422, 'VALIDATION_ERROR');
  assertEnvelope(await putPrices(both.id, [{ currency: 'EUR', amount: '99999999999999999999' }]), 422, 'VALIDATION_ERROR');
  assertEnvelope(await putPrices(both.id, [{ currency: 'JPY', amount: '1.5' }]), 422, 'VALIDATION_ERROR');
  assertEnvelope(await putPrices(both.id, [{ currency: 'EUR', amount: 1 }]), 400, 'VALIDATION_ERROR');
  assertEnvelope(await putPrices(randomUUID(), []), 404, 'NOT_FOUND');
  // Unchanged after the refusals.
  const after = await call(`${API}/products/${both.id}?currency=EUR`, { headers: auth(admin) });
  assert.equal(after.body.price, '18.50');
});

test('the same product is bought in USD and in EUR at its list prices', async () => {
  const p = await newProduct({ price: '20.00' });
  assert.equal((await putPrices(p.id, [{ currency: 'EUR', amount: '18.50' }])).status, 200);

  const results = {};
  for (const [currency, address] of [['USD', US], ['EUR', DE]]) {
    const buyer = await newBuyer();
    const c = await call(`${API}/carts`, { method: 'POST', headers: auth(buyer.token), body: { currency } });
    assert.equal(c.status, 201, c.text);
    assert.equal(c.body.currency, currency);
    const add = await call(`${API}/carts/${c.body.id}/items`, {
      method: 'POST', headers: auth(buyer.token), body: { product_id: p.id, quantity: 2 },
    });
    assert.equal(add.status, 201, add.text);
    assert.equal(add.body.currency, currency);
    assert.equal(add.body.items[0].currency, currency);
    const order = await placeOrderUntilFinal(buyer.token, {
      cart_id: c.body.id, shipping_address: address, shipping_method: 'standard',
      payment_method: { type: 'card', token: 'tok_visa' },
    });
    assert.equal(order.status, 201, order.text);
    results[currency] = { order: order.body, buyer };
  }
  const usd = results.USD.order;
  const eur = results.EUR.order;
  assert.equal(usd.currency, 'USD');
  assert.equal(usd.items[0].unit_price, '20.00');
  assert.equal(usd.subtotal, '40.00');
  assert.equal(eur.currency, 'EUR');
  assert.equal(eur.items[0].unit_price, '18.50');
  assert.equal(eur.subtotal, '37.00');
  assert.equal(eur.tax_rate_bp, 1900); // DE VAT
  for (const o of [usd, eur]) {
    const shipping = o.shipping ?? o.shipping_cost;
    assert.equal(cents(o.total), cents(o.subtotal) + cents(o.tax) + cents(typeof shipping === 'object' ? shipping.amount : shipping));
  }
  // The payment is in the order's currency, for its total.
  const pay = await call(`${API}/payments?order_id=${eur.id}`, { headers: auth(results.EUR.buyer.token) });
  assert.equal(pay.status, 200, pay.text);
  assert.equal(pay.body.items[0].currency, 'EUR');
  assert.equal(pay.body.items[0].amount, eur.total);
  // Both sales took stock from the one product.
  const d = await call(`${API}/products/${p.id}`, { headers: auth(admin) });
  assert.equal(d.body.stock, 6);
});

test('a cart is in one currency: a product without a price in it is 422 naming it', async () => {
  const usdOnly = await newProduct();
  const buyer = await newBuyer();
  const c = await call(`${API}/carts`, { method: 'POST', headers: auth(buyer.token), body: { currency: 'EUR' } });
  assert.equal(c.status, 201, c.text);
  const add = await call(`${API}/carts/${c.body.id}/items`, {
    method: 'POST', headers: auth(buyer.token), body: { product_id: usdOnly.id, quantity: 1 },
  });
  assertEnvelope(add, 422, 'VALIDATION_ERROR');
  assert.equal(add.body.error.details, 'product_id');
  assert.match(add.body.error.message, new RegExp(usdOnly.id));

  const def = await call(`${API}/carts`, { method: 'POST', body: {} });
  assert.equal(def.status, 201);
  assert.equal(def.body.currency, 'USD', 'the store default');
  const bad = await call(`${API}/carts`, { method: 'POST', body: { currency: 'EURO' } });
  assertEnvelope(bad, 422, 'VALIDATION_ERROR');
  const sql = await call(`${API}/carts`, { method: 'POST', body: { currency: "';--" } });
  assert.ok([400, 422].includes(sql.status), sql.text);
  const unknownField = await call(`${API}/carts`, { method: 'POST', body: { currency: 'EUR', colour: 'x' } });
  assertEnvelope(unknownField, 422, 'VALIDATION_ERROR');
});
