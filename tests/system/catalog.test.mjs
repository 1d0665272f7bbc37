// catalog.test.mjs - the product service through the gateway: admin CRUD and
// every validation rule, filters, sorts, keyset pagination under inserts,
// access (401 anonymous, 403 customer), inventory adjustments, the read cache,
// and the internal API (batch, reservations) on the service's own port,
// including 100 concurrent reservers of a single unit.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { API, BASE, assertEnvelope, call, eventually, serviceUrl } from './lib.mjs';

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
const PRODUCT = serviceUrl('product');
const INTERNAL = process.env.SHOPSPHERE_INTERNAL_SECRET
  ? { 'x-internal-token': process.env.SHOPSPHERE_INTERNAL_SECRET } : {};

let admin; // headers with the admin's bearer token
let customer; // headers with a customer's bearer token
let category; // a category of this run
let seq = 0;

const sku = (tag = 'P') => `T-${RUN}-${tag}-${++seq}`.toUpperCase();

async function login(email, password) {
  const r = await call(`${API}/auth/login`, { method: 'POST', body: { email, password } });
  assert.equal(r.status, 200, `login ${email}: ${r.text}`);
  return { authorization: `Bearer ${r.body.access_token}` };
}

async function newCategory(name, parentId) {
  const body = { name, slug: `${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${RUN}-${++seq}` };
  if (parentId) body.parent_id = parentId;
  const r = await call(`${API}/categories`, { method: 'POST', headers: admin, body });
  assert.equal(r.status, 201, r.text);
  return r.body;
}

async function newProduct(fields = {}) {
  const body = {
    sku: sku(), name: `Test product ${seq}`, category_id: category.id, price: '10.00',
    currency: 'USD', stock: 10, ...fields,
  };
  const r = await call(`${API}/products`, { method: 'POST', headers: admin, body });
  assert.equal(r.status, 201, r.text);
  return r.body;
}

before(async () => {
  // The user service creates the demo admin in the background at start-up.
  admin = await eventually(
    () => login(process.env.SHOPSPHERE_ADMIN_EMAIL, process.env.SHOPSPHERE_ADMIN_PASSWORD), 30000, 250);
  const email = `catalog-${RUN}@example.com`;
  const password = 'Catalog-Tester-2931!';
  const reg = await call(`${API}/users`, {
    method: 'POST',
    body: { email, password, username: `catalog${RUN}`, first_name: 'Cat', last_name: 'Alog' },
  });
  assert.equal(reg.status, 201, reg.text);
  customer = await login(email, password);
  category = await newCategory('Catalog Tests');
});

test('admin creates, reads, updates and archives a product', async () => {
  const created = await newProduct({
    name: 'Aurora Linen Shirt', description: 'Breezy.', price: '49.90', stock: 7,
    images: ['https://img.example.com/a.jpg'],
    attributes: {
      brand: 'Northwind', color: 'Navy', size: 'M', weight: 0.24,
      dimensions: { length: 30, width: 25, height: 2 }, custom: { fit: 'slim' },
    },
  });
  assert.match(created.id, /^[0-9a-f-]{36}$/);
  assert.equal(created.price, '49.90');
  assert.equal(created.currency, 'USD');
  assert.equal(created.stock, 7);
  assert.equal(created.available, 7);
  assert.equal(created.status, 'active');
  assert.equal(created.attributes.weight, 0.24);
  assert.deepEqual(created.attributes.dimensions, { length: 30, width: 25, height: 2 });

  const got = await call(`${API}/products/${created.id}`);
  assert.equal(got.status, 200);
  assert.equal(got.body.name, 'Aurora Linen Shirt');
  assert.match(got.headers.get('cache-control'), /^public, max-age=[01]$/);
  const mine = await call(`${API}/products/${created.id}`, { headers: admin });
  assert.equal(mine.headers.get('cache-control'), 'private, no-store');

  const patched = await call(`${API}/products/${created.id}`, {
    method: 'PATCH', headers: admin,
    body: { price: '39.90', name: 'Aurora Linen Shirt II', attributes: { color: 'White' } },
  });
  assert.equal(patched.status, 200, patched.text);
  assert.equal(patched.body.price, '39.90');
  assert.equal(patched.body.attributes.color, 'White');
  assert.equal(patched.body.attributes.brand, 'Northwind', 'attributes merge');
  // Anonymous readers see the write within a second (the product service
  // drops its cache at once; the edge may keep a page for max-age=1).
  await eventually(async () => (await call(`${API}/products/${created.id}`)).body.price === '39.90', 3000);

  const archived = await call(`${API}/products/${created.id}`, { method: 'DELETE', headers: admin });
  assert.equal(archived.status, 200);
  assert.equal(archived.body.status, 'archived');
  const still = await eventually(async () => {
    const r = await call(`${API}/products/${created.id}`);
    return r.body.status === 'archived' ? r : null;
  }, 3000);
  assert.equal(still.status, 200, 'archived products stay readable by id');
  await eventually(async () => {
    const list = await call(`${API}/products?category_id=${category.id}&limit=100`);
    return list.status === 200 && !list.body.items.some((p) => p.id === created.id);
  }, 3000);
  const asAdmin = await call(`${API}/products?category_id=${category.id}&status=archived`, { headers: admin });
  assert.ok(asAdmin.body.items.some((p) => p.id === created.id));
});

