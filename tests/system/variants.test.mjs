// variants.test.mjs - product options and variants, and prices per currency,
// through the gateway (DESIGN §5 Variants and Prices per currency;
// docs/catalog.md, docs/checkout.md): a variant's stock is its own, 50 buyers
// racing for the last 5 units of one variant make 5 orders and leave the
// others alone, a product with options needs a variant_id, one without keeps
// working with product_id alone, and one product sells in USD and in EUR at
// its list prices. Every test creates its own products and buyers.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { API, assertEnvelope, call, eventually, sleep, adminToken, newCategory } from './lib.mjs';

const RUN = randomUUID().slice(0, 8);
let admin;
let categoryId;
let seq = 0;

const auth = (token) => ({ authorization: `Bearer ${token}` });

const US = {
  first_name: 'Ada', last_name: 'Lovelace', line1: '1 Market St', city: 'San Francisco',
  state: 'CA', postal_code: '94105', country: 'US', phone: '+14155550100',
};
const DE = {
  first_name: 'Emmy', last_name: 'Noether', line1: 'Unter den Linden 1', city: 'Berlin',
  postal_code: '10117', country: 'DE', phone: '+493012345678',
};

const cents = (s) => {
  const [i, f = ''] = s.split('.');
  return Number(i) * 100 + Number((f + '00').slice(0, 2));
};

// Logs in, retrying while the auth service is too busy to answer (password
// hashing is slow on a loaded machine): a login changes nothing, so retrying
// is safe.
async function login(email, password) {
  let r;
  for (let i = 0; i < 20; i++) {
    r = await call(`${API}/auth/login`, { method: 'POST', body: { email, password } })
      .catch((e) => ({ status: 599, text: String(e) }));
    if (r.status < 500) break;
    await sleep(1000);
  }
  assert.equal(r.status, 200, `login ${email}: ${r.text}`);
  return r.body.access_token;
}

async function newBuyer() {
  const n = `${RUN}-${++seq}`;
  const email = `vbuyer-${n}@example.com`;
  const password = `Secret-${n}-pass!`;
  const r = await call(`${API}/users`, {
    method: 'POST',
    body: { email, password, username: `vbuyer_${n}`.replace(/-/g, '_'), first_name: 'Buyer', last_name: n, phone: '+15555550100' },
  });
  assert.equal(r.status, 201, `register: ${r.text}`);
  return { id: r.body.id, token: await login(email, password) };
}

const sku = (prefix) => `${prefix}-${RUN}-${++seq}`;

async function newProduct(extra = {}) {
  const r = await call(`${API}/products`, {
    method: 'POST', headers: auth(admin),
    body: { sku: sku('VAR'), name: `Variant test ${RUN} ${seq}`, category_id: categoryId,
      price: '20.00', currency: 'USD', stock: 0, status: 'active', ...extra },
  });
  assert.equal(r.status, 201, `create product: ${r.text}`);
  return r.body;
}

async function addVariant(productId, body) {
  return call(`${API}/products/${productId}/variants`, { method: 'POST', headers: auth(admin), body });
}

// A T-shirt in sizes S, M, L and colours red, blue: six variants, stock given
// per (size, colour), 10 when not.
async function shirt(stocks = {}) {
  const p = await newProduct({
    options: [{ name: 'size', values: ['S', 'M', 'L'] }, { name: 'color', values: ['red', 'blue'] }],
  });
  const variants = {};
  for (const size of ['S', 'M', 'L']) {
    for (const color of ['red', 'blue']) {
      const key = `${size}/${color}`;
      const r = await addVariant(p.id, {
        sku: sku(`TEE-${size}-${color}`), options: { size, color }, stock: stocks[key] ?? 10,
      });
      assert.equal(r.status, 201, `add variant: ${r.text}`);
      variants[key] = r.body.variants.find((v) => v.id === r.body.variant_id);
      assert.ok(variants[key], 'the answer lists the new variant');
    }
  }
  return { product: p, variants };
}

async function detail(id, query = '') {
  const r = await call(`${API}/products/${id}${query}`, { headers: auth(admin) });
  assert.equal(r.status, 200, r.text);
  return r.body;
}

async function newCart(token, body = {}) {
  const c = await call(`${API}/carts`, { method: 'POST', headers: auth(token), body });
  assert.equal(c.status, 201, `create cart: ${c.text}`);
  return c.body;
}

function addItem(token, cartId, body) {
  return call(`${API}/carts/${cartId}/items`, { method: 'POST', headers: auth(token), body });
}

function checkoutBody(cartId, address = US) {
  return { cart_id: cartId, shipping_address: address, shipping_method: 'standard',
    payment_method: { type: 'card', token: 'tok_visa' } };
}

