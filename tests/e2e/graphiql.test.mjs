// graphiql.test.mjs - GraphiQL at GET /graphql (docs/graphql.md), in
// Debian's Chromium (Playwright): the page comes from the web build
// (web/graphiql/, bundled with Monaco and its workers), loads nothing from
// another origin, runs a product query against POST /graphql and shows the
// answer. A screenshot goes to var/<profile>/e2e/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { chromium } from '../../web/node_modules/playwright-core/index.mjs';

const BASE = process.env.SHOPSPHERE_TEST_BASE_URL ?? 'http://127.0.0.1:18080';
const ROOT = process.env.SHOPSPHERE_ROOT ?? new URL('../..', import.meta.url).pathname;
const SHOTS = join(process.env.SHOPSPHERE_VAR_DIR ?? join(ROOT, 'var/test'), 'e2e');
const RUN = randomUUID().slice(0, 8);

let browser;
let product;

// POST to the REST API (the test's own data).
const post = (path, body, token) => fetch(`${BASE}/api/v1${path}`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
  body: JSON.stringify(body),
}).then(async (res) => ({ status: res.status, body: await res.json() }));

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  const login = await post('/auth/login',
    { email: process.env.SHOPSPHERE_ADMIN_EMAIL, password: process.env.SHOPSPHERE_ADMIN_PASSWORD });
  assert.equal(login.status, 200);
  const token = login.body.access_token;
  const cat = await post('/categories', { name: `GraphiQL ${RUN}` }, token);
  assert.equal(cat.status, 201);
  const p = await post('/products', {
    sku: `GQL-${RUN}`, name: `Graph paper notebook ${RUN}`, description: 'Squared pages.', category_id: cat.body.id,
    price: '7.25', currency: 'USD', stock: 5, status: 'active',
  }, token);
  assert.equal(p.status, 201, JSON.stringify(p.body));
  product = p.body;
  browser = await chromium.launch({
    executablePath: process.env.SHOPSPHERE_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

after(async () => { await browser?.close(); });

test('GraphiQL at /graphql runs a product query, offline', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const elsewhere = [];
  page.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith(BASE) && !url.startsWith('data:') && !url.startsWith('blob:')) elsewhere.push(url);
  });
  const query = `{ product(id: "${product.id}") { id name price currency } }`;
  const res = await page.goto(`${BASE}/graphql#query=${encodeURIComponent(query)}`);
  assert.equal(res.status(), 200);
  assert.equal(await page.title(), 'ShopSphere GraphiQL');
  const run = page.locator('.graphiql-execute-button');
  await run.waitFor({ timeout: 60000 });
  // The query editor (Monaco) holds the query of the link.
  await page.locator('.graphiql-query-editor').getByText(product.id).first().waitFor({ timeout: 60000 });
  await run.click();
  const result = page.locator('.result-window');
  await result.getByText(`Graph paper notebook ${RUN}`).first().waitFor({ timeout: 60000 });
  const text = await result.innerText();
  assert.match(text, /"price":\s*"7\.25"/); // Monaco renders spaces as no-break spaces
  assert.match(text, /"currency":\s*"USD"/);
  await page.screenshot({ path: join(SHOTS, 'graphiql.png') });
  assert.deepEqual(elsewhere, [], 'everything comes from the gateway');
  await context.close();
});
