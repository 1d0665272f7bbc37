// search_relevance.test.mjs - the judged relevance set (tests/relevance):
// loads the generated catalog under a category tree of this run, runs every
// judged query (filtered to this run's tree, so leftovers of other runs and
// the demo catalog do not compete), prints nDCG@10 per kind and overall,
// and holds every judged product in its query's top 3.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { API, ROOT, call, eventually } from './lib.mjs';

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
const catalog = JSON.parse(readFileSync(`${ROOT}/tests/relevance/catalog.json`, 'utf8'));
const { queries } = JSON.parse(readFileSync(`${ROOT}/tests/relevance/queries.json`, 'utf8'));

let admin;
let root;
const idOf = new Map(); // catalog key -> product id
const keyOf = new Map(); // product id -> catalog key

before(async () => {
  const r = await eventually(async () => {
    const res = await call(`${API}/auth/login`, {
      method: 'POST',
      body: { email: process.env.SHOPSPHERE_ADMIN_EMAIL, password: process.env.SHOPSPHERE_ADMIN_PASSWORD },
    });
    return res.status === 200 ? res : null;
  }, 30000, 250);
  admin = { authorization: `Bearer ${r.body.access_token}` };
  const mk = async (name, parentId) => {
    const body = { name, slug: `rel-${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${RUN}` };
    if (parentId) body.parent_id = parentId;
    const c = await call(`${API}/categories`, { method: 'POST', headers: admin, body });
    assert.equal(c.status, 201, c.text);
    return c.body.id;
  };
  root = await mk('Relevance');
  const cat = new Map();
  for (const c of catalog.categories) cat.set(c.key, await mk(c.name, c.parent ? cat.get(c.parent) : root));
  // a few at a time: quick, without flooding a loaded machine
  const todo = [...catalog.products];
  const worker = async () => {
    for (let p = todo.shift(); p; p = todo.shift()) {
      const body = {
        sku: `REL-${RUN}-${p.key}`.toUpperCase(), name: p.name, description: p.description,
        category_id: cat.get(p.category), price: p.price, currency: 'USD', stock: 10,
        attributes: p.attributes,
      };
      const res = await call(`${API}/products`, { method: 'POST', headers: admin, body });
      assert.equal(res.status, 201, res.text);
      idOf.set(p.key, res.body.id);
      keyOf.set(res.body.id, p.key);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  // every product indexed, and the vocabulary knows their words
  await eventually(async () => {
    const s = await call(`${API}/search?category_id=${root}&limit=1`);
    return s.status === 200 && s.body.total === catalog.products.length;
  }, 60000, 250);
  await eventually(async () => {
    const s = await call(`${API}/search?q=skilet&category_id=${root}`);
    return s.body.corrected_query === 'skillet';
  }, 30000, 250);
});

// nDCG@10 with binary gains: DCG of the ranking over DCG of the ideal one.
function ndcg10(ranked, relevant) {
  let dcg = 0;
  ranked.slice(0, 10).forEach((k, i) => { if (relevant.includes(k)) dcg += 1 / Math.log2(i + 2); });
  let ideal = 0;
  for (let i = 0; i < Math.min(10, relevant.length); i++) ideal += 1 / Math.log2(i + 2);
  return dcg / ideal;
}

test(`judged relevance set: ${queries.length} queries, every judged product in its top 3`, async () => {
  assert.ok(queries.length >= 40);
  const byKind = new Map();
  const misses = [];
  let total = 0;
  for (const { q, kind, relevant } of queries) {
    const r = await call(`${API}/search?${new URLSearchParams({ q, category_id: root, limit: '10' })}`);
    assert.equal(r.status, 200, `${q}: ${r.text}`);
    const ranked = r.body.items.map((p) => keyOf.get(p.id) ?? '?');
    const score = ndcg10(ranked, relevant);
    total += score;
    if (!byKind.has(kind)) byKind.set(kind, []);
    byKind.get(kind).push(score);
    const top3 = ranked.slice(0, 3);
    for (const k of relevant) {
      if (!top3.includes(k)) misses.push(`"${q}": ${k} not in top 3 (got ${ranked.slice(0, 5).join(', ')}; corrected ${r.body.corrected_query})`);
    }
  }
  const lines = [...byKind].map(([k, v]) => `  ${k.padEnd(15)} ${(v.reduce((a, b) => a + b, 0) / v.length).toFixed(3)} (${v.length} queries)`);
  console.log(`search relevance: nDCG@10 = ${(total / queries.length).toFixed(3)} over ${queries.length} queries\n${lines.join('\n')}`);
  assert.deepEqual(misses, []);
});
