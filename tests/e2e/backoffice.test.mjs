// backoffice.test.mjs - the admin dashboard (/admin/) in Debian's Chromium:
// the charts render with the orders just made; a price change shows in the
// storefront; products are created, imported from CSV (refused rows shown),
// restocked and archived; an order is shipped and refunded from its detail
// page; a user is suspended; synonyms are saved; the audit log shows it
// all. Exchanges are checked against the API documents (browser.mjs).
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { API, BASE, adminToken, call, eventually, newCategory } from '../system/lib.mjs';
import {
  adminSection as section, assertAccessible, bearer, leftovers, buy, close, done, launch, newPage, registerUser, reloadUntil, shot,
  signInAdmin,
} from './browser.mjs';

const RUN = randomUUID().slice(0, 8);
let admin;
let category;
let product;
let buyer;
let order;

before(async () => {
  await launch();
  admin = await adminToken();
  category = await newCategory(admin, `Desks ${RUN}`, `desks-${RUN}`);
  const p = await call(`${API}/products`, {
    method: 'POST', headers: bearer(admin),
    body: { sku: `E2E-ADM-${RUN}`, name: `Oak desk ${RUN}`, category_id: category, price: '240.00', currency: 'USD', stock: 30, status: 'active' },
  });
  assert.equal(p.status, 201, p.text);
  product = p.body;
  buyer = await registerUser(`office-${RUN}@example.com`, `Office-${RUN}-pass!`, 'Otto');
  order = await buy(buyer, product.id);
});

afterEach((t) => leftovers(String(t?.name ?? 'journey').replace(/\W+/g, '-').slice(0, 40)));
after(close);

test('the admin dashboard renders its charts with the orders just made; a price change shows in the storefront', async () => {
  const page = await newPage();
  await signInAdmin(page);
  for (const chart of ['Sales over time', 'Orders by status', 'Top products', 'Low stock']) {
    await page.getByRole('figure', { name: chart }).waitFor({ timeout: 20000 });
  }
  await page.getByTestId('orders-today').waitFor({ timeout: 20000 });
  assert.ok(Number(await page.getByTestId('orders-today').innerText()) >= 1);
  // The top products chart names each product in full (no cut labels).
  const today = new Date();
  const from = new Date(today.getTime() - 13 * 86400_000).toISOString().slice(0, 10);
  const to = new Date(today.getTime() + 86400_000).toISOString().slice(0, 10);
  const top = await call(`${API}/admin/reports/top-products?from=${from}&to=${to}&limit=8`, { headers: bearer(admin) });
  assert.equal(top.status, 200, top.text);
  assert.ok(top.body.items.length >= 1, 'the report has the orders just made');
  await page.getByRole('figure', { name: 'Top products' }).getByText(top.body.items[0].name, { exact: true }).waitFor({ timeout: 20000 });
  // "Sign out" stays on one line beside the sections.
  const out = page.getByRole('button', { name: 'Sign out' });
  const box = await out.boundingBox();
  assert.ok(box && box.height < 45, `Sign out is on one line (${box?.height}px)`);
  await assertAccessible(page, 'admin dashboard');
  await shot(page, '20-admin-dashboard');

  await section(page, 'Products').click();
  await page.getByLabel(`Price of Oak desk ${RUN}`).fill('226.50');
  await page.getByLabel(`Price of Oak desk ${RUN}`).press('Enter');
  const shop = await newPage();
  await reloadUntil(shop, `${BASE}/products/${product.id}`, () => shop.getByLabel('Price').getByText('USD 226.50'), 60000);
  await done(shop);
  await done(page);
});