// The seed's Product model, as a client written against it sends it.
const SEED_ATTRIBUTES = {
  brand: 'Fjällräven', color: 'Forest Green', size: 'L', weight: 1.35,
  dimensions: { length: 45.5, width: 30, height: 12.25 },
  custom: { material: 'G-1000 HeavyDuty', features: ['waterproof', 'laptop sleeve'], warranty: { years: 2, global: true } },
};

test("the seed's product attributes round-trip through create, read, list and update", async () => {
  const created = await newProduct({ name: 'Seed Backpack', attributes: SEED_ATTRIBUTES });
  assert.deepEqual(created.attributes, SEED_ATTRIBUTES);
  const got = await call(`${API}/products/${created.id}`);
  assert.equal(got.status, 200);
  assert.deepEqual(got.body.attributes, SEED_ATTRIBUTES);
  const listed = await eventually(async () => {
    const r = await call(`${API}/products?category_id=${category.id}&limit=100`);
    return r.body.items.find((p) => p.id === created.id) ?? null;
  }, 3000);
  assert.deepEqual(listed.attributes, SEED_ATTRIBUTES);
  // Exactly as sent: 1.35 is not answered as 1.3500000000000001.
  assert.match(got.text, /"weight":1\.35[,}]/);

  // A PATCH replaces the attributes it names and keeps the others.
  const patched = await call(`${API}/products/${created.id}`, {
    method: 'PATCH', headers: admin, body: { attributes: { weight: 2, dimensions: { length: 50, width: 31, height: 13 } } },
  });
  assert.equal(patched.status, 200, patched.text);
  assert.deepEqual(patched.body.attributes, {
    ...SEED_ATTRIBUTES, weight: 2, dimensions: { length: 50, width: 31, height: 13 },
  });

  // The shipping service prices by grams through the internal batch.
  const batch = await call(`${PRODUCT}/internal/products/batch`, {
    method: 'POST', headers: INTERNAL, body: { ids: [created.id] },
  });
  assert.equal(batch.body.items[0].weight_grams, 2000);
});

test('the previous release\'s weight_grams and dimensions.unit are still read, and answered in the seed\'s units', async () => {
  const old = await newProduct({
    attributes: { brand: 'Legacy', weight_grams: 2500, dimensions: { length: 300, width: 10, height: 5, unit: 'mm' } },
  });
  assert.deepEqual(old.attributes, { brand: 'Legacy', weight: 2.5, dimensions: { length: 30, width: 1, height: 0.5 } });
  assert.equal(old.attributes.weight_grams, undefined);
  const inches = await newProduct({ attributes: { dimensions: { length: 10, width: 1, height: 2, unit: 'in' } } });
  assert.deepEqual(inches.attributes.dimensions, { length: 25.4, width: 2.54, height: 5.08 });
});

