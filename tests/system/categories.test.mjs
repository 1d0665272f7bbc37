// categories.test.mjs - renaming, moving and deleting categories through the
// gateway (PATCH/DELETE /categories/{id}): paths of the whole subtree move,
// cycles and unknown parents are refused, a category with products or
// subcategories cannot be deleted (409), a customer or a guest may not
// touch them, and the search index learns a new name (category.updated):
// a product is found by its category's new name and the facet shows it.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { API, adminToken, assertEnvelope, call, eventually, newCategory, newCustomer } from './lib.mjs';

const RUN = randomUUID().replace(/-/g, '').slice(0, 10).replace(/[0-9]/g, (d) => 'abcdefghij'[d]);
let admin;
let headers;
let seq = 0;
const slug = (tag) => `${tag}-${RUN}-${++seq}`;

// The tree as a guest reads it: the caches (the service's and the gateway's
// edge) follow category events, so a change shows within moments.
const category = async (id) => {
  const r = await call(`${API}/categories`);
  assert.equal(r.status, 200, r.text);
  const walk = (nodes) => nodes.flatMap((n) => [n, ...walk(n.children)]);
  return walk(r.body.items).find((c) => c.id === id) ?? null;
};

const patch = (id, body, h = headers) => call(`${API}/categories/${id}`, { method: 'PATCH', headers: h, body });
const remove = (id, h = headers) => call(`${API}/categories/${id}`, { method: 'DELETE', headers: h });

before(async () => {
  admin = await adminToken();
  headers = { authorization: `Bearer ${admin}` };
});

test('a rename keeps the path; a new slug or parent moves the whole subtree', async () => {
  const root = await newCategory(admin, 'Garden', slug('garden'));
  const child = await newCategory(admin, 'Tools', slug('tools'), root);
  const leaf = await newCategory(admin, 'Spades', slug('spades'), child);
  const other = await newCategory(admin, 'Outdoor', slug('outdoor'));

  const renamed = await patch(child, { name: 'Garden tools' });
  assert.equal(renamed.status, 200, renamed.text);
  assert.equal(renamed.body.name, 'Garden tools');
  const rootSlug = (await eventually(() => category(root), 10000, 200)).slug;
  const before = await eventually(async () => {
    const c = await category(leaf);
    return c?.path === `${rootSlug}/${renamed.body.slug}/${c?.slug}` ? c : null;
  }, 10000, 200);

  const newSlug = slug('hand-tools');
  const moved = await patch(child, { slug: newSlug, parent_id: other });
  assert.equal(moved.status, 200, moved.text);
  const otherSlug = (await eventually(() => category(other), 10000, 200)).slug;
  assert.equal(moved.body.path, `${otherSlug}/${newSlug}`);
  assert.equal(moved.body.parent_id, other);
  assert.equal(moved.body.name, 'Garden tools', 'the name stays');
  await eventually(async () => (await category(leaf))?.path === `${otherSlug}/${newSlug}/${before.slug}`, 10000, 200);

  const rooted = await patch(child, { parent_id: null });
  assert.equal(rooted.status, 200, rooted.text);
  assert.equal(rooted.body.parent_id, null);
  assert.equal(rooted.body.path, newSlug);
  await eventually(async () => (await category(leaf))?.path === `${newSlug}/${before.slug}`, 10000, 200);

  // An empty body changes nothing.
  const same = await patch(child, {});
  assert.equal(same.status, 200, same.text);
  assert.deepEqual(same.body, rooted.body);

  // The audit log has the change with what it was before.
  const audit = await call(`${API}/admin/audit-log?target=${child}&limit=10`, { headers });
  assert.equal(audit.status, 200, audit.text);
  const update = audit.body.items.find((a) => a.action === 'category.update' && a.after?.name === 'Garden tools');
  assert.ok(update, 'category.update audited');
  assert.equal(update.before.name, 'Tools');
});

test('bad edits are refused with the field named, and nothing changes', async () => {
  const root = await newCategory(admin, 'Kitchen', slug('kitchen'));
  const child = await newCategory(admin, 'Pans', slug('pans'), root);
  const taken = (await eventually(() => category(child), 10000, 200)).slug;
  const cases = [
    [{ parent_id: child }, 422, 'parent_id'], // under its own child: a cycle
    [{ parent_id: randomUUID() }, 422, 'parent_id'],
    [{ slug: 'Not A Slug' }, 422, 'slug'],
    [{ slug: "x'; DROP TABLE categories; --" }, 422, 'slug'],
    [{ name: '' }, 422, 'name'],
    [{ name: 'x'.repeat(101) }, 422, 'name'],
    [{ name: 42 }, 400, 'name'],
    [{ parent_id: 'nope' }, 422, 'parent_id'],
    [{ colour: 'red' }, 422, 'colour'],
  ];
  for (const [body, status, field] of cases) {
    const r = await patch(root, body);
    assertEnvelope(r, status, 'VALIDATION_ERROR');
    assert.equal(r.body.error.details, field, `${JSON.stringify(body)}: ${r.text}`);
  }
  const self = await patch(root, { parent_id: root });
  assertEnvelope(self, 422, 'VALIDATION_ERROR');
  const dup = await patch(root, { slug: taken });
  assertEnvelope(dup, 409, 'CONFLICT');
  assert.equal(dup.body.error.details, 'slug');
  const same = await patch(child, { parent_id: root }); // its parent already
  assert.equal(same.status, 200, same.text);
  assert.equal(same.body.parent_id, root);
  const unchanged = await eventually(() => category(root), 10000, 200);
  assert.equal(unchanged.name, 'Kitchen', 'refused edits changed nothing');
  assert.equal(unchanged.parent_id, null);

  const malformed = await call(`${API}/categories/${root}`, { method: 'PATCH', headers, raw: '{"name": ' });
  assertEnvelope(malformed, 400, 'VALIDATION_ERROR');
  const missing = await patch(randomUUID(), { name: 'Ghost' });
  assertEnvelope(missing, 404, 'NOT_FOUND');
  const notUuid = await patch('not-a-uuid', { name: 'Ghost' });
  assertEnvelope(notUuid, 404, 'NOT_FOUND');
});