test('an admin creates, imports, restocks and archives products', async () => {
  const page = await newPage();
  await signInAdmin(page);
  await section(page, 'Products').click();
  const form = page.getByRole('form', { name: 'New product' });
  await form.getByLabel('SKU').fill(`E2E-NEW-${RUN}`);
  await form.getByLabel('Name').fill(`Walnut shelf ${RUN}`);
  await form.getByLabel('Price').fill('89.00');
  await form.getByLabel('Stock').fill('4');
  await form.getByLabel('Category').selectOption({ label: `desks-${RUN}` });
  await form.getByRole('button', { name: 'Create product' }).click();
  await page.getByRole('status').getByText(`Created Walnut shelf ${RUN}.`).waitFor({ timeout: 20000 });

  // Its details: the brand a shopper filters by.
  const shelf = page.getByRole('row').filter({ hasText: `E2E-NEW-${RUN}` });
  await shelf.getByText('Edit details').click();
  await shelf.getByLabel('Brand').fill('Hyggelig');
  await shelf.getByRole('button', { name: 'Save details' }).click();
  await eventually(async () => {
    const r = await call(`${API}/products?limit=100&sort=newest`, { headers: bearer(admin) });
    return r.body.items.find((x) => x.sku === `E2E-NEW-${RUN}`)?.attributes?.brand === 'Hyggelig';
  }, 30000, 500);

  const csv = [
    'sku,name,price,currency,stock,category,brand',
    `E2E-CSV1-${RUN},Pine stool ${RUN},35.00,USD,12,desks-${RUN},Nordwood`,
    `E2E-CSV2-${RUN},Broken row ${RUN},not-a-price,USD,3,desks-${RUN},Nordwood`,
    `"E2E-CSV3-${RUN}","Cedar bench, long ${RUN}",120.00,USD,2,desks-${RUN},Nordwood`,
  ].join('\n');
  await page.getByLabel('CSV file').setInputFiles({ name: 'products.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.getByText('2 created, 1 refused.').waitFor({ timeout: 30000 });
  const refused = page.getByRole('table', { name: 'Refused rows' });
  assert.match(await refused.innerText(), new RegExp(`3\\s+E2E-CSV2-${RUN}\\s+.*price`, 's'));
  await shot(page, '21-admin-csv-import');

  const stool = page.getByRole('row').filter({ hasText: `Pine stool ${RUN}` });
  await stool.waitFor({ timeout: 20000 });
  await stool.getByLabel(/Units to add to/).fill('5');
  await stool.getByLabel(/Reason for the stock change/).fill('delivery');
  await stool.getByRole('button', { name: 'Adjust' }).click();
  await stool.getByRole('cell', { name: '17', exact: true }).waitFor({ timeout: 20000 });
  await stool.getByRole('button', { name: `Archive Pine stool ${RUN}` }).click();
  // Archived, it leaves the active list and shows among the archived.
  await stool.waitFor({ state: 'detached', timeout: 20000 });
  await page.getByLabel('Show products').selectOption('archived');
  await stool.getByRole('cell', { name: 'archived' }).waitFor({ timeout: 20000 });
  await done(page);
});

test('an admin ships and refunds an order from its detail page, manages users, synonyms and categories, and reads the audit log', async () => {
  const page = await newPage();
  await signInAdmin(page);
  await section(page, 'Orders').click();
  await page.getByRole('button', { name: `Order ${order.id}` }).click();
  await page.getByTestId('admin-order-status').getByText('confirmed').waitFor({ timeout: 20000 });
  await page.getByRole('button', { name: 'Mark shipped' }).click();
  await page.getByTestId('admin-order-status').getByText('shipped').waitFor({ timeout: 30000 });
  await page.getByRole('list', { name: 'Status history' }).getByText(/confirmed → shipped/).waitFor({ timeout: 20000 });
  await page.getByRole('form', { name: 'Refund' }).waitFor({ timeout: 30000 });
  await page.getByRole('button', { name: 'Refund', exact: true }).click();
  await page.getByRole('status').getByText(/Refunded USD/).waitFor({ timeout: 30000 });
  await page.getByTestId('admin-order-status').getByText('refunded').waitFor({ timeout: 30000 });
  await shot(page, '22-admin-order');

  await section(page, 'Users').click();
  await page.getByLabel('Find a user').fill(buyer.email);
  const row = page.getByRole('row').filter({ hasText: buyer.email });
  await row.getByRole('button', { name: `Suspend ${buyer.email}` }).click();
  await row.getByRole('button', { name: `Reactivate ${buyer.email}` }).waitFor({ timeout: 20000 });
  const login = await call(`${API}/auth/login`, { method: 'POST', body: { email: buyer.email, password: buyer.password } });
  assert.notEqual(login.status, 200, 'a suspended user cannot sign in');

  await section(page, 'Search synonyms').click();
  const box = page.getByLabel('Synonym groups');
  await box.waitFor();
  await page.waitForFunction(() => document.querySelector('textarea')?.value !== undefined);
  const before = await box.inputValue();
  await box.fill(`${before.trim()}\ndesk${RUN.replace(/[^a-z]/g, '')}x, bureau${RUN.replace(/[^a-z]/g, '')}x`.trim());
  await page.getByRole('button', { name: 'Save synonyms' }).click();
  await page.getByRole('status').getByText('Saved.').waitFor({ timeout: 20000 });

  await section(page, 'Categories').click();
  const cat = page.getByRole('form', { name: 'New category' });
  await cat.getByLabel('Name').fill(`Chairs ${RUN}`);
  await cat.getByRole('button', { name: 'Create category' }).click();
  await page.getByRole('status').getByText(`Created Chairs ${RUN}.`).waitFor({ timeout: 20000 });

  await section(page, 'Audit log').click();
  await page.getByLabel('Target').fill(order.id);
  await page.getByRole('cell', { name: 'order.refund' }).waitFor({ timeout: 30000 });
  await shot(page, '23-admin-audit');
  await done(page);
});