test('every invalid product is refused with the field named, and nothing is written', async () => {
  const base = () => ({ sku: sku('V'), name: 'Valid', category_id: category.id, price: '1.00' });
  const cases = [
    [{ price: '1.999' }, 422, 'price'],
    [{ price: '12', currency: 'JPY' }, 201],
    [{ price: '12.5', currency: 'JPY' }, 422, 'price'],
    [{ price: '-1.00' }, 422, 'price'],
    [{ price: '99999999999999999999' }, 422, 'price'],
    [{ price: 19.99 }, 400, 'price'],
    [{ currency: 'XYZ' }, 422, 'currency'],
    [{ stock: -1 }, 422, 'stock'],
    [{ stock: 1.5 }, 400, 'stock'],
    [{ status: 'deleted' }, 422, 'status'],
    [{ category_id: randomUUID() }, 422, 'category_id'],
    [{ category_id: 'nope' }, 422, 'category_id'],
    [{ name: '' }, 422, 'name'],
    [{ name: undefined }, 422, 'name'],
    [{ sku: 'has spaces' }, 422, 'sku'],
    [{ colour: 'red' }, 422, 'colour'],
    [{ images: ['javascript:alert(1)'] }, 422, 'images'],
    [{ attributes: { weight_grams: -3 } }, 422, 'attributes.weight_grams'],
    [{ attributes: { weight: -3 } }, 422, 'attributes.weight'],
    [{ attributes: { weight: 10000.5 } }, 422, 'attributes.weight'],
    [{ attributes: { weight: 1e308 } }, 422, 'attributes.weight'],
    [{ attributes: { weight: '2 kg' } }, 400, 'attributes.weight'],
    [{ attributes: { weight: 1, weight_grams: 1000 } }, 422, 'attributes.weight_grams'],
    [{ attributes: { weight_kg: 1 } }, 422, 'attributes.weight_kg'],
    [{ attributes: { dimensions: { length: 1, width: 1, height: 1, unit: 'ft' } } }, 422, 'attributes.dimensions'],
    [{ attributes: { dimensions: { length: 1, width: 1 } } }, 422, 'attributes.dimensions'],
    [{ attributes: { dimensions: { length: 1, width: 1, height: 1, depth: 1 } } }, 422, 'attributes.dimensions'],
    [{ attributes: { dimensions: { length: -1, width: 1, height: 1 } } }, 422, 'attributes.dimensions'],
    [{ attributes: { custom: { a: { b: { c: { d: { e: {} } } } } } } }, 422, 'attributes.custom'],
    [{ attributes: { custom: { blob: 'x'.repeat(9000) } } }, 422, 'attributes.custom'],
    [{ attributes: { custom: [1, 2] } }, 400, 'attributes.custom'],
  ];
  for (const [patch, status, field] of cases) {
    const body = { ...base(), ...patch };
    const r = await call(`${API}/products`, { method: 'POST', headers: admin, body });
    if (status === 201) {
      assert.equal(r.status, 201, r.text);
      continue;
    }
    assertEnvelope(r, status, 'VALIDATION_ERROR');
    assert.equal(r.body.error.details, field, `${JSON.stringify(patch)}: ${r.text}`);
    const look = await call(`${API}/products?category_id=${category.id}&limit=100`);
    assert.ok(!look.body.items.some((p) => p.sku === body.sku), 'nothing written');
  }
  const malformed = await call(`${API}/products`, { method: 'POST', raw: '{"sku":', headers: { ...admin, 'content-type': 'application/json' } });
  assertEnvelope(malformed, 400, 'VALIDATION_ERROR');

  const first = await newProduct();
  const dup = await call(`${API}/products`, { method: 'POST', headers: admin, body: { ...base(), sku: first.sku } });
  assertEnvelope(dup, 409, 'CONFLICT');
  const other = await newProduct();
  const dupPatch = await call(`${API}/products/${other.id}`, { method: 'PATCH', headers: admin, body: { sku: first.sku } });
  assertEnvelope(dupPatch, 409, 'CONFLICT');
  const badPatch = await call(`${API}/products/${other.id}`, { method: 'PATCH', headers: admin, body: { price: '1.234' } });
  assertEnvelope(badPatch, 422, 'VALIDATION_ERROR');
  const currencyOnly = await call(`${API}/products/${other.id}`, { method: 'PATCH', headers: admin, body: { currency: 'EUR' } });
  assertEnvelope(currencyOnly, 422, 'VALIDATION_ERROR');
  const unknown = await call(`${API}/products/${randomUUID()}`, { method: 'PATCH', headers: admin, body: { name: 'x' } });
  assertEnvelope(unknown, 404, 'NOT_FOUND');
  const unchanged = await call(`${API}/products/${other.id}`);
  assert.equal(unchanged.body.price, '10.00');
  assert.equal(unchanged.body.currency, 'USD');
});

