// recommendations.test.mjs - the recommendation service through the gateway
// (DESIGN §5 Recommendations; docs/recommendations.md): bought-together from
// confirmed orders, never the product itself, an archived or sold-out
// product; trending for a new user; a personal list that never repeats a
// purchase; the clickstream and its co-views; variants (their colours and
// sizes in content similarity, orders and clicks naming a variant counting
// for its product); bad input. Every test makes its own products and buyers.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { API, assertEnvelope, call, eventually } from './lib.mjs';

const RUN = randomUUID().slice(0, 8);
let admin;
let categoryId;
let otherCategoryId;
let seq = 0;

const auth = (token) => ({ authorization: `Bearer ${token}` });
const ADDRESS = {
  first_name: 'Ada', last_name: 'Lovelace', line1: '1 Market St', city: 'San Francisco',
  state: 'CA', postal_code: '94105', country: 'US', phone: '+14155550100',
};
const REASONS = ['bought_together', 'similar', 'personal', 'trending', 'new'];

async function login(email, password) {
  const r = await call(`${API}/auth/login`, { method: 'POST', body: { email, password } });
  assert.equal(r.status, 200, `login ${email}: ${r.text}`);
  return r.body.access_token;
}

async function newBuyer() {
  const n = `${RUN}-${++seq}`;
  const email = `reco-${n}@example.com`;
  const password = `Secret-${n}-pass!`;
  const r = await call(`${API}/users`, {
    method: 'POST',
    body: { email, password, username: `reco_${n}`.replace(/-/g, '_'), first_name: 'Reco', last_name: n, phone: '+15555550100' },
  });
  assert.equal(r.status, 201, `register: ${r.text}`);
  return { id: r.body.id, token: await login(email, password) };
}

async function newProduct({ stock = 50, category = categoryId, brand = 'Acme' } = {}) {
  const n = `${RUN}-${++seq}`;
  const r = await call(`${API}/products`, {
    method: 'POST', headers: auth(admin),
    body: { sku: `RECO-${n}`, name: `Reco test ${n}`, description: 'test', category_id: category,
      price: '25.00', currency: 'USD', stock, status: 'active', attributes: { brand } },
  });
  assert.equal(r.status, 201, `create product: ${r.text}`);
  return r.body;
}

// A confirmed order of the given products (one unit each).
async function buy(token, products) {
  const c = await call(`${API}/carts`, { method: 'POST', headers: auth(token), body: {} });
  assert.equal(c.status, 201, c.text);
  for (const p of products) {
    const r = await call(`${API}/carts/${c.body.id}/items`, {
      method: 'POST', headers: auth(token), body: { product_id: p.id, quantity: 1 },
    });
    assert.equal(r.status, 201, `add item: ${r.text}`);
  }
  const body = { cart_id: c.body.id, shipping_address: ADDRESS, shipping_method: 'standard',
    payment_method: { type: 'card', token: 'tok_visa' } };
  const key = randomUUID();
  const o = await eventually(async () => {
    const r = await call(`${API}/orders`, { method: 'POST', headers: { ...auth(token), 'idempotency-key': key }, body });
    return r.status < 500 && r.status !== 409 ? r : null;
  }, 60000, 300);
  assert.equal(o.status, 201, `checkout: ${o.text}`);
  assert.equal(o.body.status, 'confirmed');
  return o.body;
}

const ids = (r) => r.body.items.map((i) => i.id);

function assertItems(r) {
  assert.equal(r.status, 200, r.text);
  assert.ok(Array.isArray(r.body.items), r.text);
  assert.deepEqual(Object.keys(r.body), ['items']);
  let last = Infinity;
  for (const it of r.body.items) {
    assert.match(it.id, /^[0-9a-f-]{36}$/);
    assert.equal(typeof it.name, 'string');
    assert.match(it.price, /^\d+(\.\d+)?$/, 'a decimal string (JPY has no decimals)');
    assert.equal(typeof it.currency, 'string');
    assert.equal(it.status, 'active');
    assert.ok(it.available > 0, `in stock: ${JSON.stringify(it)}`);
    assert.equal(typeof it.score, 'number');
    assert.ok(REASONS.includes(it.reason), it.reason);
    assert.ok(!('weight_grams' in it));
    if (it.reason === r.body.items[0].reason) {
      assert.ok(it.score <= last + 1e-9, 'scores never rise within a source');
      last = it.score;
    }
  }
}

