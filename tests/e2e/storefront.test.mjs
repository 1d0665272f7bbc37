// storefront.test.mjs - journeys through the web apps in Debian's Chromium
// (Playwright, no browser download), against the platform `make test`
// runs: a guest who searches, filters, buys and watches the order; a
// declined card; the admin dashboard's charts. Screenshots of each step go
// to var/<profile>/e2e/; axe-core must find no serious or critical
// accessibility violation on the pages a shopper and an operator use.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { chromium } from '../../web/node_modules/playwright-core/index.mjs';

const BASE = process.env.SHOPSPHERE_TEST_BASE_URL ?? 'http://127.0.0.1:18080';
const ROOT = process.env.SHOPSPHERE_ROOT ?? new URL('../..', import.meta.url).pathname;
const SHOTS = join(process.env.SHOPSPHERE_VAR_DIR ?? join(ROOT, 'var/test'), 'e2e');
const AXE = readFileSync(join(ROOT, 'web/node_modules/axe-core/axe.min.js'), 'utf8');
const RUN = randomUUID().slice(0, 8);
const SEARCH = process.env.SHOPSPHERE_E2E_SEARCH !== '0';

let browser;
let admin;
let product;

async function apiCall(method, path, body, token) {
  const res = await fetch(`${BASE}/api/v1${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.SHOPSPHERE_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const login = await apiCall('POST', '/auth/login', { email: process.env.SHOPSPHERE_ADMIN_EMAIL, password: process.env.SHOPSPHERE_ADMIN_PASSWORD });
  assert.equal(login.status, 200);
  admin = login.body.access_token;
  const cat = await apiCall('POST', '/categories', { name: `Lamps ${RUN}` }, admin);
  assert.equal(cat.status, 201);
  const p = await apiCall('POST', '/products', {
    sku: `E2E-${RUN}`, name: `Moonlight lantern ${RUN}`, description: 'A warm lantern for the garden.', category_id: cat.body.id,
    price: '24.00', currency: 'USD', stock: 20, status: 'active', attributes: { brand: 'Lumen', color: 'amber' },
  }, admin);
  assert.equal(p.status, 201, JSON.stringify(p.body));
  product = p.body;
});

after(async () => { await browser?.close(); });

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  return page;
}

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

async function assertAccessible(page, name) {
  // Evaluated by the test driver, not as a <script> the page's content
  // security policy (no inline scripts) would block.
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join('; ')})`);
  });
  assert.deepEqual(violations, [], `${name}: accessibility violations`);
}

async function register(page, email, password) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByLabel('First name').fill('Grace');
  await page.getByLabel('Last name').fill('Hopper');
  await page.getByRole('button', { name: 'Create account' }).click();
}

async function fillAddress(page) {
  await page.getByLabel('First name').fill('Grace');
  await page.getByLabel('Last name').fill('Hopper');
  await page.getByLabel('Address line 1').fill('1 Harbor Way');
  await page.getByLabel('City').fill('Arlington');
  await page.getByLabel('State').fill('VA');
  await page.getByLabel('Postal code').fill('22201');
  await page.getByLabel('Country').fill('US');
}