test('anonymous writers get 401 and customers 403', async () => {
  const p = await newProduct();
  const writes = [
    ['POST', `${API}/products`, { sku: sku(), name: 'x', category_id: category.id, price: '1' }],
    ['PATCH', `${API}/products/${p.id}`, { name: 'hacked' }],
    ['DELETE', `${API}/products/${p.id}`, undefined],
    ['POST', `${API}/categories`, { name: 'Nope' }],
    ['POST', `${API}/products/${p.id}/inventory-adjustments`, { delta: 5, reason: 'x' }],
  ];
  for (const [method, url, body] of writes) {
    assertEnvelope(await call(url, { method, body }), 401, 'AUTHENTICATION_ERROR');
    assertEnvelope(await call(url, { method, body, headers: customer }), 403, 'AUTHORIZATION_ERROR');
  }
  const r = await call(`${API}/products/${p.id}`);
  assert.equal(r.body.name, p.name);
  assert.equal(r.body.status, 'active');
  // Non-active listings are for admins.
  assertEnvelope(await call(`${API}/products?status=draft`), 401, 'AUTHENTICATION_ERROR');
  assertEnvelope(await call(`${API}/products?status=draft`, { headers: customer }), 403, 'AUTHORIZATION_ERROR');
});

test('drafts are hidden from the storefront and shown to admins', async () => {
  const d = await newProduct({ status: 'draft' });
  assertEnvelope(await call(`${API}/products/${d.id}`), 404, 'NOT_FOUND');
  assert.equal((await call(`${API}/products/${d.id}`, { headers: admin })).status, 200);
  assert.equal((await call(`${API}/products/${d.id}/image.svg`)).status, 404);
  const pub = await call(`${API}/products?category_id=${category.id}&limit=100`);
  assert.ok(!pub.body.items.some((p) => p.id === d.id));
  const drafts = await call(`${API}/products?category_id=${category.id}&status=draft`, { headers: admin });
  assert.ok(drafts.body.items.some((p) => p.id === d.id));
});

test('filters by category subtree and price range; sorts are ordered', async () => {
  const parent = await newCategory('Filter Root');
  const child = await newCategory('Filter Leaf', parent.id);
  assert.equal(child.parent_id, parent.id);
  assert.equal(child.path, `${parent.slug}/${child.slug}`);
  const prices = ['5.00', '25.50', '12.00', '99.99', '12.00'];
  const names = ['delta', 'Alpha', 'charlie', 'Bravo', 'echo'];
  const made = [];
  for (let i = 0; i < prices.length; i++) {
    made.push(await newProduct({ category_id: i < 3 ? child.id : parent.id, price: prices[i], name: names[i] }));
  }
  const all = await call(`${API}/products?category_id=${parent.id}&limit=100`);
  assert.equal(all.body.items.length, 5, 'a parent includes its subcategories');
  const leaf = await call(`${API}/products?category_id=${child.id}`);
  assert.equal(leaf.body.items.length, 3);

  const range = await call(`${API}/products?category_id=${parent.id}&min_price=10&max_price=30`);
  assert.deepEqual(range.body.items.map((p) => p.price).sort(), ['12.00', '12.00', '25.50']);
  assertEnvelope(await call(`${API}/products?min_price=-1`), 422, 'VALIDATION_ERROR');
  assertEnvelope(await call(`${API}/products?min_price=1.001`), 422, 'VALIDATION_ERROR');
  assertEnvelope(await call(`${API}/products?min_price=9&max_price=1`), 422, 'VALIDATION_ERROR');
  assertEnvelope(await call(`${API}/products?category_id=xyz`), 422, 'VALIDATION_ERROR');

  const order = async (sort) =>
    (await call(`${API}/products?category_id=${parent.id}&sort=${sort}`)).body.items;
  const asc = await order('price_asc');
  assert.deepEqual(asc.map((p) => p.price), ['5.00', '12.00', '12.00', '25.50', '99.99']);
  const desc = await order('price_desc');
  assert.deepEqual(desc.map((p) => p.price), ['99.99', '25.50', '12.00', '12.00', '5.00']);
  const byName = await order('name');
  assert.deepEqual(byName.map((p) => p.name), ['Alpha', 'Bravo', 'charlie', 'delta', 'echo']);
  const newest = await order('newest');
  assert.deepEqual(newest.map((p) => p.id), made.map((p) => p.id).reverse());
  assertEnvelope(await call(`${API}/products?sort=cheapest`), 422, 'VALIDATION_ERROR');
  for (const limit of ['0', '101', 'ten']) {
    assertEnvelope(await call(`${API}/products?limit=${limit}`), 422, 'VALIDATION_ERROR');
  }
  assertEnvelope(await call(`${API}/products?cursor=garbage`), 422, 'VALIDATION_ERROR');
});