const productRecs = (id, kind = 'bought_together', limit = 50) =>
  call(`${API}/recommendations/products/${id}?kind=${kind}&limit=${limit}`);

before(async () => {
  const email = process.env.SHOPSPHERE_ADMIN_EMAIL;
  const password = process.env.SHOPSPHERE_ADMIN_PASSWORD;
  assert.ok(email && password, 'SHOPSPHERE_ADMIN_EMAIL / _PASSWORD must be set');
  admin = await eventually(async () => {
    const r = await call(`${API}/auth/login`, { method: 'POST', body: { email, password } });
    return r.status === 200 ? r.body.access_token : null;
  }, 40000, 4500);
  for (const [name, set] of [['a', (v) => { categoryId = v; }], ['b', (v) => { otherCategoryId = v; }]]) {
    const c = await call(`${API}/categories`, {
      method: 'POST', headers: auth(admin), body: { name: `Reco ${RUN} ${name}`, slug: `reco-${RUN}-${name}` },
    });
    assert.equal(c.status, 201, `create category: ${c.text}`);
    set(c.body.id);
  }
});

test('bought together: after orders of A and B, A lists B (never A, an archived or a sold-out product)', async () => {
  const a = await newProduct();
  const b = await newProduct({ category: otherCategoryId, brand: 'Other' });
  const z = await newProduct({ category: otherCategoryId, brand: 'Other' });
  const last = await newProduct({ stock: 1, category: otherCategoryId, brand: 'Other' });
  const [u1, u2, u3] = [await newBuyer(), await newBuyer(), await newBuyer()];
  await buy(u1.token, [a, b]);
  await buy(u2.token, [a, b, z]);
  await buy(u3.token, [a, last]); // the last unit: sold out afterwards

  const r = await eventually(async () => {
    const x = await productRecs(a.id);
    return x.status === 200 && ids(x).includes(b.id) && ids(x).includes(z.id) ? x : null;
  }, 60000, 500);
  assertItems(r);
  const first = r.body.items.find((i) => i.id === b.id);
  assert.equal(first.reason, 'bought_together');
  assert.equal(r.body.items[0].id, b.id, 'bought twice with A: first');
  assert.ok(!ids(r).includes(a.id), 'never the product itself');
  assert.ok(!ids(r).includes(last.id), 'never a sold-out product');
  // And the other way round.
  await eventually(async () => ids(await productRecs(b.id)).includes(a.id), 60000, 500);

  // Archiving Z takes it out of A's list.
  const del = await call(`${API}/products/${z.id}`, { method: 'DELETE', headers: auth(admin) });
  assert.ok(del.status === 200 || del.status === 204, del.text);
  await eventually(async () => {
    const x = await productRecs(a.id);
    return x.status === 200 && !ids(x).includes(z.id) && ids(x).includes(b.id);
  }, 60000, 500);

  // limit is honoured.
  const one = await productRecs(a.id, 'bought_together', 1);
  assertItems(one);
  assert.equal(one.body.items.length, 1);
});

test('a new user gets trending; /me requires sign-in; /trending is public', async () => {
  const fresh = await newBuyer();
  const me = await call(`${API}/recommendations/me`, { headers: auth(fresh.token) });
  assertItems(me);
  assert.ok(me.body.items.length > 0, 'not empty');
  for (const it of me.body.items) assert.ok(['trending', 'new'].includes(it.reason), it.reason);

  const t = await call(`${API}/recommendations/trending?limit=5`);
  assertItems(t);
  assert.ok(t.body.items.length > 0 && t.body.items.length <= 5);

  assertEnvelope(await call(`${API}/recommendations/me`), 401, 'AUTHENTICATION_ERROR');
});

test('/me is personal and never lists something the user bought', async () => {
  const a = await newProduct();
  const b = await newProduct({ category: otherCategoryId, brand: 'Other' });
  const c = await newProduct({ category: otherCategoryId, brand: 'Third' });
  const shopper = await newBuyer();
  const other = await newBuyer();
  await buy(other.token, [a, c]);
  await buy(shopper.token, [a, b]);
  // C was bought with A by someone else: the shopper's list offers it.
  const r = await eventually(async () => {
    const x = await call(`${API}/recommendations/me?limit=50`, { headers: auth(shopper.token) });
    // C may show as trending first (the other's order counts before the
    // co-purchase model refreshes); the personal reason must follow.
    const hit = x.status === 200 && x.body.items.find((i) => i.id === c.id);
    return hit && hit.reason === 'personal' ? x : null;
  }, 60000, 500);
  assertItems(r);
  assert.ok(!ids(r).includes(a.id), 'never a product the user bought');
  assert.ok(!ids(r).includes(b.id), 'never a product the user bought');
});

