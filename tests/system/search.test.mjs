// search.test.mjs - the search service through the gateway: a new product is
// found by a one-typo query, by a prefix and by a synonym soon after its
// creation, and disappears when archived; facets and totals agree with the
// filtered result set; every malformed parameter is a 422 naming it;
// suggestions; admin synonyms, reindex and query reports, and their access;
// a reindex (route and command) rebuilds the per-currency price lists.
//
// Black box but for one step: a document indexed before its product had a
// price in a currency (an event the index never had) cannot be made through
// the API, so that test empties the document's price list with psql (the
// test profile's database, as the security suite ages a row).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { API, assertEnvelope, call, eventually, runShopsphere } from './lib.mjs';

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
// A word no catalog has: letters only, 9 long, from the run id.
const LETTERS = 'bcdfghjklmnpqrstvwxz';
function word(seed, n = 9) {
  let h = 2166136261;
  for (const c of `${RUN}-${seed}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  let w = '';
  for (let i = 0; i < n; i++) {
    w += i % 2 ? 'aeiou'[h % 5] : LETTERS[h % LETTERS.length];
    h = Math.imul(h ^ (i + 7), 2654435761) >>> 0;
  }
  return w;
}
const WAIT = 20000; // "within a second", with a wide margin for a loaded machine

let admin;
let customer;
let root;
let seq = 0;

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

async function newProduct(fields) {
  const body = {
    sku: `S-${RUN}-${++seq}`.toUpperCase(), price: '10.00', currency: 'USD', stock: 5,
    category_id: root.id, ...fields,
  };
  const r = await call(`${API}/products`, { method: 'POST', headers: admin, body });
  assert.equal(r.status, 201, r.text);
  return r.body;
}

const search = (params) => call(`${API}/search?${new URLSearchParams(params)}`);
const ids = (r) => r.body.items.map((p) => p.id);

before(async () => {
  admin = await eventually(
    () => login(process.env.SHOPSPHERE_ADMIN_EMAIL, process.env.SHOPSPHERE_ADMIN_PASSWORD), 30000, 250);
  const email = `search-${RUN}@example.com`;
  const password = 'Search-Tester-2931!';
  const reg = await call(`${API}/users`, {
    method: 'POST',
    body: { email, password, username: `search${RUN}`, first_name: 'Sea', last_name: 'Rch' },
  });
  assert.equal(reg.status, 201, reg.text);
  customer = await login(email, password);
  root = await newCategory('Search Tests');
});

test('a new product is found by a typo, a prefix and a synonym, and vanishes when archived', async () => {
  const name = word('name');            // e.g. "kobazutef"
  const alias = word('alias');
  const product = await newProduct({
    name: `${name[0].toUpperCase()}${name.slice(1)} Lantern`,
    description: 'A lantern for the test catalog.',
    attributes: { brand: `Brand${RUN}`, color: 'amber' },
  });

  // exact word, soon after creation
  const exact = await eventually(async () => {
    const r = await search({ q: name, category_id: root.id });
    return r.status === 200 && ids(r).includes(product.id) ? r : null;
  }, WAIT);
  const item = exact.body.items.find((p) => p.id === product.id);
  assert.equal(item.name, product.name);
  assert.equal(item.price, '10.00');
  assert.equal(item.currency, 'USD');
  assert.equal(item.sku, product.sku);
  assert.equal(typeof item.score, 'number');
  assert.equal(exact.body.corrected_query, null);

  // one typo (two letters swapped) in a 9-letter word: corrected
  const typo = `${name.slice(0, 3)}${name[4]}${name[3]}${name.slice(5)}`;
  const fixed = await eventually(async () => {
    const r = await search({ q: typo });
    return r.status === 200 && ids(r).includes(product.id) ? r : null;
  }, WAIT);
  assert.equal(fixed.body.corrected_query, name);

  // a prefix of the last word (search as you type)
  const prefix = await search({ q: `lantern ${name.slice(0, 5)}` });
  assert.equal(prefix.status, 200);
  assert.ok(ids(prefix).includes(product.id), prefix.text);
  assert.equal(prefix.body.corrected_query, null);

  // a synonym the admin adds
  const before = await call(`${API}/admin/search/synonyms`, { headers: admin });
  assert.equal(before.status, 200, before.text);
  const groups = [...before.body.groups, [name, alias]];
  const put = await call(`${API}/admin/search/synonyms`, { method: 'PUT', headers: admin, body: { groups } });
  assert.equal(put.status, 200, put.text);
  assert.deepEqual(put.body.groups.at(-1), [name, alias]);
  await eventually(async () => {
    const r = await search({ q: alias });
    return r.status === 200 && ids(r).includes(product.id);
  }, WAIT);
  // restore the groups as they were
  const cur = await call(`${API}/admin/search/synonyms`, { headers: admin });
  const restored = cur.body.groups.filter((g) => !(g.includes(name) && g.includes(alias)));
  assert.equal((await call(`${API}/admin/search/synonyms`, { method: 'PUT', headers: admin, body: { groups: restored } })).status, 200);

  // suggestions while typing: the product and its brand
  const sug = await eventually(async () => {
    const r = await call(`${API}/search/suggest?q=${name.slice(0, 6)}`);
    return r.status === 200 && r.body.items.some((s) => s.type === 'product' && s.id === product.id) ? r : null;
  }, WAIT);
  for (const s of sug.body.items) assert.ok(['product', 'brand', 'category'].includes(s.type));
  const brand = await eventually(async () => {
    const r = await call(`${API}/search/suggest?q=brand${RUN}`);
    return r.status === 200 && r.body.items.find((s) => s.type === 'brand') ? r : null;
  }, WAIT);
  assert.equal(brand.body.items.find((s) => s.type === 'brand').text, `Brand${RUN}`);

  // archived: gone from search
  const del = await call(`${API}/products/${product.id}`, { method: 'DELETE', headers: admin });
  assert.ok(del.status === 200 || del.status === 204, del.text);
  await eventually(async () => {
    const r = await search({ q: name });
    return r.status === 200 && !ids(r).includes(product.id);
  }, WAIT);
});

test('a change of the product (price, stock) shows in search', async () => {
  const name = word('change');
  const p = await newProduct({ name: `${name} kettle`, price: '30.00', stock: 3 });
  await eventually(async () => ids(await search({ q: name })).includes(p.id), WAIT);
  const patch = await call(`${API}/products/${p.id}`, { method: 'PATCH', headers: admin, body: { price: '12.50' } });
  assert.equal(patch.status, 200, patch.text);
  await eventually(async () => {
    const r = await search({ q: name });
    return r.body.items.find((i) => i.id === p.id)?.price === '12.50';
  }, WAIT);
  const adj = await call(`${API}/products/${p.id}/inventory-adjustments`, {
    method: 'POST', headers: admin, body: { delta: -3, reason: 'sold out for the test' },
  });
  assert.ok(adj.status < 300, adj.text);
  await eventually(async () => {
    const r = await search({ q: name, in_stock: 'false' });
    return ids(r).includes(p.id);
  }, WAIT);
  const inStock = await search({ q: name, in_stock: 'true' });
  assert.ok(!ids(inStock).includes(p.id));
});

test('colour and size facets and filters see the variants: a shirt counts once under each colour', async () => {
  const tag = word('variants');
  const shirt = await newProduct({
    name: `${tag} shirt`, attributes: { brand: 'Variant Co' },
    options: [{ name: 'Size', values: ['S', 'M'] }, { name: 'Colour', values: ['Red', 'blue'] }],
  });
  for (const [size, colour] of [['S', 'Red'], ['M', 'Red'], ['M', 'blue']]) {
    const r = await call(`${API}/products/${shirt.id}/variants`, {
      method: 'POST', headers: admin,
      body: { sku: `V-${RUN}-${size}-${colour}`.toUpperCase(), options: { Size: size, Colour: colour }, stock: 3 },
    });
    assert.equal(r.status, 201, r.text);
  }
  const plain = await newProduct({ name: `${tag} mug`, attributes: { brand: 'Variant Co', color: 'red' } });
  // Indexed with its last variant (the product's events carry the variants),
  // and the mug indexed too.
  await eventually(async () => {
    const r = await search({ q: tag, color: 'blue' });
    return r.status === 200 && r.body.total === 1;
  }, WAIT);
  const all = await eventually(async () => {
    const r = await search({ q: tag });
    return r.status === 200 && r.body.total === 2 ? r : null;
  }, WAIT);
  const colour = (r, v) => r.body.facets.color.find((f) => f.value.toLowerCase() === v)?.count;
  assert.equal(colour(all, 'red'), 2, 'the shirt (Red variants) and the mug (red), once each');
  assert.equal(colour(all, 'blue'), 1);
  assert.equal(all.body.facets.size.find((f) => f.value === 'M')?.count, 1);
  assert.equal(all.body.facets.size.find((f) => f.value === 'S')?.count, 1);

  const blue = await search({ q: tag, color: 'BLUE' });
  assert.deepEqual(ids(blue), [shirt.id]);
  const red = await search({ q: tag, color: 'red' });
  assert.deepEqual(new Set(ids(red)), new Set([shirt.id, plain.id]));
  const sized = await search({ q: tag, size: 's' });
  assert.deepEqual(ids(sized), [shirt.id]);
  // the size filter leaves the colour facet counting the shirt's colours only
  assert.equal(colour(sized, 'blue'), 1);
  assert.equal(colour(sized, 'red'), 1);
});

test('a search in EUR shows, filters and sorts by the EUR price lists; products without one are left out', async () => {
  const tag = word('currency');
  const cheap = await newProduct({ name: `${tag} kettle`, price: '30.00' });
  const dear = await newProduct({ name: `${tag} teapot`, price: '20.00' });
  const usdOnly = await newProduct({ name: `${tag} cup`, price: '5.00' });
  for (const [p, amount] of [[cheap, '8.50'], [dear, '45.00']]) {
    const r = await call(`${API}/products/${p.id}/prices`, {
      method: 'PUT', headers: admin, body: { prices: [{ currency: 'EUR', amount }] },
    });
    assert.equal(r.status, 200, r.text);
  }
  const eur = await eventually(async () => {
    const r = await search({ q: tag, currency: 'EUR', sort: 'price_asc' });
    return r.status === 200 && r.body.total === 2 ? r : null;
  }, WAIT);
  assert.deepEqual(ids(eur), [cheap.id, dear.id], 'sorted by the EUR prices, the USD-only cup left out');
  assert.deepEqual(eur.body.items.map((i) => [i.price, i.currency]), [['8.50', 'EUR'], ['45.00', 'EUR']]);
  const bounded = await search({ q: tag, currency: 'EUR', min_price: '10.00' });
  assert.deepEqual(ids(bounded), [dear.id]);
  assert.equal(bounded.body.facets.price.find((b) => b.from === '0.00').count, 1, 'buckets in EUR');
  // Without a currency every product shows its own price.
  const own = await search({ q: tag, sort: 'price_asc' });
  assert.deepEqual(ids(own), [usdOnly.id, dear.id, cheap.id]);
  assert.ok(own.body.items.every((i) => i.currency === 'USD'));
});

function sql(query) {
  return execFileSync('psql', [process.env.SHOPSPHERE_DATABASE_URL, '-XAtqc', query], { encoding: 'utf8' }).trim();
}

async function reindexJob() {
  const job = await call(`${API}/admin/search/reindex`, { method: 'POST', headers: admin });
  assert.equal(job.status, 202, job.text);
  const done = await eventually(async () => {
    const r = await call(`${API}/admin/search/reindex/${job.body.id}`, { headers: admin });
    return r.status === 200 && r.body.status !== 'running' && r.body.status !== 'queued' ? r : null;
  }, 180000, 250);
  assert.equal(done.body.status, 'done', done.text);
}

test('a reindex rebuilds the price lists per currency from the catalog, currencies added since included', async () => {
  const tag = word('reprice');
  const lamp = await newProduct({ name: `${tag} lamp`, price: '30.00' });
  const vase = await newProduct({ name: `${tag} vase`, price: '12.00' });
  const put = async (p, prices) => {
    const r = await call(`${API}/products/${p.id}/prices`, { method: 'PUT', headers: admin, body: { prices } });
    assert.equal(r.status, 200, r.text);
  };
  await put(lamp, [{ currency: 'EUR', amount: '27.00' }]);
  await put(vase, [{ currency: 'EUR', amount: '11.00' }, { currency: 'GBP', amount: '9.50' }]);
  const inEur = async (n) => eventually(async () => {
    const r = await search({ q: tag, currency: 'EUR', sort: 'price_asc' });
    return r.status === 200 && r.body.total === n ? r : null;
  }, WAIT);
  await inEur(2);
  await eventually(async () => (await search({ q: tag, currency: 'GBP' })).body.total === 1, WAIT);

  // The index as if it had never heard of these price lists (documents
  // indexed before the currencies were added to the catalog).
  sql(`UPDATE search.documents SET prices = '{}'::jsonb WHERE product_id IN ('${lamp.id}', '${vase.id}')`);
  sql(`UPDATE search.meta SET value = value + 1 WHERE key = 'generation'`);
  await eventually(async () => (await search({ q: tag, currency: 'EUR' })).body.total === 0, WAIT);

  // POST /admin/search/reindex brings both currencies back.
  await reindexJob();
  const eur = await inEur(2);
  assert.deepEqual(eur.body.items.map((i) => [i.id, i.price, i.currency]),
    [[vase.id, '11.00', 'EUR'], [lamp.id, '27.00', 'EUR']]);
  const gbp = await search({ q: tag, currency: 'GBP' });
  assert.deepEqual(gbp.body.items.map((i) => [i.id, i.price, i.currency]), [[vase.id, '9.50', 'GBP']]);

  // shopsphere search reindex does the same for a currency added later, and
  // a currency the catalog does not have leaves the index.
  await put(lamp, [{ currency: 'EUR', amount: '25.00' }, { currency: 'JPY', amount: '4200' }]);
  await eventually(async () => (await search({ q: tag, currency: 'JPY' })).body.total === 1, WAIT);
  sql(`UPDATE search.documents SET prices = '{}'::jsonb WHERE product_id = '${vase.id}'`);
  sql(`UPDATE search.documents SET prices = '{"CHF": "1.00"}'::jsonb WHERE product_id = '${lamp.id}'`);
  sql(`UPDATE search.meta SET value = value + 1 WHERE key = 'generation'`);
  await eventually(async () => (await search({ q: tag, currency: 'CHF' })).body.total === 1, WAIT);
  const cli = await runShopsphere(['search', 'reindex'], { timeout: 180000 });
  assert.equal(cli.code, 0, cli.stderr);
  const after = await inEur(2);
  assert.deepEqual(after.body.items.map((i) => [i.id, i.price]), [[vase.id, '11.00'], [lamp.id, '25.00']]);
  const yen = await eventually(async () => {
    const r = await search({ q: tag, currency: 'JPY' });
    return r.body.total === 1 ? r : null;
  }, WAIT);
  assert.deepEqual(yen.body.items.map((i) => [i.id, i.price, i.currency]), [[lamp.id, '4200', 'JPY']]);
  // Another process's reindex reaches the service's cached answers within
  // its generation check (a second).
  await eventually(async () => (await search({ q: tag, currency: 'CHF' })).body.total === 0, WAIT);
});

test('facets are disjunctive and agree with totals and the filtered set', async () => {
  const cat = await newCategory('Facet Leaf', root.id);
  const other = await newCategory('Facet Other', root.id);
  const tag = word('facet');
  const specs = [
    ['Acme', 'red', 'M', '5.00', cat], ['Acme', 'blue', 'L', '30.00', cat],
    ['Zenith', 'red', 'M', '75.00', cat], ['Zenith', 'red', 'S', '150.00', other],
    ['Orbit', 'green', 'M', '600.00', other],
  ];
  const made = [];
  for (const [brand, color, size, price, c] of specs) {
    made.push(await newProduct({
      name: `${tag} item ${brand}`, price, category_id: c.id, attributes: { brand, color, size },
    }));
  }
  await eventually(async () => (await search({ q: tag })).body.total === specs.length, WAIT);

  const all = await search({ q: tag, limit: '100' });
  assert.equal(all.status, 200);
  assert.equal(all.body.total, 5);
  const count = (facet, key, value) => all.body.facets[facet].find((f) => f[key] === value)?.count;
  assert.equal(count('brand', 'value', 'Acme'), 2);
  assert.equal(count('brand', 'value', 'Zenith'), 2);
  assert.equal(count('color', 'value', 'red'), 3);
  assert.equal(count('size', 'value', 'M'), 3);
  assert.equal(count('category', 'id', cat.id), 3);
  assert.equal(all.body.facets.category.find((f) => f.id === cat.id).name, 'Facet Leaf');
  const bucket = (r, from) => r.body.facets.price.find((b) => b.from === from).count;
  assert.equal(bucket(all, '0.00'), 1);
  assert.equal(bucket(all, '25.00'), 1);
  assert.equal(bucket(all, '500.00'), 1);
  assert.equal(all.body.facets.price.at(-1).to, null);

  // brand=Acme: the brand facet still counts every brand (its own filter is
  // left out), the others count within Acme only
  const acme = await search({ q: tag, brand: 'Acme' });
  assert.equal(acme.body.total, 2);
  assert.deepEqual(new Set(ids(acme)), new Set(made.slice(0, 2).map((p) => p.id)));
  assert.equal(acme.body.facets.brand.find((f) => f.value === 'Zenith').count, 2);
  assert.equal(acme.body.facets.color.find((f) => f.value === 'red').count, 1);
  assert.equal(acme.body.facets.color.find((f) => f.value === 'blue').count, 1);

  // several filters: each facet's counts apply every filter but its own,
  // and the total is the size of the filtered set
  const filtered = await search({ q: tag, color: 'red', size: 'M', limit: '1' });
  assert.equal(filtered.body.total, 2);
  assert.equal(filtered.body.items.length, 1);
  const page2 = await search({ q: tag, color: 'red', size: 'M', limit: '1', offset: '1' });
  assert.equal(page2.body.items.length, 1);
  assert.notEqual(page2.body.items[0].id, filtered.body.items[0].id);
  assert.equal(filtered.body.facets.size.find((f) => f.value === 'S').count, 1);
  assert.equal(filtered.body.facets.color.find((f) => f.value === 'red').count, 2);
  const sumBrands = filtered.body.facets.brand.reduce((s, f) => s + f.count, 0);
  assert.equal(sumBrands, filtered.body.total);

  // category (with descendants) and price range
  const inRoot = await search({ q: tag, category_id: root.id, min_price: '20', max_price: '200' });
  assert.equal(inRoot.body.total, 3);
  const inLeaf = await search({ q: tag, category_id: cat.id });
  assert.equal(inLeaf.body.total, 3);

  // sorts
  const asc = await search({ q: tag, sort: 'price_asc' });
  assert.deepEqual(asc.body.items.map((p) => p.price), ['5.00', '30.00', '75.00', '150.00', '600.00']);
  const desc = await search({ q: tag, sort: 'price_desc' });
  assert.equal(desc.body.items[0].price, '600.00');
  const rel = await search({ q: tag });
  const scores = rel.body.items.map((p) => p.score);
  for (let i = 1; i < scores.length; i++) assert.ok(scores[i] <= scores[i - 1]);
});

test('an empty query browses the catalog, popular first', async () => {
  const r = await search({ category_id: root.id, limit: '5' });
  assert.equal(r.status, 200);
  assert.ok(r.body.total >= 1);
  assert.equal(r.body.corrected_query, null);
  const scores = r.body.items.map((p) => p.score);
  for (let i = 1; i < scores.length; i++) assert.ok(scores[i] <= scores[i - 1]);
});

test('malformed parameters are 422 naming the field', async () => {
  const cases = [
    [{ limit: '0' }, 'limit'], [{ limit: '101' }, 'limit'], [{ limit: 'x' }, 'limit'],
    [{ offset: '-1' }, 'offset'], [{ offset: '99999999999' }, 'offset'],
    [{ sort: 'best' }, 'sort'], [{ in_stock: 'yes' }, 'in_stock'],
    [{ min_price: '-1' }, 'min_price'], [{ max_price: '1.234' }, 'max_price'],
    [{ min_price: '20', max_price: '10' }, 'max_price'],
    [{ category_id: 'nope' }, 'category_id'], [{ currency: 'usd' }, 'currency'],
    [{ q: 'x'.repeat(201) }, 'q'], [{ brand: 'b'.repeat(101) }, 'brand'],
    [{ bogus: '1' }, 'bogus'],
  ];
  for (const [params, field] of cases) {
    const r = await search(params);
    assertEnvelope(r, 422, 'VALIDATION_ERROR');
    assert.equal(r.body.error.details, field, `${JSON.stringify(params)}: ${r.text}`);
  }
  const badUtf8 = await call(`${API}/search?q=%C3%28`);
  assertEnvelope(badUtf8, 422, 'VALIDATION_ERROR');
  assert.equal(badUtf8.body.error.details, 'q');
  // SQL and tsquery meta-characters are just text
  for (const q of ["' OR 1=1 --", 'a & | ! ( ) :* <->', '\\', '%_%']) {
    const r = await search({ q });
    assert.equal(r.status, 200, r.text);
    assert.ok(Array.isArray(r.body.items));
  }
  assertEnvelope(await call(`${API}/search/suggest`), 422, 'VALIDATION_ERROR');
  assertEnvelope(await call(`${API}/search/suggest?q=ab&x=1`), 422, 'VALIDATION_ERROR');
});

test('admin search routes: access, synonym validation, reindex, query reports', async () => {
  assertEnvelope(await call(`${API}/admin/search/synonyms`), 401, 'AUTHENTICATION_ERROR');
  assertEnvelope(await call(`${API}/admin/search/synonyms`, { headers: customer }), 403, 'AUTHORIZATION_ERROR');
  assertEnvelope(await call(`${API}/admin/search/queries`, { headers: customer }), 403, 'AUTHORIZATION_ERROR');
  assertEnvelope(await call(`${API}/admin/search/reindex`, { method: 'POST', headers: customer }), 403, 'AUTHORIZATION_ERROR');

  const put = (body) => call(`${API}/admin/search/synonyms`, { method: 'PUT', headers: admin, body });
  for (const body of [{ groups: [['one']] }, { groups: [['a', '']] }, { groups: [['a', 'x'.repeat(61)]] },
    { groups: [['a', 5]] }, { groups: [['a', 'b c d e']] }, { groups: [[]] }]) {
    const r = await put(body);
    assertEnvelope(r, 422, 'VALIDATION_ERROR');
    assert.match(r.body.error.details, /^groups/);
  }
  assertEnvelope(await put({ groups: 'x' }), 400, 'VALIDATION_ERROR'); // a type error
  assertEnvelope(await put({ groups: [], extra: 1 }), 422, 'VALIDATION_ERROR');
  assertEnvelope(await call(`${API}/admin/search/synonyms`, {
    method: 'PUT', headers: { ...admin, 'content-type': 'application/json' }, raw: '{"groups":',
  }), 400, 'VALIDATION_ERROR');

  // zero-result and top queries
  const nothing = word('nothing', 12);
  const miss = await search({ q: nothing });
  assert.equal(miss.body.total, 0);
  const hitWord = word('hit');
  const p = await newProduct({ name: `${hitWord} bottle` });
  await eventually(async () => ids(await search({ q: hitWord })).includes(p.id), WAIT);
  await search({ q: hitWord });
  const zero = await eventually(async () => {
    const r = await call(`${API}/admin/search/queries?kind=zero_results&limit=100`, { headers: admin });
    return r.status === 200 && r.body.items.find((i) => i.query === nothing) ? r : null;
  }, WAIT);
  const z = zero.body.items.find((i) => i.query === nothing);
  assert.ok(z.count >= 1);
  assert.match(z.last_searched_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const top = await eventually(async () => {
    const r = await call(`${API}/admin/search/queries?kind=top&limit=100`, { headers: admin });
    return r.body.items.find((i) => i.query === hitWord && i.count >= 2) ? r : null;
  }, WAIT);
  assert.ok(top.body.items.length <= 100);
  for (const [q, field] of [['kind=worst', 'kind'], ['from=2024-13-01', 'from'], ['to=yesterday', 'to'],
    ['limit=0', 'limit'], ['from=2025-02-01&to=2025-01-01', 'to'], ['other=1', 'other']]) {
    const r = await call(`${API}/admin/search/queries?${q}`, { headers: admin });
    assertEnvelope(r, 422, 'VALIDATION_ERROR');
    assert.equal(r.body.error.details, field);
  }

  // reindex: 202 with a job, answers keep coming, the job finishes
  const job = await call(`${API}/admin/search/reindex`, { method: 'POST', headers: admin });
  assert.equal(job.status, 202, job.text);
  assert.match(job.body.id, /^[0-9a-f-]{36}$/);
  let served = 0;
  const done = await eventually(async () => {
    const s = await search({ q: hitWord });
    assert.equal(s.status, 200);
    if (ids(s).includes(p.id)) served++;
    const r = await call(`${API}/admin/search/reindex/${job.body.id}`, { headers: admin });
    return r.status === 200 && r.body.status !== 'running' ? r : null;
  }, 120000, 200);
  assert.equal(done.body.status, 'done', done.text);
  assert.ok(done.body.done >= 1);
  assert.ok(served >= 1);
  assert.ok(ids(await search({ q: hitWord })).includes(p.id));
  assertEnvelope(await call(`${API}/admin/search/reindex/${crypto.randomUUID()}`, { headers: admin }), 404, 'NOT_FOUND');
});

test("a product's variants are searchable by their option values", async () => {
  const shade = word('shade');
  const p = await newProduct({
    name: `${word('variant')} hoodie`,
    options: [{ name: 'color', values: [shade, 'plain'] }],
  });
  const v = await call(`${API}/products/${p.id}/variants`, {
    method: 'POST', headers: admin, body: { sku: `V-${RUN}-${++seq}`.toUpperCase(), options: { color: shade }, stock: 2 },
  });
  assert.equal(v.status, 201, v.text);
  const found = await eventually(async () => {
    const r = await search({ q: shade });
    return r.status === 200 && ids(r).includes(p.id) ? r : null;
  }, WAIT);
  const item = found.body.items.find((i) => i.id === p.id);
  assert.ok(Array.isArray(item.variants) && item.variants.some((x) => x.options.color === shade), JSON.stringify(item));
});