test('keyset pagination has no duplicates or gaps while products are inserted', async () => {
  const cat = await newCategory('Paging');
  const original = [];
  for (let i = 0; i < 23; i++) {
    original.push(await newProduct({ category_id: cat.id, price: `${(i * 7) % 11}.00`, name: `Pager ${String(i % 13).padStart(2, '0')}` }));
  }
  for (const sort of ['newest', 'price_asc', 'price_desc', 'name']) {
    const seen = [];
    let cursor = null;
    let pages = 0;
    do {
      const q = `${API}/products?category_id=${cat.id}&sort=${sort}&limit=5${cursor ? `&cursor=${cursor}` : ''}`;
      const r = await call(q);
      assert.equal(r.status, 200, r.text);
      seen.push(...r.body.items.map((p) => p.id));
      cursor = r.body.next_cursor;
      // Inserts between pages land before or after the cursor, never shift it.
      await newProduct({ category_id: cat.id, price: `${pages % 11}.00`, name: `Pager ${String(pages).padStart(2, '0')}` });
      pages++;
      assert.ok(pages < 40, 'pagination terminates');
    } while (cursor);
    assert.equal(new Set(seen).size, seen.length, `${sort}: no duplicates`);
    for (const p of original) assert.ok(seen.includes(p.id), `${sort}: ${p.id} missing`);
  }
  const first = await call(`${API}/products?category_id=${cat.id}&sort=price_asc&limit=2`);
  const wrongSort = await call(`${API}/products?category_id=${cat.id}&sort=name&cursor=${first.body.next_cursor}`);
  assertEnvelope(wrongSort, 422, 'VALIDATION_ERROR');
});

test('categories form a tree with slug, parent and path', async () => {
  const root = await newCategory('Tree Root');
  const leaf = await newCategory('Tree Leaf', root.id);
  const dup = await call(`${API}/categories`, { method: 'POST', headers: admin, body: { name: 'x', slug: root.slug } });
  assertEnvelope(dup, 409, 'CONFLICT');
  const orphan = await call(`${API}/categories`, { method: 'POST', headers: admin, body: { name: 'Orphan', parent_id: randomUUID() } });
  assertEnvelope(orphan, 422, 'VALIDATION_ERROR');
  const badSlug = await call(`${API}/categories`, { method: 'POST', headers: admin, body: { name: 'x', slug: 'Bad Slug' } });
  assertEnvelope(badSlug, 422, 'VALIDATION_ERROR');
  const tree = await call(`${API}/categories`);
  assert.equal(tree.status, 200);
  const node = tree.body.items.find((c) => c.id === root.id);
  assert.ok(node, 'a root is at the top level');
  assert.equal(node.parent_id, null);
  assert.deepEqual(node.children.map((c) => c.id), [leaf.id]);
  assert.equal(node.children[0].path, `${root.slug}/${leaf.slug}`);
});

test('inventory adjustments are audited and never go below reserved', async () => {
  const p = await newProduct({ stock: 3 });
  const url = `${API}/products/${p.id}/inventory-adjustments`;
  const up = await call(url, { method: 'POST', headers: admin, body: { delta: 5, reason: 'restock from supplier' } });
  assert.equal(up.status, 201, up.text);
  assert.equal(up.body.stock, 8);
  assert.equal(up.body.reason, 'restock from supplier');
  assertEnvelope(await call(url, { method: 'POST', headers: admin, body: { delta: -9, reason: 'shrinkage' } }), 409, 'CONFLICT');
  assertEnvelope(await call(url, { method: 'POST', headers: admin, body: { delta: 0, reason: 'x' } }), 422, 'VALIDATION_ERROR');
  assertEnvelope(await call(url, { method: 'POST', headers: admin, body: { delta: 1 } }), 422, 'VALIDATION_ERROR');
  assertEnvelope(await call(`${API}/products/${randomUUID()}/inventory-adjustments`, { method: 'POST', headers: admin, body: { delta: 1, reason: 'x' } }), 404, 'NOT_FOUND');
  // Reserve 6 of the 8, then no adjustment may take stock under 6.
  const order = randomUUID();
  const res = await call(`${PRODUCT}/internal/reservations`, { method: 'POST', headers: INTERNAL, body: { order_id: order, lines: [{ product_id: p.id, quantity: 6 }] } });
  assert.equal(res.status, 201, res.text);
  assertEnvelope(await call(url, { method: 'POST', headers: admin, body: { delta: -3, reason: 'damaged' } }), 409, 'CONFLICT');
  const ok = await call(url, { method: 'POST', headers: admin, body: { delta: -2, reason: 'damaged' } });
  assert.equal(ok.status, 201);
  assert.equal(ok.body.stock, 6);
  assert.equal(ok.body.available, 0);
  const low = await call(`${API}/products/${p.id}`, { method: 'PATCH', headers: admin, body: { stock: 5 } });
  assertEnvelope(low, 409, 'CONFLICT');
});