test('clickstream: views by session make co-viewed products similar; tokens name the user', async () => {
  const p1 = await newProduct();
  const p2 = await newProduct({ category: otherCategoryId, brand: 'Other' });
  const session = `s-${RUN}-${randomUUID()}`;
  // The snapshot learns of new products by event: wait until p1 is known.
  await eventually(async () => (await productRecs(p1.id, 'similar')).status === 200, 30000, 300);
  for (const p of [p1, p2]) {
    const r = await call(`${API}/recommendations/events`, {
      method: 'POST', body: { type: 'view', product_id: p.id, session_id: session },
    });
    assert.equal(r.status, 202, r.text);
    assert.deepEqual(r.body, { status: 'accepted' });
  }
  const s = await eventually(async () => {
    const x = await productRecs(p1.id, 'similar');
    return x.status === 200 && ids(x).includes(p2.id) ? x : null;
  }, 60000, 500);
  assertItems(s);
  assert.equal(s.body.items.find((i) => i.id === p2.id).reason, 'similar');

  // Signed in (user from the token), anonymous without a session, add to cart.
  const u = await newBuyer();
  let r = await call(`${API}/recommendations/events`, {
    method: 'POST', headers: auth(u.token), body: { type: 'add_to_cart', product_id: p1.id },
  });
  assert.equal(r.status, 202, r.text);
  r = await call(`${API}/recommendations/events`, { method: 'POST', body: { type: 'view', product_id: p2.id } });
  assert.equal(r.status, 202, r.text);
  // A bad token is refused even on this public route.
  r = await call(`${API}/recommendations/events`, {
    method: 'POST', headers: auth('not.a.token'), body: { type: 'view', product_id: p2.id },
  });
  assertEnvelope(r, 401, 'AUTHENTICATION_ERROR');
});

test('similar lists cover a cold product from its category and brand', async () => {
  const a = await newProduct({ brand: `Cold-${RUN}` });
  const b = await newProduct({ brand: `Cold-${RUN}` });
  const r = await eventually(async () => {
    const x = await productRecs(a.id, 'similar');
    return x.status === 200 && ids(x).includes(b.id) ? x : null;
  }, 60000, 500);
  assertItems(r);
  assert.ok(!ids(r).includes(a.id));
  // Nothing bought with it yet: bought_together falls back to similar ones.
  const bt = await productRecs(a.id);
  assertItems(bt);
  assert.ok(bt.body.items.every((i) => i.reason === 'similar'));
});

// A product with options and its variants (colour, size), in a category of
// its own unless given; the answer is the product with its variants.
async function variantProduct({ category, options, variants, attributes = {} }) {
  const n = `${RUN}-${++seq}`;
  const r = await call(`${API}/products`, {
    method: 'POST', headers: auth(admin),
    body: { sku: `RECO-V-${n}`, name: `Reco variant test ${n}`, description: 'test', category_id: category,
      price: '25.00', currency: 'USD', stock: 0, status: 'active', attributes, options },
  });
  assert.equal(r.status, 201, `create product: ${r.text}`);
  let last = r.body;
  for (const [i, v] of variants.entries()) {
    const x = await call(`${API}/products/${r.body.id}/variants`, {
      method: 'POST', headers: auth(admin), body: { sku: `RECO-V-${n}-${i}`, stock: 20, ...v },
    });
    assert.equal(x.status, 201, `add variant: ${x.text}`);
    last = x.body;
  }
  return last;
}

async function newCategoryId(tag) {
  const c = await call(`${API}/categories`, {
    method: 'POST', headers: auth(admin), body: { name: `Reco ${RUN} ${tag}`, slug: `reco-${RUN}-${tag}-${++seq}` },
  });
  assert.equal(c.status, 201, `create category: ${c.text}`);
  return c.body.id;
}

