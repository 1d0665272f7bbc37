// cart.test.mjs - the cart service through the gateway (DESIGN §5 Cart,
// docs/checkout.md): guest carts with unguessable ids, carts bound to their
// user, quantities within 1..99 and the stock, prices re-validated against
// the catalog on every read, and merging a guest cart on sign-in.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { API, assertEnvelope, call, eventually, serviceUrl } from './lib.mjs';

const RUN = randomUUID().slice(0, 8);
let admin;
let categoryId;
let seq = 0;
const auth = (token) => (token ? { authorization: `Bearer ${token}` } : {});

async function login(email, password) {
  const r = await call(`${API}/auth/login`, { method: 'POST', body: { email, password } });
  assert.equal(r.status, 200, `login ${email}: ${r.text}`);
  return r.body.access_token;
}

async function newUser() {
  const n = `${RUN}-${++seq}`;
  const email = `cart-${n}@example.com`;
  const password = `Secret-${n}-pass!`;
  const r = await call(`${API}/users`, {
    method: 'POST',
    body: { email, password, username: `cart_${n}`.replace(/-/g, '_'), first_name: 'Cart', last_name: n, phone: '+15555550100' },
  });
  assert.equal(r.status, 201, `register: ${r.text}`);
  return { id: r.body.id, token: await login(email, password) };
}

async function newProduct({ price = '10.00', stock = 10 } = {}) {
  const n = `${RUN}-${++seq}`;
  const r = await call(`${API}/products`, {
    method: 'POST', headers: auth(admin),
    body: { sku: `CART-${n}`, name: `Cart test ${n}`, description: 'test', category_id: categoryId,
      price, currency: 'USD', stock, status: 'active' },
  });
  assert.equal(r.status, 201, `create product: ${r.text}`);
  return r.body;
}

const createCart = (token) => call(`${API}/carts`, { method: 'POST', headers: auth(token), body: {} });
const getCart = (id, token) => call(`${API}/carts/${id}`, { headers: auth(token) });
const addItem = (id, body, token) => call(`${API}/carts/${id}/items`, { method: 'POST', headers: auth(token), body });
const setQty = (id, pid, quantity, token) => call(`${API}/carts/${id}/items/${pid}`, {
  method: 'PATCH', headers: auth(token), body: { quantity },
});

before(async () => {
  const email = process.env.SHOPSPHERE_ADMIN_EMAIL;
  const password = process.env.SHOPSPHERE_ADMIN_PASSWORD;
  assert.ok(email && password, 'SHOPSPHERE_ADMIN_EMAIL / _PASSWORD must be set (scripts/profile.sh)');
  // The demo admin is created by the user service shortly after start-up.
  // At most 9 attempts: 10 failed logins would lock the account for a while.
  admin = await eventually(async () => {
    const r = await call(`${API}/auth/login`, { method: 'POST', body: { email, password } });
    return r.status === 200 ? r.body.access_token : null;
  }, 40000, 4500);
  const c = await call(`${API}/categories`, {
    method: 'POST', headers: auth(admin), body: { name: `Cart ${RUN}`, slug: `cart-${RUN}` },
  });
  assert.equal(c.status, 201, `create category: ${c.text}`);
  categoryId = c.body.id;
});