async function placeOrderUntilFinal(token, key, body, timeoutMs = 120000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let r;
    try {
      r = await call(`${API}/orders`, {
        method: 'POST', headers: { ...auth(token), 'idempotency-key': key }, body,
      });
    } catch (e) { r = { status: 599, text: String(e) }; }
    const inProgress = r.status === 409 && /in progress/.test(r.body?.error?.message ?? '');
    if (r.status < 500 && !inProgress) return r;
    if (Date.now() > deadline) return r;
    await sleep(300);
  }
}

before(async () => {
  admin = await adminToken();
  categoryId = await newCategory(admin, `Variants ${RUN}`, `variants-${RUN}`);
});

test('a product with sizes and colours shows its options and variants; stock is the variants\'', async () => {
  const { product, variants } = await shirt({ 'M/red': 3 });
  const d = await detail(product.id);
  assert.deepEqual(d.options, [{ name: 'size', values: ['S', 'M', 'L'] }, { name: 'color', values: ['red', 'blue'] }]);
  assert.equal(d.variants.length, 6);
  assert.equal(d.stock, 53);
  const m = d.variants.find((v) => v.id === variants['M/red'].id);
  assert.deepEqual(m.options, { size: 'M', color: 'red' });
  assert.equal(m.price, '20.00'); // the product's price: none of its own
  assert.equal(m.currency, 'USD');
  assert.equal(m.stock, 3);
  assert.equal(m.available, 3);

  // A variant with its own price.
  const r = await call(`${API}/variants/${variants['L/blue'].id}`, {
    method: 'PATCH', headers: auth(admin), body: { price: '24.00' },
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.variants.find((v) => v.id === variants['L/blue'].id).price, '24.00');

  // The list shows the variants too.
  const list = await call(`${API}/products?category_id=${categoryId}&limit=100`, { headers: auth(admin) });
  assert.equal(list.status, 200, list.text);
  const item = list.body.items.find((p) => p.id === product.id);
  assert.equal(item.variants.length, 6);
});

test('buying a variant takes that variant\'s stock only', async () => {
  const { product, variants } = await shirt();
  const buyer = await newBuyer();
  const cart = await newCart(buyer.token);
  const add = await addItem(buyer.token, cart.id,
    { product_id: product.id, variant_id: variants['M/red'].id, quantity: 2 });
  assert.equal(add.status, 201, add.text);
  assert.equal(add.body.items[0].variant_id, variants['M/red'].id);
  assert.equal(add.body.items[0].sku, variants['M/red'].sku);
  // The same product in another variant is another line.
  const add2 = await addItem(buyer.token, cart.id,
    { product_id: product.id, variant_id: variants['S/blue'].id, quantity: 1 });
  assert.equal(add2.status, 201, add2.text);
  assert.equal(add2.body.items.length, 2);
  // Lines are named by their variant: change and remove one.
  const patch = await call(`${API}/carts/${cart.id}/items/${variants['S/blue'].id}`, {
    method: 'PATCH', headers: auth(buyer.token), body: { quantity: 3 },
  });
  assert.equal(patch.status, 200, patch.text);
  const del = await call(`${API}/carts/${cart.id}/items/${variants['S/blue'].id}`, {
    method: 'DELETE', headers: auth(buyer.token),
  });
  assert.equal(del.status, 200, del.text);
  assert.equal(del.body.items.length, 1);

  const r = await placeOrderUntilFinal(buyer.token, randomUUID(), checkoutBody(cart.id));
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.items.length, 1);
  assert.equal(r.body.items[0].variant_id, variants['M/red'].id);
  assert.equal(r.body.items[0].product_id, product.id);

  const d = await detail(product.id);
  for (const v of d.variants) {
    const expected = v.id === variants['M/red'].id ? 8 : 10;
    assert.equal(v.stock, expected, `stock of ${v.sku}`);
    assert.equal(v.available, expected, `available of ${v.sku}`);
  }
});

