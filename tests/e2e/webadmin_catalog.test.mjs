// webadmin_catalog.test.mjs - the admin's catalog screens in Debian's
// Chromium: the category tree (rename, move, delete; a category with
// products or subcategories is refused and the refusal shown), a product's
// images, options and variants (a variant added and restocked in the admin
// is on the storefront's product page and goes into the cart), and the
// signed-in e-mail shown in full in the header. Exchanges are checked
// against the API documents (browser.mjs).
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { API, BASE, adminToken, call, newCategory } from '../system/lib.mjs';
import {
  adminSection as section, assertAccessible, bearer, close, done, launch, leftovers, newPage, reloadUntil, shot, signInAdmin,
} from './browser.mjs';

const RUN = randomUUID().slice(0, 8);
let admin;

before(async () => {
  await launch();
  admin = await adminToken();
});

afterEach((t) => leftovers(String(t?.name ?? 'journey').replace(/\W+/g, '-').slice(0, 40)));
after(close);

const treeNode = async (id) => {
  const r = await call(`${API}/categories`, { headers: bearer(admin) });
  assert.equal(r.status, 200, r.text);
  const walk = (nodes) => nodes.flatMap((n) => [n, ...walk(n.children)]);
  return walk(r.body.items).find((c) => c.id === id) ?? null;
};

test('an admin renames, moves and deletes categories; a category in use is refused with the reason shown', async () => {
  const root = await newCategory(admin, `Lighting ${RUN}`, `lighting-${RUN}`);
  const lamps = await newCategory(admin, `Lamps ${RUN}`, `lamps-${RUN}`, root);
  const p = await call(`${API}/products`, {
    method: 'POST', headers: bearer(admin),
    body: { sku: `E2E-CAT-${RUN}`, name: `Brass lamp ${RUN}`, category_id: lamps, price: '30.00', stock: 2, status: 'active' },
  });
  assert.equal(p.status, 201, p.text);

  const page = await newPage();
  await signInAdmin(page);
  // The header shows the signed-in e-mail in full (not cut), with a title.
  const email = page.locator('header .email');
  await page.waitForFunction((e) => document.querySelector('header .email')?.textContent?.includes(e), process.env.SHOPSPHERE_ADMIN_EMAIL, { timeout: 20000 });
  assert.equal(await email.getAttribute('title'), `Signed in as ${process.env.SHOPSPHERE_ADMIN_EMAIL}`);
  assert.ok(await email.evaluate((el) => el.scrollWidth <= el.clientWidth + 1), 'the e-mail is not cut');

  await section(page, 'Categories').click();
  const tree = page.getByRole('list', { name: 'Category tree' });
  await tree.getByRole('listitem', { name: `Lamps ${RUN}`, exact: true }).waitFor({ timeout: 20000 });

  // Rename.
  await page.getByRole('button', { name: `Rename or move Lamps ${RUN}` }).click();
  await page.getByLabel(`New name of Lamps ${RUN}`).fill(`Table lamps ${RUN}`);
  await page.getByRole('button', { name: `Save Lamps ${RUN}` }).click();
  await tree.getByRole('listitem', { name: `Table lamps ${RUN}`, exact: true }).waitFor({ timeout: 20000 });
  assert.equal((await treeNode(lamps)).name, `Table lamps ${RUN}`);

  // Deleting a category with a subcategory, or with products, is refused.
  await page.getByRole('button', { name: `Delete Lighting ${RUN}`, exact: true }).click();
  await tree.getByRole('listitem', { name: `Lighting ${RUN}`, exact: true }).getByRole('alert').first()
    .getByText(/has 1 subcategories/).waitFor({ timeout: 20000 });
  await page.getByRole('button', { name: `Delete Table lamps ${RUN}`, exact: true }).click();
  await tree.getByRole('listitem', { name: `Table lamps ${RUN}`, exact: true }).getByRole('alert')
    .getByText(/has 1 products/).waitFor({ timeout: 20000 });
  await shot(page, '40-admin-category-refused');

  // A new top-level category, moved under Lighting, then deleted.
  const form = page.getByRole('form', { name: 'New category' });
  await form.getByLabel('Name').fill(`Spare ${RUN}`);
  await form.getByRole('button', { name: 'Create category' }).click();
  await tree.getByRole('listitem', { name: `Spare ${RUN}`, exact: true }).waitFor({ timeout: 20000 });
  await page.getByRole('button', { name: `Rename or move Spare ${RUN}` }).click();
  await page.getByLabel(`Parent of Spare ${RUN}`).selectOption({ label: `lighting-${RUN}` });
  await page.getByRole('button', { name: `Save Spare ${RUN}` }).click();
  const spare = tree.getByRole('listitem', { name: `Lighting ${RUN}`, exact: true }).getByRole('listitem', { name: `Spare ${RUN}`, exact: true });
  await spare.getByText(`/lighting-${RUN}/spare-${RUN}`).waitFor({ timeout: 20000 });
  await assertAccessible(page, 'admin categories');
  await shot(page, '41-admin-categories');
  await page.getByRole('button', { name: `Delete Spare ${RUN}`, exact: true }).click();
  await tree.getByRole('listitem', { name: `Spare ${RUN}`, exact: true }).waitFor({ state: 'detached', timeout: 20000 });
  assert.ok(await treeNode(root), 'the category in use stays');
  await done(page);
});