test('the internal batch returns price, stock, availability and weight', async () => {
  // The public API speaks kilograms; the internal batch keeps grams.
  const a = await newProduct({ price: '3.50', stock: 4, attributes: { weight: 0.75 } });
  const b = await newProduct({ price: '1500', currency: 'JPY' });
  const r = await call(`${PRODUCT}/internal/products/batch`, {
    method: 'POST', headers: INTERNAL, body: { ids: [a.id, b.id, randomUUID()] },
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.items.length, 2, 'unknown ids are absent');
  const ia = r.body.items.find((x) => x.id === a.id);
  assert.deepEqual(
    { sku: ia.sku, price: ia.price, currency: ia.currency, stock: ia.stock, available: ia.available, weight_grams: ia.weight_grams, status: ia.status },
    { sku: a.sku, price: '3.50', currency: 'USD', stock: 4, available: 4, weight_grams: 750, status: 'active' });
  assert.equal(r.body.items.find((x) => x.id === b.id).weight_grams, null);
  const tooMany = Array.from({ length: 101 }, () => randomUUID());
  assertEnvelope(await call(`${PRODUCT}/internal/products/batch`, { method: 'POST', headers: INTERNAL, body: { ids: tooMany } }), 422, 'VALIDATION_ERROR');
  assertEnvelope(await call(`${PRODUCT}/internal/products/batch`, { method: 'POST', headers: INTERNAL, body: { ids: ['x'] } }), 422, 'VALIDATION_ERROR');
  // The gateway never routes internal paths.
  assert.equal((await call(`${BASE}/internal/products/batch`, { method: 'POST', body: { ids: [] } })).status, 404);
});

test('reservations: all or nothing, idempotent, commit, release and restock', async () => {
  const a = await newProduct({ stock: 5 });
  const b = await newProduct({ stock: 1 });
  const reserve = (body) => call(`${PRODUCT}/internal/reservations`, { method: 'POST', headers: INTERNAL, body });
  const stockOf = async (id) => (await call(`${API}/products/${id}`, { headers: admin })).body;

  const short = await reserve({ order_id: randomUUID(), lines: [{ product_id: a.id, quantity: 2 }, { product_id: b.id, quantity: 2 }] });
  assertEnvelope(short, 409, 'CONFLICT');
  assert.match(short.body.error.details, new RegExp(b.id));
  assert.equal((await stockOf(a.id)).available, 5, 'nothing reserved');

  const order = randomUUID();
  const ok = await reserve({ order_id: order, lines: [{ product_id: a.id, quantity: 2 }, { product_id: b.id, quantity: 1 }] });
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.body.status, 'reserved');
  assert.equal(ok.body.lines.length, 2);
  const again = await reserve({ order_id: order, lines: [{ product_id: a.id, quantity: 2 }] });
  assert.equal(again.status, 200, 'idempotent on order_id');
  assert.equal(again.body.lines.length, 2);
  assert.equal((await stockOf(a.id)).available, 3);

  const commit = await call(`${PRODUCT}/internal/reservations/${order}/commit`, { method: 'POST', headers: INTERNAL });
  assert.equal(commit.status, 200, commit.text);
  assert.equal(commit.body.status, 'committed');
  const afterCommit = await stockOf(a.id);
  assert.deepEqual([afterCommit.stock, afterCommit.available], [3, 3]);
  const got = await call(`${PRODUCT}/internal/reservations/${order}`, { headers: INTERNAL });
  assert.equal(got.body.status, 'committed');

  const release = await call(`${PRODUCT}/internal/reservations/${order}/release`, { method: 'POST', headers: INTERNAL });
  assert.equal(release.status, 200);
  assert.equal(release.body.status, 'released');
  const restocked = await stockOf(a.id);
  assert.deepEqual([restocked.stock, restocked.available], [5, 5], 'a committed release restocks');
  const twice = await call(`${PRODUCT}/internal/reservations/${order}/release`, { method: 'POST', headers: INTERNAL });
  assert.equal(twice.status, 200, 'release repeats as a no-op');
  assert.equal((await stockOf(a.id)).stock, 5);
  assertEnvelope(await call(`${PRODUCT}/internal/reservations/${order}/commit`, { method: 'POST', headers: INTERNAL }), 409, 'CONFLICT');
  assertEnvelope(await call(`${PRODUCT}/internal/reservations/${randomUUID()}`, { headers: INTERNAL }), 404, 'NOT_FOUND');

  assertEnvelope(await reserve({ order_id: randomUUID(), lines: [] }), 422, 'VALIDATION_ERROR');
  assertEnvelope(await reserve({ order_id: randomUUID(), lines: [{ product_id: a.id, quantity: 0 }] }), 422, 'VALIDATION_ERROR');
  assertEnvelope(await reserve({ order_id: randomUUID(), lines: [{ product_id: randomUUID(), quantity: 1 }] }), 422, 'VALIDATION_ERROR');
  const archivedP = await newProduct({ stock: 3 });
  await call(`${API}/products/${archivedP.id}`, { method: 'DELETE', headers: admin });
  assertEnvelope(await reserve({ order_id: randomUUID(), lines: [{ product_id: archivedP.id, quantity: 1 }] }), 409, 'CONFLICT');
});