test('50 buyers racing for the last 5 of one variant make 5 orders; the other variants are untouched', async () => {
  const { product, variants } = await shirt({ 'L/blue': 5 });
  const target = variants['L/blue'].id;
  // Ten customers (made one after the other: signing up is slow work) with
  // five carts each: 50 checkouts of one unit at once.
  const buyers = [];
  for (let i = 0; i < 10; i++) buyers.push(await newBuyer());
  const jobs = [];
  for (const b of buyers) {
    for (let i = 0; i < 5; i++) {
      const cart = await newCart(b.token);
      const r = await addItem(b.token, cart.id, { product_id: product.id, variant_id: target, quantity: 1 });
      assert.equal(r.status, 201, r.text);
      jobs.push({ b, cartId: cart.id });
    }
  }
  const answers = await Promise.all(jobs.map(({ b, cartId }) =>
    placeOrderUntilFinal(b.token, randomUUID(), checkoutBody(cartId))));
  const statuses = answers.map((a) => a.status);
  assert.equal(statuses.filter((s) => s === 201).length, 5, `statuses: ${statuses.join(',')}`);
  assert.equal(statuses.filter((s) => s === 409).length, 45, `statuses: ${statuses.join(',')}`);
  for (const a of answers.filter((x) => x.status === 201))
    assert.equal(a.body.items[0].variant_id, target);

  const d = await detail(product.id);
  for (const v of d.variants) {
    if (v.id === target) {
      assert.equal(v.stock, 0);
      assert.equal(v.available, 0);
    } else {
      assert.equal(v.stock, 10, `untouched ${v.sku}`);
      assert.equal(v.available, 10, `untouched ${v.sku}`);
    }
  }
});

test('variant_id is required for a product with options; product_id alone works for one without', async () => {
  const { product, variants } = await shirt();
  const plain = await newProduct({ stock: 4 });
  const buyer = await newBuyer();
  const cart = await newCart(buyer.token);

  const missing = await addItem(buyer.token, cart.id, { product_id: product.id, quantity: 1 });
  assertEnvelope(missing, 422, 'VALIDATION_ERROR');
  assert.equal(missing.body.error.details, 'variant_id');

  const foreign = await addItem(buyer.token, cart.id,
    { product_id: plain.id, variant_id: variants['S/red'].id, quantity: 1 });
  assertEnvelope(foreign, 422, 'VALIDATION_ERROR');
  assert.equal(foreign.body.error.details, 'variant_id');

  const unknown = await addItem(buyer.token, cart.id,
    { product_id: product.id, variant_id: randomUUID(), quantity: 1 });
  assertEnvelope(unknown, 422, 'VALIDATION_ERROR');

  const notUuid = await addItem(buyer.token, cart.id,
    { product_id: product.id, variant_id: "x' OR 1=1 --", quantity: 1 });
  assert.ok([400, 422].includes(notUuid.status), notUuid.text);

  const ok = await addItem(buyer.token, cart.id, { product_id: plain.id, quantity: 2 });
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.body.items[0].variant_id, null);
  const r = await placeOrderUntilFinal(buyer.token, randomUUID(), checkoutBody(cart.id));
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.items[0].variant_id, null);
  const d = await detail(plain.id);
  assert.equal(d.stock, 2);
  assert.deepEqual(d.options, []);
  assert.deepEqual(d.variants, []);
});

test('inventory adjustments take variant_id; a product with options needs one', async () => {
  const { product, variants } = await shirt();
  const url = `${API}/products/${product.id}/inventory-adjustments`;
  const without = await call(url, { method: 'POST', headers: auth(admin), body: { delta: 5, reason: 'count' } });
  assertEnvelope(without, 422, 'VALIDATION_ERROR');
  assert.equal(without.body.error.details, 'variant_id');
  const r = await call(url, {
    method: 'POST', headers: auth(admin), body: { delta: 5, reason: 'count', variant_id: variants['S/red'].id },
  });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.variant_id, variants['S/red'].id);
  assert.equal(r.body.stock, 15);
  const below = await call(url, {
    method: 'POST', headers: auth(admin), body: { delta: -16, reason: 'loss', variant_id: variants['S/red'].id },
  });
  assertEnvelope(below, 409, 'CONFLICT');
  const d = await detail(product.id);
  assert.equal(d.variants.find((v) => v.id === variants['S/red'].id).stock, 15);
  assert.equal(d.variants.find((v) => v.id === variants['S/blue'].id).stock, 10);
});