test('a guest cart has an unguessable random id and starts empty', async () => {
  const a = await createCart();
  const b = await createCart();
  assert.equal(a.status, 201, a.text);
  // UUIDv4 shape: 122 random bits, not a time-ordered v7.
  assert.match(a.body.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notEqual(a.body.id, b.body.id);
  assert.equal(a.body.user_id, null);
  assert.deepEqual(a.body.items, []);
  assert.equal(a.body.subtotal, '0.00');
  assert.equal(a.body.item_count, 0);
  assertEnvelope(await getCart(randomUUID()), 404, 'NOT_FOUND');
  assertEnvelope(await getCart('not-a-cart'), 404, 'NOT_FOUND');
});

test('lines: quantities 1..99 and within stock, totals, update and removal', async () => {
  const p = await newProduct({ price: '2.50', stock: 5 });
  const q = await newProduct({ price: '0.99', stock: 500 });
  const cart = (await createCart()).body;

  const added = await addItem(cart.id, { product_id: p.id, quantity: 2 });
  assert.equal(added.status, 201, added.text);
  assert.equal(added.body.items.length, 1);
  const line = added.body.items[0];
  assert.equal(line.product_id, p.id);
  assert.equal(line.sku, p.sku);
  assert.equal(line.unit_price, '2.50');
  assert.equal(line.quantity, 2);
  assert.equal(line.line_total, '5.00');

  // Adding again raises the line; beyond the stock is 409 and changes nothing.
  assert.equal((await addItem(cart.id, { product_id: p.id, quantity: 3 })).body.items[0].quantity, 5);
  assertEnvelope(await addItem(cart.id, { product_id: p.id, quantity: 1 }), 409, 'CONFLICT');
  assertEnvelope(await addItem(cart.id, { product_id: p.id, quantity: 0 }), 422, 'VALIDATION_ERROR');
  assertEnvelope(await addItem(cart.id, { product_id: q.id, quantity: 100 }), 422, 'VALIDATION_ERROR');
  assertEnvelope(await addItem(cart.id, { product_id: q.id, quantity: '2' }), 400, 'VALIDATION_ERROR');
  assertEnvelope(await addItem(cart.id, { product_id: randomUUID(), quantity: 1 }), 422, 'VALIDATION_ERROR');
  assertEnvelope(await addItem(cart.id, { product_id: q.id }), 422, 'VALIDATION_ERROR');
  await addItem(cart.id, { product_id: q.id, quantity: 99 });
  assertEnvelope(await addItem(cart.id, { product_id: q.id, quantity: 1 }), 422, 'VALIDATION_ERROR');

  let c = (await getCart(cart.id)).body;
  assert.equal(c.item_count, 104);
  assert.equal(c.subtotal, '110.51'); // 5 x 2.50 + 99 x 0.99
  assert.equal(c.currency, 'USD');

  const patched = await setQty(cart.id, q.id, 10);
  assert.equal(patched.status, 200, patched.text);
  assert.equal(patched.body.subtotal, '22.40');
  assertEnvelope(await setQty(cart.id, p.id, 6), 409, 'CONFLICT');
  assertEnvelope(await setQty(cart.id, p.id, 0), 422, 'VALIDATION_ERROR');
  assertEnvelope(await setQty(cart.id, randomUUID(), 1), 404, 'NOT_FOUND');

  const removed = await call(`${API}/carts/${cart.id}/items/${p.id}`, { method: 'DELETE' });
  assert.equal(removed.status, 200, removed.text);
  assert.deepEqual(removed.body.items.map((i) => i.product_id), [q.id]);
  assertEnvelope(await call(`${API}/carts/${cart.id}/items/${p.id}`, { method: 'DELETE' }), 404, 'NOT_FOUND');
  c = (await getCart(cart.id)).body;
  assert.equal(c.subtotal, '9.90');
});

test('reads re-validate against the catalog: changed prices and unavailable items are flagged', async () => {
  const p = await newProduct({ price: '10.00', stock: 10 });
  const gone = await newProduct({ price: '3.00', stock: 10 });
  const cart = (await createCart()).body;
  await addItem(cart.id, { product_id: p.id, quantity: 1 });
  await addItem(cart.id, { product_id: gone.id, quantity: 2 });

  let r = await call(`${API}/products/${p.id}`, { method: 'PATCH', headers: auth(admin), body: { price: '12.00' } });
  assert.equal(r.status, 200, r.text);
  r = await call(`${API}/products/${gone.id}`, { method: 'DELETE', headers: auth(admin) });
  assert.ok(r.status === 200 || r.status === 204, r.text);

  const c = await eventually(async () => {
    const x = (await getCart(cart.id)).body;
    return x.items.find((i) => i.product_id === p.id).unit_price === '12.00' ? x : null;
  }, 15000, 300);
  const line = c.items.find((i) => i.product_id === p.id);
  assert.equal(line.price_changed, true);
  assert.equal(line.snapshot_price, '10.00');
  assert.equal(line.line_total, '12.00');
  const archived = c.items.find((i) => i.product_id === gone.id);
  assert.equal(archived.available, false);
  assert.equal(archived.line_total, '0.00');
  assert.equal(c.subtotal, '12.00');
  assert.equal(c.has_issues, true);
  assertEnvelope(await addItem(cart.id, { product_id: gone.id, quantity: 1 }), 422, 'VALIDATION_ERROR');
});

test("a signed-in user's cart is theirs alone (404 to anyone else)", async () => {
  const p = await newProduct();
  const a = await newUser();
  const b = await newUser();
  const mine = await createCart(a.token);
  assert.equal(mine.status, 201, mine.text);
  assert.equal(mine.body.user_id, a.id);
  assert.equal((await addItem(mine.body.id, { product_id: p.id, quantity: 1 }, a.token)).status, 201);
  assert.equal((await getCart(mine.body.id, a.token)).status, 200);
  assertEnvelope(await getCart(mine.body.id, b.token), 404, 'NOT_FOUND');
  assertEnvelope(await getCart(mine.body.id), 404, 'NOT_FOUND');
  assertEnvelope(await addItem(mine.body.id, { product_id: p.id, quantity: 1 }, b.token), 404, 'NOT_FOUND');
  assertEnvelope(await setQty(mine.body.id, p.id, 2), 404, 'NOT_FOUND');
  assertEnvelope(await call(`${API}/carts/${mine.body.id}/items/${p.id}`, { method: 'DELETE', headers: auth(b.token) }),
    404, 'NOT_FOUND');
  assert.equal((await getCart(mine.body.id, a.token)).body.item_count, 1);
});

test('signing in merges a guest cart into the user cart (explicit merge)', async () => {
  const p = await newProduct({ price: '1.00', stock: 4 });
  const q = await newProduct({ price: '2.00', stock: 10 });
  const user = await newUser();
  const guest = (await createCart()).body;
  await addItem(guest.id, { product_id: p.id, quantity: 3 });
  await addItem(guest.id, { product_id: q.id, quantity: 1 });
  const own = (await createCart(user.token)).body;
  await addItem(own.id, { product_id: p.id, quantity: 2 }, user.token);

  const merge = (target, source, token) => call(`${API}/carts/${target}/merge`, {
    method: 'POST', headers: auth(token), body: { source_cart_id: source },
  });
  assertEnvelope(await merge(own.id, guest.id), 401, 'AUTHENTICATION_ERROR');
  const other = await newUser();
  assertEnvelope(await merge(own.id, guest.id, other.token), 404, 'NOT_FOUND');
  assertEnvelope(await merge(own.id, own.id, user.token), 422, 'VALIDATION_ERROR');

  const r = await merge(own.id, guest.id, user.token);
  assert.equal(r.status, 200, r.text);
  const byId = Object.fromEntries(r.body.items.map((i) => [i.product_id, i.quantity]));
  assert.equal(byId[p.id], 4); // 2 + 3, capped at the 4 in stock
  assert.equal(byId[q.id], 1);
  assert.equal(r.body.user_id, user.id);
  assertEnvelope(await getCart(guest.id), 404, 'NOT_FOUND');
  assertEnvelope(await merge(own.id, guest.id, user.token), 404, 'NOT_FOUND');
});

// The checkout saga's call (docs/internal-api.md): emptied once per order,
// as the order.confirmed consumer does, so whichever comes second changes
// nothing and a line added after the checkout stays.
test('the internal clear empties a cart once per order; a bad order_id is 400', async () => {
  const CART = serviceUrl('cart');
  const INTERNAL = process.env.SHOPSPHERE_INTERNAL_SECRET
    ? { 'x-internal-token': process.env.SHOPSPHERE_INTERNAL_SECRET } : {};
  const p = await newProduct({ stock: 20 });
  const c = await createCart();
  assert.equal(c.status, 201, c.text);
  assert.equal((await addItem(c.body.id, { product_id: p.id, quantity: 3 })).status, 201);
  const order = randomUUID();
  const clear = (query) => call(`${CART}/internal/carts/${c.body.id}/clear${query}`, { method: 'POST', headers: INTERNAL });
  for (const bad of ['not-a-uuid', "1' OR '1'='1", '%00']) {
    const r = await clear(`?order_id=${encodeURIComponent(bad)}`);
    assertEnvelope(r, 400, 'VALIDATION_ERROR');
    assert.equal(r.body.error.details, 'order_id');
  }
  assert.equal((await getCart(c.body.id)).body.items.length, 1, 'a refused call changes nothing');
  const first = await clear(`?order_id=${order}`);
  assert.equal(first.status, 200, first.text);
  assert.deepEqual(first.body, { id: c.body.id, status: 'cleared' });
  assert.equal((await getCart(c.body.id)).body.items.length, 0);
  assert.equal((await addItem(c.body.id, { product_id: p.id, quantity: 1 })).status, 201);
  const second = await clear(`?order_id=${order}`);
  assert.equal(second.status, 200, second.text);
  assert.equal((await getCart(c.body.id)).body.items.length, 1, 'the same order empties it once');
  assert.equal((await clear(`?order_id=${randomUUID()}`)).status, 200);
  assert.equal((await getCart(c.body.id)).body.items.length, 0, 'another order empties it again');
  assertEnvelope(await call(`${CART}/internal/carts/${randomUUID()}/clear?order_id=${order}`, {
    method: 'POST', headers: INTERNAL,
  }), 404, 'NOT_FOUND');
});
