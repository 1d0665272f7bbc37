// promotions.test.mjs - the admin's promotions screen (/admin/, section
// Promotions) in Debian's Chromium: a percentage code with limits and dates,
// an automatic buy X get Y for one category, a fixed amount and free
// shipping are created from the form and listed; a refusal names its field;
// a shopper's cart takes the code with its description; deactivating ends
// it (the API no longer knows it, the cart refuses it). Exchanges are
// checked against the API documents (browser.mjs).
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { API, BASE, adminToken, call, eventually, newCategory } from '../system/lib.mjs';
import {
  assertAccessible, bearer, close, done, launch, leftovers, newPage, registerUser, shot, signInAdmin,
} from './browser.mjs';

const RUN = randomUUID().slice(0, 6).toUpperCase();
let admin;
let category;
let product;

before(async () => {
  await launch();
  admin = await adminToken();
  category = await newCategory(admin, `Lamps ${RUN}`, `lamps-${RUN.toLowerCase()}`);
  const p = await call(`${API}/products`, {
    method: 'POST', headers: bearer(admin),
    body: { sku: `E2E-PROMO-${RUN}`, name: `Brass lamp ${RUN}`, category_id: category, price: '40.00', currency: 'USD', stock: 30, status: 'active' },
  });
  assert.equal(p.status, 201, p.text);
  product = p.body;
});

afterEach((t) => leftovers(String(t?.name ?? 'promotions').replace(/\W+/g, '-').slice(0, 40)));
after(close);

async function promotions() {
  const r = await call(`${API}/admin/promotions?limit=100`, { headers: bearer(admin) });
  assert.equal(r.status, 200, r.text);
  return r.body.items;
}