test("similar lists compare the variants' colours and sizes (options and variant attributes)", async () => {
  const category = await newCategoryId('tees');
  // Created in the order their ids would rank them if content ignored variants.
  const green = await variantProduct({
    category, options: [{ name: 'Colour', values: ['Green'] }, { name: 'size', values: ['XL'] }],
    variants: [{ options: { Colour: 'Green', size: 'XL' } }],
  });
  const plain = await call(`${API}/products`, {
    method: 'POST', headers: auth(admin),
    body: { sku: `RECO-P-${RUN}-${++seq}`, name: `Reco plain ${RUN} ${seq}`, description: 'test', category_id: category,
      price: '25.00', currency: 'USD', stock: 20, status: 'active', attributes: { color: 'Red' } },
  });
  assert.equal(plain.status, 201, plain.text);
  const redPlain = plain.body;
  const redM = await variantProduct({
    category, options: [{ name: 'fit', values: ['regular'] }],
    variants: [{ options: { fit: 'regular' }, attributes: { color: 'red', size: 'M' } }],
  });
  const tee = await variantProduct({
    category, options: [{ name: 'color', values: ['red', 'blue'] }, { name: 'size', values: ['S', 'M'] }],
    variants: [
      { options: { color: 'red', size: 'S' } }, { options: { color: 'blue', size: 'M' } },
    ],
  });
  const want = [redM.id, redPlain.id, green.id];
  const r = await eventually(async () => {
    const x = await productRecs(tee.id, 'similar');
    return x.status === 200 && JSON.stringify(ids(x)) === JSON.stringify(want) ? x : null;
  }, 90000, 500);
  assertItems(r);
  // red (a variant's attribute) and M (a variant's size) agree with the tee's
  // red/blue and S/M variants; the plain product's red attribute agrees on
  // the colour only; the green XL one on nothing.
  const [a, b, c] = r.body.items.map((i) => i.score);
  assert.ok(a > b && b > c, `scores ${a} > ${b} > ${c}`);
  const shown = r.body.items.find((i) => i.id === redM.id);
  assert.equal(shown.variants.length, 1, 'items show their variants as the catalog renders them');
  assert.equal(shown.variants[0].attributes.color, 'red');
});

test('orders and clicks that name a variant count for its product', async () => {
  const category = await newCategoryId('variant-signals');
  const tee = await variantProduct({
    category, options: [{ name: 'color', values: ['red', 'blue'] }],
    variants: [{ options: { color: 'red' } }, { options: { color: 'blue' } }],
  });
  const [red, blue] = ['red', 'blue'].map((c) => tee.variants.find((v) => v.options.color === c));
  const cap = await newProduct({ category: otherCategoryId, brand: 'Other' });
  const buyer = await newBuyer();
  // One order of two variants of the tee and the cap.
  const cart = await call(`${API}/carts`, { method: 'POST', headers: auth(buyer.token), body: {} });
  assert.equal(cart.status, 201, cart.text);
  for (const body of [{ product_id: tee.id, variant_id: red.id, quantity: 1 },
    { product_id: tee.id, variant_id: blue.id, quantity: 2 }, { product_id: cap.id, quantity: 1 }]) {
    const x = await call(`${API}/carts/${cart.body.id}/items`, { method: 'POST', headers: auth(buyer.token), body });
    assert.equal(x.status, 201, `add item: ${x.text}`);
  }
  const key = randomUUID();
  const o = await eventually(async () => {
    const x = await call(`${API}/orders`, {
      method: 'POST', headers: { ...auth(buyer.token), 'idempotency-key': key },
      body: { cart_id: cart.body.id, shipping_address: ADDRESS, shipping_method: 'standard',
        payment_method: { type: 'card', token: 'tok_visa' } },
    });
    return x.status < 500 && x.status !== 409 ? x : null;
  }, 60000, 300);
  assert.equal(o.status, 201, `checkout: ${o.text}`);
  assert.deepEqual(o.body.items.map((i) => i.variant_id).filter(Boolean).sort(), [red.id, blue.id].sort());

  // The co-purchase counts once for the tee (both variant lines), both ways.
  const bt = await eventually(async () => {
    const x = await productRecs(cap.id);
    return x.status === 200 && ids(x).includes(tee.id) ? x : null;
  }, 60000, 500);
  assertItems(bt);
  assert.equal(bt.body.items.find((i) => i.id === tee.id).reason, 'bought_together');
  assert.equal(bt.body.items.filter((i) => i.id === tee.id).length, 1);
  await eventually(async () => ids(await productRecs(tee.id)).includes(cap.id), 60000, 500);

  // Clicks: a variant with its product, and a variant alone (the service
  // knows whose it is), co-viewed in one session.
  const scarf = await variantProduct({
    category: await newCategoryId('scarves'), options: [{ name: 'color', values: ['teal'] }],
    variants: [{ options: { color: 'teal' } }],
  });
  const teal = scarf.variants[0];
  await eventually(async () => {
    const x = await productRecs(scarf.id, 'similar');
    return x.status === 200;
  }, 60000, 300);
  const session = `s-${RUN}-${randomUUID()}`;
  const ev = (body) => call(`${API}/recommendations/events`, { method: 'POST', body: { session_id: session, ...body } });
  let x = await ev({ type: 'view', product_id: tee.id, variant_id: red.id });
  assert.equal(x.status, 202, x.text);
  x = await ev({ type: 'add_to_cart', variant_id: teal.id });
  assert.equal(x.status, 202, x.text);
  const sim = await eventually(async () => {
    const y = await productRecs(tee.id, 'similar');
    return y.status === 200 && ids(y).includes(scarf.id) ? y : null;
  }, 60000, 500);
  assertItems(sim);
  await eventually(async () => ids(await productRecs(scarf.id, 'similar')).includes(tee.id), 60000, 500);

  // A variant of another product, or one nobody knows, alone: 422 naming it.
  const bad = async (body) => {
    const y = await call(`${API}/recommendations/events`, { method: 'POST', body });
    assertEnvelope(y, 422, 'VALIDATION_ERROR');
    assert.equal(y.body.error.details, 'variant_id', y.text);
  };
  await bad({ type: 'view', product_id: cap.id, variant_id: red.id });
  await bad({ type: 'view', variant_id: randomUUID() });
  const y = await call(`${API}/recommendations/events`, { method: 'POST', body: { type: 'view', variant_id: 'red' } });
  assertEnvelope(y, 422, 'VALIDATION_ERROR');
  assert.equal(y.body.error.details, 'variant_id');
});