test('only an unused category can be deleted; others are told why (409)', async () => {
  const root = await newCategory(admin, 'Lamps', slug('lamps'));
  const child = await newCategory(admin, 'Desk lamps', slug('desk-lamps'), root);
  const p = await call(`${API}/products`, {
    method: 'POST', headers,
    body: { sku: `CAT-${RUN}-1`.toUpperCase(), name: `Brass lamp ${RUN}`, category_id: child, price: '30.00', stock: 3 },
  });
  assert.equal(p.status, 201, p.text);

  const withChildren = await remove(root);
  assertEnvelope(withChildren, 409, 'CONFLICT');
  assert.match(withChildren.body.error.message, /1 subcategories/);
  const withProducts = await remove(child);
  assertEnvelope(withProducts, 409, 'CONFLICT');
  assert.match(withProducts.body.error.message, /1 products/);

  // An archived product still counts (orders link to it).
  const archived = await call(`${API}/products/${p.body.id}`, { method: 'DELETE', headers });
  assert.equal(archived.status, 200, archived.text);
  assertEnvelope(await remove(child), 409, 'CONFLICT');

  const empty = await newCategory(admin, 'Floor lamps', slug('floor-lamps'), root);
  const gone = await remove(empty);
  assert.equal(gone.status, 204, gone.text);
  await eventually(async () => (await category(empty)) === null, 10000, 200);
  assertEnvelope(await remove(empty), 404, 'NOT_FOUND');
  assert.ok(await eventually(() => category(root), 10000, 200), 'its parent stays');

  // A product cannot be put into a deleted category.
  const late = await call(`${API}/products`, {
    method: 'POST', headers,
    body: { sku: `CAT-${RUN}-2`.toUpperCase(), name: 'Late lamp', category_id: empty, price: '30.00' },
  });
  assertEnvelope(late, 422, 'VALIDATION_ERROR');
});

test('guests and customers may not rename or delete categories', async () => {
  const c = await newCategory(admin, 'Rugs', slug('rugs'));
  assertEnvelope(await patch(c, { name: 'Carpets' }, {}), 401, 'AUTHENTICATION_ERROR');
  assertEnvelope(await remove(c, {}), 401, 'AUTHENTICATION_ERROR');
  const shopper = await newCustomer('categories');
  const as = { authorization: `Bearer ${shopper.token}` };
  assertEnvelope(await patch(c, { name: 'Carpets' }, as), 403, 'AUTHORIZATION_ERROR');
  assertEnvelope(await remove(c, as), 403, 'AUTHORIZATION_ERROR');
  assert.equal((await eventually(() => category(c), 10000, 200)).name, 'Rugs');
});

test('search finds a product by its category\'s new name, and its facet shows it', async () => {
  const oldWord = `oldcat${RUN}`;
  const newWord = `newcat${RUN}`;
  const parent = await newCategory(admin, `Parent ${oldWord}`, slug('parent'));
  const leaf = await newCategory(admin, 'Cushions', slug('cushions'), parent);
  const p = await call(`${API}/products`, {
    method: 'POST', headers,
    body: { sku: `CAT-${RUN}-3`.toUpperCase(), name: `Velvet cushion ${RUN}`, category_id: leaf, price: '12.00', stock: 5, status: 'active' },
  });
  assert.equal(p.status, 201, p.text);
  const find = async (word) => {
    const r = await call(`${API}/search?q=${word}&category_id=${parent}`);
    assert.equal(r.status, 200, r.text);
    return r.body;
  };
  // Found by its parent category's name (the document holds its ancestors').
  await eventually(async () => (await find(oldWord)).items.some((i) => i.id === p.body.id), 60000, 500);

  const r = await patch(parent, { name: `Parent ${newWord}` });
  assert.equal(r.status, 200, r.text);
  await eventually(async () => (await find(newWord)).items.some((i) => i.id === p.body.id), 60000, 500);
  await eventually(async () => !(await find(oldWord)).items.some((i) => i.id === p.body.id), 60000, 500);

  // The category facet names the leaf by its own (new) name.
  await patch(leaf, { name: `Cushions ${newWord}` });
  await eventually(async () => {
    const body = await find(newWord);
    return body.facets.category.some((f) => f.id === leaf && f.name === `Cushions ${newWord}`);
  }, 60000, 500);
});