test('an expired reservation returns its units', async () => {
  const p = await newProduct({ stock: 2 });
  const order = randomUUID();
  const r = await call(`${PRODUCT}/internal/reservations`, {
    method: 'POST', headers: INTERNAL, body: { order_id: order, lines: [{ product_id: p.id, quantity: 2 }], ttl_seconds: 1 },
  });
  assert.equal(r.status, 201, r.text);
  await eventually(async () => {
    const g = await call(`${PRODUCT}/internal/reservations/${order}`, { headers: INTERNAL });
    const s = await call(`${API}/products/${p.id}`, { headers: admin });
    return g.body.status === 'expired' && s.body.available === 2;
  }, 15000, 250);
  assertEnvelope(await call(`${PRODUCT}/internal/reservations/${order}/commit`, { method: 'POST', headers: INTERNAL }), 409, 'CONFLICT');
});

test('100 concurrent reservers of the last unit: exactly one wins, stock never negative', async () => {
  const p = await newProduct({ stock: 1 });
  let watching = true;
  const readings = [];
  const watcher = (async () => {
    while (watching) {
      const r = await call(`${PRODUCT}/internal/products/batch`, { method: 'POST', headers: INTERNAL, body: { ids: [p.id] } });
      readings.push(r.body.items[0].available, r.body.items[0].stock);
    }
  })();
  const results = await Promise.all(Array.from({ length: 100 }, () =>
    call(`${PRODUCT}/internal/reservations`, {
      method: 'POST', headers: INTERNAL,
      body: { order_id: randomUUID(), lines: [{ product_id: p.id, quantity: 1 }] },
    })));
  watching = false;
  await watcher;
  const statuses = results.map((r) => r.status);
  assert.equal(statuses.filter((s) => s === 201).length, 1, `statuses: ${statuses}`);
  assert.equal(statuses.filter((s) => s === 409).length, 99, `statuses: ${statuses}`);
  assert.ok(readings.every((v) => v >= 0), 'never negative');
  const final = await call(`${PRODUCT}/internal/products/batch`, { method: 'POST', headers: INTERNAL, body: { ids: [p.id] } });
  assert.deepEqual([final.body.items[0].stock, final.body.items[0].available], [1, 0]);
});

test('placeholder images are served as SVG under the product path', async () => {
  const p = await newProduct({ name: 'Fish & <Chips>', attributes: { color: 'Red' } });
  const r = await call(`${API}/products/${p.id}/image.svg`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^image\/svg\+xml/);
  const svg = r.text;
  assert.match(svg, /^<svg /);
  assert.match(svg, /Fish &amp; &lt;Chips&gt;/);
  assert.equal((await call(`${API}/products/${randomUUID()}/image.svg`)).status, 404);
});

// The binary that runs the platform under test (scripts/test.sh records the
// supervisor's pid): the importer is a command of the same binary.
function shopsphereBinary() {
  const pid = readFileSync(`${process.env.SHOPSPHERE_VAR_DIR}/platform.pid`, 'utf8').trim();
  return readlinkSync(`/proc/${pid}/exe`);
}