test('a guest finds a product, buys it with tok_visa and sees the order', async () => {
  const page = await newPage();
  await page.goto(`${BASE}/`);
  await assertAccessible(page, 'home');
  await shot(page, '01-home');
  if (SEARCH) {
    // A typo (one letter missing), then the brand facet.
    await page.getByRole('searchbox', { name: 'Search' }).fill(`moonlght lantern ${RUN}`);
    await page.getByRole('searchbox', { name: 'Search' }).press('Enter');
    await page.getByRole('link', { name: new RegExp(`Moonlight lantern ${RUN}`) }).first().waitFor({ timeout: 15000 });
    await page.getByRole('checkbox', { name: /Lumen/ }).check();
    await shot(page, '02-search');
    await page.getByRole('link', { name: new RegExp(`Moonlight lantern ${RUN}`) }).first().click();
  } else {
    await page.goto(`${BASE}/products/${product.id}`);
  }
  await page.getByRole('heading', { name: `Moonlight lantern ${RUN}` }).waitFor();
  assert.match(await page.getByLabel('Price').innerText(), /USD 24\.00/);
  await assertAccessible(page, 'product');
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await page.getByRole('status').getByText('Added').waitFor();
  await shot(page, '03-product');
  await page.getByRole('link', { name: /Cart, 1 items/ }).click();
  await page.getByRole('button', { name: 'Checkout' }).waitFor();
  await assertAccessible(page, 'cart');
  await page.getByRole('button', { name: 'Checkout' }).click();
  await page.getByRole('link', { name: 'create an account' }).click();
  const email = `e2e-${RUN}@example.com`;
  await register(page, email, `Lantern-${RUN}-pass!`);
  await page.getByRole('heading', { name: 'Checkout' }).waitFor();
  await fillAddress(page);
  await page.getByRole('radio', { name: /standard/ }).check({ timeout: 15000 });
  await assertAccessible(page, 'checkout');
  await shot(page, '04-checkout');
  // A double click still makes one order (one Idempotency-Key per attempt).
  await page.getByRole('button', { name: 'Place order' }).dblclick();
  await page.getByRole('status').getByText(/Thank you! Your order is confirmed/).waitFor({ timeout: 30000 });
  await shot(page, '05-confirmed');
  await page.getByRole('link', { name: /^Orders/ }).click();
  const rows = page.getByRole('region', { name: 'Order history' }).getByRole('row');
  await rows.first().waitFor();
  assert.equal(await rows.count(), 1, 'one order for the double click');
  await shot(page, '06-history');
  await page.context().close();
});

test('a declined card shows the decline and keeps the cart', async () => {
  const page = await newPage();
  await page.goto(`${BASE}/register?next=/products/${product.id}`);
  await register(page, `declined-${RUN}@example.com`, `Lantern-${RUN}-pass!`);
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await page.getByRole('status').getByText('Added').waitFor();
  await page.goto(`${BASE}/checkout`);
  await fillAddress(page);
  await page.getByRole('radio', { name: /standard/ }).check({ timeout: 15000 });
  await page.getByLabel('Card').selectOption('tok_chargeDeclined');
  await page.getByRole('button', { name: 'Place order' }).click();
  await page.getByRole('alert').getByText('Your card was declined.').waitFor({ timeout: 30000 });
  await shot(page, '07-declined');
  await page.goto(`${BASE}/cart`);
  await page.getByRole('cell', { name: `Moonlight lantern ${RUN}` }).waitFor();
  await page.context().close();
});

test('the admin dashboard renders its charts with the orders just made', async () => {
  const page = await newPage();
  await page.goto(`${BASE}/admin/`);
  await page.getByLabel('Email').fill(process.env.SHOPSPHERE_ADMIN_EMAIL);
  await page.getByLabel('Password').fill(process.env.SHOPSPHERE_ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  for (const chart of ['Sales over time', 'Orders by status', 'Top products']) {
    await page.getByRole('figure', { name: chart }).waitFor({ timeout: 15000 });
  }
  await page.getByTestId('orders-today').waitFor({ timeout: 15000 });
  assert.ok(Number(await page.getByTestId('orders-today').innerText()) >= 1);
  await assertAccessible(page, 'admin dashboard');
  await shot(page, '08-admin-dashboard');
  // An admin's price change shows in the storefront.
  await page.getByRole('button', { name: 'Products' }).click();
  await page.getByLabel(`Price of Moonlight lantern ${RUN}`).fill('26.50');
  await page.getByLabel(`Price of Moonlight lantern ${RUN}`).press('Enter');
  const shop = await newPage();
  let shown = '';
  for (let i = 0; i < 40 && !/26\.50/.test(shown); i++) {
    await shop.goto(`${BASE}/products/${product.id}`);
    shown = await shop.getByLabel('Price').innerText();
    if (!/26\.50/.test(shown)) await shop.waitForTimeout(500);
  }
  assert.match(shown, /USD 26\.50/);
  await shop.context().close();
  await page.context().close();
});