test('bad input: the standard envelope naming the field', async () => {
  const p = await newProduct();
  const ev = (body, headers = {}) => call(`${API}/recommendations/events`, { method: 'POST', body, headers });
  const field = (r, status, name) => {
    assertEnvelope(r, status, 'VALIDATION_ERROR');
    if (name) assert.equal(r.body.error.details, name, r.text);
  };
  field(await ev({ product_id: p.id }), 422, 'type');
  field(await ev({ type: 'buy', product_id: p.id }), 422, 'type');
  field(await ev({ type: 'view' }), 422, 'product_id');
  field(await ev({ type: 'view', product_id: "x'; DROP TABLE clicks; --" }), 422, 'product_id');
  field(await ev({ type: 'view', product_id: p.id, extra: 1 }), 422, 'extra');
  field(await ev({ type: 'view', product_id: p.id, session_id: 's'.repeat(200) }), 422, 'session_id');
  field(await ev({ type: 'view', product_id: p.id, session_id: 12 }), 400, 'session_id');
  field(await ev({ type: 7, product_id: p.id }), 400, 'type');
  field(await call(`${API}/recommendations/events`, {
    method: 'POST', raw: '{"type": "view", ', headers: { 'content-type': 'application/json' },
  }), 400);
  field(await call(`${API}/recommendations/events`, {
    method: 'POST', raw: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
    headers: { 'content-type': 'application/json' },
  }), 400);

  field(await call(`${API}/recommendations/products/${p.id}?kind=popular`), 422, 'kind');
  for (const bad of ['0', '51', '-1', 'abc', '99999999999999999999', '1.5']) {
    field(await call(`${API}/recommendations/products/${p.id}?limit=${bad}`), 422, 'limit');
  }
  field(await call(`${API}/recommendations/trending?limit=0`), 422, 'limit');
  assertEnvelope(await call(`${API}/recommendations/products/${randomUUID()}`), 404, 'NOT_FOUND');
  assertEnvelope(await call(`${API}/recommendations/products/not-a-uuid`), 404, 'NOT_FOUND');
  assertEnvelope(await call(`${API}/recommendations/products/%27%20OR%201%3D1`), 404, 'NOT_FOUND');
});