test('bad variants are refused: duplicate SKU, unknown option value, negative stock, price overflow', async () => {
  const { product, variants } = await shirt();
  const plain = await newProduct();

  const dupVariant = await addVariant(product.id, { sku: variants['S/red'].sku, options: { size: 'S', color: 'red' } });
  assertEnvelope(dupVariant, 409, 'CONFLICT');
  // SKUs are unique across products and variants.
  const dupProduct = await addVariant(product.id, { sku: plain.sku, options: { size: 'S', color: 'red' } });
  assertEnvelope(dupProduct, 409, 'CONFLICT');
  const productLikeVariant = await call(`${API}/products`, {
    method: 'POST', headers: auth(admin),
    body: { sku: variants['M/blue'].sku, name: 'clash', category_id: categoryId, price: '1.00' },
  });
  assertEnvelope(productLikeVariant, 409, 'CONFLICT');

  // The same combination twice (another SKU) is a conflict too.
  const again = await addVariant(product.id, { sku: sku('TEE-AGAIN'), options: { color: 'red', size: 'S' } });
  assertEnvelope(again, 409, 'CONFLICT');

  const badValue = await addVariant(product.id, { sku: sku('TEE-XL'), options: { size: 'XL', color: 'red' } });
  assertEnvelope(badValue, 422, 'VALIDATION_ERROR');
  assert.equal(badValue.body.error.details, 'options');
  const badName = await addVariant(product.id, { sku: sku('TEE-F'), options: { size: 'S', color: 'red', fabric: 'silk' } });
  assertEnvelope(badName, 422, 'VALIDATION_ERROR');
  const partial = await addVariant(product.id, { sku: sku('TEE-P'), options: { size: 'S' } });
  assertEnvelope(partial, 422, 'VALIDATION_ERROR');
  const noOptions = await addVariant(plain.id, { sku: sku('PLAIN-V'), options: { size: 'S' } });
  assertEnvelope(noOptions, 422, 'VALIDATION_ERROR');

  const negative = await addVariant(product.id, { sku: sku('TEE-N'), options: { size: 'S', color: 'red' }, stock: -1 });
  assertEnvelope(negative, 422, 'VALIDATION_ERROR');
  assert.equal(negative.body.error.details, 'stock');
  const overflow = await addVariant(product.id,
    { sku: sku('TEE-O'), options: { size: 'S', color: 'red' }, price: '99999999999999999999.99' });
  assertEnvelope(overflow, 422, 'VALIDATION_ERROR');
  assert.equal(overflow.body.error.details, 'price');
  const numeric = await addVariant(product.id, { sku: sku('TEE-Q'), options: { size: 1, color: 'red' } });
  assertEnvelope(numeric, 400, 'VALIDATION_ERROR');
  const sqlSku = await addVariant(product.id, { sku: "x'; DROP TABLE variants; --", options: { size: 'S', color: 'red' } });
  assertEnvelope(sqlSku, 422, 'VALIDATION_ERROR');
  const unknownField = await addVariant(product.id, { sku: sku('TEE-U'), options: { size: 'S', color: 'blue' }, colour: 'x' });
  assertEnvelope(unknownField, 422, 'VALIDATION_ERROR');
  const badUtf8 = await call(`${API}/products/${product.id}/variants`, {
    method: 'POST', headers: { ...auth(admin), 'content-type': 'application/json' },
    raw: Buffer.from([0x7b, 0x22, 0x73, 0x6b, 0x75, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
  });
  assertEnvelope(badUtf8, 400, 'VALIDATION_ERROR');

  const badOptions = await call(`${API}/products`, {
    method: 'POST', headers: auth(admin),
    body: { sku: sku('OPT'), name: 'opts', category_id: categoryId, price: '1.00',
      options: [{ name: 'size', values: ['S', 'S'] }] },
  });
  assertEnvelope(badOptions, 422, 'VALIDATION_ERROR');
  assert.equal(badOptions.body.error.details, 'options');

  // Options that live variants rely on cannot go away.
  const shrink = await call(`${API}/products/${product.id}`, {
    method: 'PATCH', headers: auth(admin), body: { options: [{ name: 'size', values: ['S', 'M', 'L'] }] },
  });
  assertEnvelope(shrink, 409, 'CONFLICT');
  const grow = await call(`${API}/products/${product.id}`, {
    method: 'PATCH', headers: auth(admin),
    body: { options: [{ name: 'size', values: ['S', 'M', 'L', 'XL'] }, { name: 'color', values: ['red', 'blue'] }] },
  });
  assert.equal(grow.status, 200, grow.text);
  const stockOnProduct = await call(`${API}/products/${product.id}`, {
    method: 'PATCH', headers: auth(admin), body: { stock: 3 },
  });
  assertEnvelope(stockOnProduct, 422, 'VALIDATION_ERROR');

  // A deleted variant leaves the product and can no longer be bought.
  const gone = await call(`${API}/variants/${variants['S/red'].id}`, { method: 'DELETE', headers: auth(admin) });
  assert.equal(gone.status, 200, gone.text);
  assert.equal(gone.body.variants.length, 5);
  const buyer = await newBuyer();
  const cart = await newCart(buyer.token);
  const add = await addItem(buyer.token, cart.id, { product_id: product.id, variant_id: variants['S/red'].id, quantity: 1 });
  assertEnvelope(add, 422, 'VALIDATION_ERROR');
  const nothing = await call(`${API}/variants/${randomUUID()}`, { method: 'PATCH', headers: auth(admin), body: { stock: 1 } });
  assertEnvelope(nothing, 404, 'NOT_FOUND');
  const anonymous = await call(`${API}/variants/${variants['M/red'].id}`, { method: 'PATCH', body: { stock: 1 } });
  assert.equal(anonymous.status, 401);
});