test('an admin creates codes and automatic promotions, a shopper uses one, and the admin deactivates it', async () => {
  const page = await newPage({ width: 1280 });
  await signInAdmin(page, BASE);
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('button', { name: 'Promotions', exact: true }).click();
  const form = page.getByRole('form', { name: 'New promotion' });
  await form.waitFor({ timeout: 20000 });
  const created = async (text) => page.getByRole('status').getByText(text).waitFor({ timeout: 20000 });

  // A percentage code with limits and a window.
  const code = `LAMP-${RUN}`;
  await form.getByLabel('Kind').selectOption('percentage');
  await form.getByLabel('Code', { exact: true }).fill(code.toLowerCase());
  await form.getByLabel('Description', { exact: true }).fill('Lamp week: 15 % off');
  await form.getByLabel('Percent off', { exact: true }).fill('15');
  await form.getByLabel('Uses in total', { exact: true }).fill('10');
  await form.getByLabel('Uses per customer', { exact: true }).fill('1');
  await form.getByLabel('Starts', { exact: true }).fill('2020-01-01T09:00');
  await form.getByLabel('Ends', { exact: true }).fill('2099-12-31T18:00');
  await form.getByRole('button', { name: 'Create promotion' }).click();
  await created(`Created ${code}.`);

  // A refusal names the field: a percentage above 100.
  await form.getByLabel('Code', { exact: true }).fill(`BAD-${RUN}`);
  await form.getByLabel('Percent off', { exact: true }).fill('150');
  await form.getByRole('button', { name: 'Create promotion' }).click();
  await form.locator('input[name="value"][aria-invalid="true"]').waitFor({ timeout: 20000 });
  await form.locator('.field-error').waitFor({ timeout: 20000 });

  // An automatic buy 2 get 1 for the category.
  await form.getByLabel('Kind').selectOption('buy_x_get_y');
  await form.getByLabel(/Automatic/).check();
  await form.getByLabel('Description', { exact: true }).fill(`Lamps ${RUN}: buy 2 get 1`);
  await form.getByLabel('Buy (X)', { exact: true }).fill('2');
  await form.getByLabel('Get free (Y)', { exact: true }).fill('1');
  await form.getByLabel('Only for category').selectOption({ label: `lamps-${RUN.toLowerCase()}` });
  await form.getByRole('button', { name: 'Create promotion' }).click();
  await created('Created an automatic promotion.');

  // A fixed amount from a minimum subtotal, and free shipping that stacks.
  await form.getByLabel('Kind').selectOption('fixed');
  await form.getByLabel('Code', { exact: true }).fill(`FIVE-${RUN}`);
  await form.getByLabel('Amount off', { exact: true }).fill('5.00');
  await form.getByLabel('Currency', { exact: true }).fill('USD');
  await form.getByLabel('Minimum subtotal', { exact: true }).fill('50.00');
  await form.getByRole('button', { name: 'Create promotion' }).click();
  await created(`Created FIVE-${RUN}.`);
  await form.getByLabel('Kind').selectOption('free_shipping');
  await form.getByLabel('Code', { exact: true }).fill(`SHIP-${RUN}`);
  await form.getByLabel(/Combines with other codes/).check();
  await form.getByRole('button', { name: 'Create promotion' }).click();
  await created(`Created SHIP-${RUN}.`);

  // The list shows them, as the API has them.
  const table = page.getByRole('table', { name: 'Promotions list' });
  const row = table.getByRole('row').filter({ hasText: code });
  const cell = (r, name) => r.getByRole('cell', { name, exact: true }).waitFor({ timeout: 20000 });
  await cell(row, '15 % off');
  await cell(row, '0 of 10 (1 per customer)');
  await cell(table.getByRole('row').filter({ hasText: `Lamps ${RUN}: buy 2 get 1` }), 'Buy 2 get 1 free');
  await cell(table.getByRole('row').filter({ hasText: `FIVE-${RUN}` }), 'USD 5.00 off from USD 50.00');
  await cell(table.getByRole('row').filter({ hasText: `SHIP-${RUN}` }), 'Free shipping · stackable');
  const mine = (await promotions()).filter((p) => [code, `FIVE-${RUN}`, `SHIP-${RUN}`].includes(p.code)
    || p.description === `Lamps ${RUN}: buy 2 get 1`);
  assert.equal(mine.length, 4);
  const pct = mine.find((p) => p.code === code);
  assert.deepEqual([pct.type, pct.value, pct.usage_limit, pct.per_customer_limit, pct.status, pct.description],
    ['percentage', '15', 10, 1, 'active', 'Lamp week: 15 % off']);
  assert.equal(new Date(pct.starts_at).getTime(), new Date(2020, 0, 1, 9, 0).getTime(), 'the start as typed, in the browser\'s zone');
  const auto = mine.find((p) => p.code === null);
  assert.deepEqual([auto.type, auto.buy_quantity, auto.get_quantity, auto.applies_to.category_ids], ['buy_x_get_y', 2, 1, [category]]);
  assert.equal(mine.find((p) => p.code === `FIVE-${RUN}`).min_subtotal, '50.00');
  assert.equal(mine.find((p) => p.code === `SHIP-${RUN}`).stackable, true);
  await assertAccessible(page, 'admin promotions');
  await shot(page, '25-admin-promotions');

  // A shopper's cart takes the code and shows its description.
  const shopper = await registerUser(`promo-${RUN.toLowerCase()}@example.com`, `Promo-${RUN}-pass!`, 'Pia');
  const cart = await call(`${API}/carts`, { method: 'POST', headers: bearer(shopper.token), body: {} });
  assert.equal(cart.status, 201, cart.text);
  const add = await call(`${API}/carts/${cart.body.id}/items`, {
    method: 'POST', headers: bearer(shopper.token), body: { product_id: product.id, quantity: 1 },
  });
  assert.equal(add.status, 201, add.text);
  const applied = await call(`${API}/carts/${cart.body.id}/discount-codes`, {
    method: 'POST', headers: bearer(shopper.token), body: { code },
  });
  assert.equal(applied.status, 200, applied.text);
  assert.deepEqual(applied.body.discounts.map((d) => [d.code, d.description, d.amount]), [[code, 'Lamp week: 15 % off', '6.00']]);

  // Deactivated from the list: gone from it and from the API; the cart no
  // longer takes it.
  await row.getByRole('button', { name: `Deactivate ${code}` }).click();
  await row.waitFor({ state: 'detached', timeout: 20000 });
  await eventually(async () => !(await promotions()).some((p) => p.code === code), 20000, 300);
  const again = await call(`${API}/carts/${cart.body.id}`, { headers: bearer(shopper.token) });
  assert.equal(again.status, 200, again.text);
  assert.equal(again.body.discount_total, '0.00');
  for (const p of mine.filter((x) => x.code !== code)) {
    const del = await call(`${API}/admin/promotions/${p.id}`, { method: 'DELETE', headers: bearer(admin) });
    assert.equal(del.status, 204, del.text);
  }
  await done(page);
});