test('an admin gives a product options, images and a variant, restocks it, and the storefront sells that variant', async () => {
  const category = await newCategory(admin, `Shirts ${RUN}`, `shirts-${RUN}`);
  const p = await call(`${API}/products`, {
    method: 'POST', headers: bearer(admin),
    body: { sku: `E2E-SHIRT-${RUN}`, name: `Linen shirt ${RUN}`, category_id: category, price: '29.00', stock: 0, status: 'active' },
  });
  assert.equal(p.status, 201, p.text);
  const product = p.body;

  const page = await newPage();
  await signInAdmin(page);
  await section(page, 'Products').click();
  await page.getByLabel('Find a product').fill(RUN);
  await page.getByRole('button', { name: `Images, options and variants of Linen shirt ${RUN}` }).click();
  const editor = page.getByRole('region', { name: `Images, options and variants of Linen shirt ${RUN}` });
  await editor.getByLabel('Options, one per line (name: value, value)').fill('size: S, M');
  await editor.getByRole('button', { name: 'Save options' }).click();
  await editor.getByRole('form', { name: `New variant of Linen shirt ${RUN}` }).waitFor({ timeout: 20000 });
  await editor.getByLabel('Image URLs, one per line').fill(`/api/v1/products/${product.id}/image.svg`);
  await editor.getByRole('button', { name: 'Save images' }).click();
  await editor.getByRole('img', { name: `Image of Linen shirt ${RUN}` }).waitFor({ timeout: 20000 });

  const add = editor.getByRole('form', { name: `New variant of Linen shirt ${RUN}` });
  await add.getByLabel('Variant SKU').fill(`E2E-SHIRT-${RUN}-M`);
  await add.getByLabel('Variant size').selectOption('M');
  await add.getByLabel("Variant price (empty: the product's)").fill('31.50');
  await add.getByLabel('Variant stock').fill('4');
  await add.getByRole('button', { name: 'Add variant' }).click();
  const variants = editor.getByRole('table', { name: `Variants of Linen shirt ${RUN}` });
  await variants.getByRole('cell', { name: `E2E-SHIRT-${RUN}-M`, exact: true }).waitFor({ timeout: 20000 });
  // Restock the variant through an inventory adjustment.
  await editor.getByLabel(`Units to add to variant E2E-SHIRT-${RUN}-M (negative removes)`).fill('3');
  await variants.getByRole('button', { name: 'Adjust' }).click();
  await variants.getByRole('cell', { name: '7', exact: true }).waitFor({ timeout: 20000 });
  await shot(page, '42-admin-variants');

  const stored = await call(`${API}/products/${product.id}`, { headers: bearer(admin) });
  assert.equal(stored.status, 200, stored.text);
  assert.deepEqual(stored.body.options, [{ name: 'size', values: ['S', 'M'] }]);
  assert.deepEqual(stored.body.images, [`/api/v1/products/${product.id}/image.svg`]);
  const variant = stored.body.variants.find((v) => v.sku === `E2E-SHIRT-${RUN}-M`);
  assert.ok(variant, 'the variant is stored');
  assert.equal(variant.price, '31.50');
  assert.equal(variant.stock, 7);
  assert.deepEqual(variant.options, { size: 'M' });

  // The storefront's product page shows the variant, prices it and sells it.
  const shop = await newPage();
  await reloadUntil(shop, `${BASE}/products/${product.id}`,
    () => shop.getByRole('table', { name: 'Variants' }).getByRole('cell', { name: 'USD 31.50' }), 60000);
  await shop.getByLabel('Size').selectOption('M');
  await shop.getByLabel('Price').getByText('USD 31.50').waitFor({ timeout: 20000 });
  await shop.getByTestId('variant-sku').getByText(`SKU E2E-SHIRT-${RUN}-M`).waitFor();
  await shop.getByText('In stock', { exact: true }).first().waitFor();
  await shop.getByRole('button', { name: 'Add to cart' }).click();
  await shop.getByRole('status').getByText('Added.').waitFor({ timeout: 20000 });
  await shop.getByRole('link', { name: 'View cart' }).click();
  await shop.getByRole('region', { name: 'Cart' }).getByText(`E2E-SHIRT-${RUN}-M`).waitFor({ timeout: 20000 });
  // S has no variant: the page says so and offers nothing to buy.
  await shop.goBack();
  await shop.getByLabel('Size').selectOption('S');
  await shop.getByText('This combination is not sold.').waitFor({ timeout: 20000 });
  assert.equal(await shop.getByRole('button', { name: 'Add to cart' }).isDisabled(), true);
  await assertAccessible(shop, 'product with variants');
  await shot(shop, '43-storefront-variant');
  await done(shop);
  await done(page);
});