function runImport(file) {
  const r = spawnSync(shopsphereBinary(), ['import', 'products', file], {
    encoding: 'utf8', env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1' },
  });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

test('import: every bad row is reported with its line and nothing is written; a clean file is', async () => {
  const dir = mkdtempSync(`${tmpdir()}/catalog-import-`);
  const slug = category.slug;
  const a = sku('IMP');
  const b = sku('IMP');
  const bad = `${dir}/bad.csv`;
  writeFileSync(bad, [
    'sku,name,category,price,currency,stock,brand,weight_grams,length,width,height,dimension_unit,images',
    `${a},"Imported, quoted",${slug},12.50,USD,4,Acme,300,10,5,2,cm,/x.svg|/y.svg`,
    `${b},Too precise,${slug},1.001,USD,1,,,,,,,`,
    `${sku('IMP')},No such category,no-such-category-${RUN},1.00,USD,1,,,,,,,`,
    `${sku('IMP')},"Two`,
    `lines",${slug},1.00,USD,many,,,,,,,`,
  ].join('\n') + '\n');
  const refused = runImport(bad);
  assert.equal(refused.status, 1, refused.err);
  assert.match(refused.err, /bad\.csv:3: price: /);
  assert.match(refused.err, /bad\.csv:4: category: /);
  assert.match(refused.err, /bad\.csv:5: stock: /);
  assert.match(refused.err, /nothing was imported/);
  const none = await call(`${API}/products?category_id=${category.id}&status=active&limit=100`, { headers: admin });
  assert.ok(!none.body.items.some((p) => p.sku === a), 'all or nothing');

  const good = `${dir}/good.jsonl`;
  writeFileSync(good, [
    JSON.stringify({ sku: a, name: 'Imported A', category: slug, price: '12.50', stock: 4, attributes: { weight_grams: 300 } }),
    '',
    JSON.stringify({ sku: b, name: 'Imported B', category_id: category.id, price: '3', currency: 'EUR' }),
  ].join('\n'));
  const ok = runImport(good);
  assert.equal(ok.status, 0, ok.err);
  assert.match(ok.out, /2 product\(s\) imported/);
  // Written by another process: readers see it within a second.
  const imported = await eventually(async () => {
    const listed = await call(`${API}/products?category_id=${category.id}&limit=100`);
    const found = listed.body.items.filter((p) => p.sku === a || p.sku === b);
    return found.length === 2 ? found : null;
  }, 3000);
  assert.equal(imported.find((p) => p.sku === b).price, '3.00');
  const again = runImport(good);
  assert.equal(again.status, 1, 'an existing SKU is an error');
  assert.match(again.err, /good\.jsonl:1: sku: /);
  assert.match(again.err, /good\.jsonl:3: sku: /);
});

test("import: the seed's attributes round-trip from CSV columns and JSON lines", async () => {
  const dir = mkdtempSync(`${tmpdir()}/catalog-import-seed-`);
  const slug = category.slug;
  const c = sku('IMPS');
  const j = sku('IMPS');
  const csv = `${dir}/seed.csv`;
  writeFileSync(csv, [
    'sku,name,category,price,stock,brand,color,size,weight,length,width,height,custom',
    `${c},Seed CSV,${slug},5.00,3,Fjällräven,Forest Green,L,1.35,45.5,30,12.25,"{""material"":""G-1000 HeavyDuty"",""features"":[""waterproof"",""laptop sleeve""],""warranty"":{""years"":2,""global"":true}}"`,
  ].join('\n') + '\n');
  const jsonl = `${dir}/seed.jsonl`;
  writeFileSync(jsonl, JSON.stringify({
    sku: j, name: 'Seed JSONL', category: slug, price: '5.00', stock: 3, attributes: SEED_ATTRIBUTES,
  }) + '\n');
  for (const file of [csv, jsonl]) {
    const r = runImport(file);
    assert.equal(r.status, 0, r.err);
  }
  const found = await eventually(async () => {
    const listed = await call(`${API}/products?category_id=${category.id}&limit=100`);
    const both = listed.body.items.filter((p) => p.sku === c || p.sku === j);
    return both.length === 2 ? both : null;
  }, 3000);
  for (const p of found) {
    assert.deepEqual(p.attributes, SEED_ATTRIBUTES, p.sku);
    const one = await call(`${API}/products/${p.id}`);
    assert.deepEqual(one.body.attributes, SEED_ATTRIBUTES, p.sku);
  }
});
