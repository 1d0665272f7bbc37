// storefront.test.mjs - a shopper's journeys through the storefront in
// Debian's Chromium (Playwright, no browser download), against the platform
// `make test` runs: a guest who searches with a typo, filters by a facet,
// buys with tok_visa after creating an account and watches the order reach
// delivered (the sandbox courier driven from the test, as the shipping
// system tests do); a declined card; a buyer's review approved by a
// moderator; the password reset through the sandbox inbox; the account
// page; a phone-sized screen. Every exchange is checked against the API
// documents (browser.mjs), screenshots go to var/<profile>/e2e/, axe-core
// must find no serious or critical violation on the pages a shopper uses.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { API, BASE, adminToken, call, eventually, newCategory, serviceUrl } from '../system/lib.mjs';
import {
  assertAccessible, bearer, leftovers, buy, close, done, launch, newPage, registerUser, reloadUntil, shot, signInAt,
} from './browser.mjs';

const RUN = randomUUID().slice(0, 8);
const SEARCH = process.env.SHOPSPHERE_E2E_SEARCH !== '0';
const MAIL = serviceUrl('sandbox-mail');
const COURIER = serviceUrl('sandbox-courier');

let admin;
let category;
let product;

async function newProduct(name, extra = {}) {
  const p = await call(`${API}/products`, {
    method: 'POST', headers: bearer(admin),
    body: {
      sku: `E2E-${randomUUID().slice(0, 12)}`, name, description: 'A warm lantern for the garden.', category_id: category,
      price: '24.00', currency: 'USD', stock: 20, status: 'active', attributes: { brand: 'Lumen', color: 'amber' }, ...extra,
    },
  });
  assert.equal(p.status, 201, p.text);
  return p.body;
}

before(async () => {
  await launch();
  admin = await adminToken();
  category = await newCategory(admin, `Lamps ${RUN}`);
  product = await newProduct(`Moonlight lantern ${RUN}`);
});

afterEach((t) => leftovers(String(t?.name ?? 'journey').replace(/\W+/g, '-').slice(0, 40)));
after(close);

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

test('a guest finds a product with a typo, buys it with tok_visa and watches it reach delivered', async () => {
  const page = await newPage();
  await page.goto(`${BASE}/`);
  await assertAccessible(page, 'home');
  await shot(page, '01-home');
  if (SEARCH) {
    // A typo (one letter missing), then the brand facet.
    await page.getByRole('searchbox', { name: 'Search' }).fill(`moonlght lantern ${RUN}`);
    await page.getByRole('searchbox', { name: 'Search' }).press('Enter');
    await page.getByRole('link', { name: new RegExp(`Moonlight lantern ${RUN}`) }).first().waitFor({ timeout: 20000 });
    // The correction is said once, with what the shopper typed.
    const note = page.getByText(/Showing results for/);
    await note.waitFor();
    assert.equal(await note.count(), 1);
    assert.match(await note.innerText(), /moonlight lantern/i);
    assert.doesNotMatch(await page.locator('main').innerText(), /Did you mean/);
    await page.getByRole('checkbox', { name: /Lumen/ }).check();
    await page.waitForURL(/brand=Lumen/);
    await page.getByRole('link', { name: new RegExp(`Moonlight lantern ${RUN}`) }).first().waitFor({ timeout: 20000 });
    // A facet without values is not shown (no product here has a size).
    assert.equal(await page.getByRole('group', { name: 'Size' }).count(), 0);
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
  const password = `Lantern-${RUN}-pass!`;
  await register(page, email, password);
  await page.getByRole('heading', { name: 'Checkout' }).waitFor();
  await fillAddress(page);
  await page.getByRole('radio', { name: /standard/ }).check({ timeout: 20000 });
  await assertAccessible(page, 'checkout');
  await shot(page, '04-checkout');
  // A double click still makes one order (one Idempotency-Key per attempt).
  await page.getByRole('button', { name: 'Place order' }).dblclick();
  await page.getByRole('status').getByText(/Thank you! Your order is confirmed/).waitFor({ timeout: 45000 });
  const orderId = /\/orders\/([0-9a-f-]{36})/.exec(page.url())[1];
  await shot(page, '05-confirmed');
  // The live stream brings the "order confirmed" notification to the badge.
  await page.getByRole('link', { name: /Notifications, \d+ unread/ }).waitFor({ timeout: 60000 });
  await page.getByRole('link', { name: /^Orders/ }).click();
  const rows = page.getByRole('region', { name: 'Order history' }).getByRole('row');
  await rows.first().waitFor();
  assert.equal(await rows.count(), 1, 'one order for the double click');
  await shot(page, '06-history');

  // The shop ships it; the sandbox courier is sped up for this parcel (as
  // tests/system/shipping.test.mjs does); the order's page follows it.
  await rows.first().getByRole('link').click();
  await page.getByTestId('order-status').waitFor();
  const shipped = await call(`${API}/orders/${orderId}/status`, { method: 'PATCH', headers: bearer(admin), body: { status: 'shipped' } });
  assert.equal(shipped.status, 200, shipped.text);
  const shipment = await eventually(async () => {
    const r = await call(`${API}/shipments?order_id=${orderId}`, { headers: bearer(admin) });
    return r.status === 200 && r.body.items[0]?.tracking_number ? r.body.items[0] : null;
  }, 60000, 500);
  const speed = await call(`${COURIER}/v1/shipments/${shipment.tracking_number}/speed`, { method: 'POST', body: { step_ms: 300 } });
  assert.equal(speed.status, 200, speed.text);
  await page.getByTestId('order-status').getByText('delivered').waitFor({ timeout: 120000 });
  await page.getByRole('region', { name: /^Shipment/ }).getByText(/delivered/).first().waitFor({ timeout: 30000 });
  await shot(page, '07-delivered');
  await done(page);
});

test('a declined card shows the decline and keeps the cart', async () => {
  const page = await newPage();
  await page.goto(`${BASE}/register?next=/products/${product.id}`);
  await register(page, `declined-${RUN}@example.com`, `Lantern-${RUN}-pass!`);
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await page.getByRole('status').getByText('Added').waitFor();
  await page.goto(`${BASE}/checkout`);
  await fillAddress(page);
  await page.getByRole('radio', { name: /standard/ }).check({ timeout: 20000 });
  await page.getByLabel('Card').selectOption('tok_chargeDeclined');
  await page.getByRole('button', { name: 'Place order' }).click();
  await page.getByRole('alert').getByText('Your card was declined.').waitFor({ timeout: 45000 });
  await shot(page, '08-declined');
  await page.goto(`${BASE}/cart`);
  await page.getByRole('cell', { name: `Moonlight lantern ${RUN}` }).waitFor();
  await done(page);
});

test('a buyer reviews the product, a moderator approves it and it appears on the product page', async () => {
  const lamp = await newProduct(`Reading lamp ${RUN}`);
  const buyer = await registerUser(`reviewer-${RUN}@example.com`, `Reading-${RUN}-pass!`, 'Rita');
  await buy(buyer, lamp.id);
  const page = await newPage();
  await signInAt(page, BASE, buyer.email, buyer.password);
  await page.goto(`${BASE}/products/${lamp.id}`);
  const form = page.getByRole('form', { name: 'Write a review' });
  await form.waitFor({ timeout: 20000 });
  await form.getByLabel('Rating').selectOption('4');
  await form.getByLabel('Title').fill(`Bright and steady ${RUN}`);
  await form.getByLabel('Review').fill('Reads well at night; the switch is a little stiff.');
  await form.getByRole('button', { name: 'Submit review' }).click();
  await page.getByRole('status').getByText(/once a moderator approves it/).waitFor({ timeout: 20000 });
  await shot(page, '09-review-written');
  await done(page);

  // A moderator of our own: the admin grants the role.
  const mod = await registerUser(`moderator-${RUN}@example.com`, `Moderate-${RUN}-pass!`, 'Mo');
  const grant = await call(`${API}/admin/users/${mod.id}`, { method: 'PATCH', headers: bearer(admin), body: { role: 'moderator' } });
  assert.equal(grant.status, 200, grant.text);
  const desk = await newPage();
  await desk.goto(`${BASE}/admin/`);
  await desk.getByLabel('Email').fill(mod.email);
  await desk.getByLabel('Password').fill(mod.password);
  await desk.getByRole('button', { name: 'Sign in' }).click();
  const review = desk.getByRole('article', { name: `Review Bright and steady ${RUN}` });
  await review.waitFor({ timeout: 30000 });
  // Moderators see the moderation queue and nothing else.
  const sections = desk.getByRole('navigation', { name: 'Sections' }).getByRole('button');
  assert.deepEqual(await sections.allInnerTexts(), ['Reviews']);
  await shot(desk, '10-moderation');
  await review.getByRole('button', { name: 'Approve' }).click();
  await review.waitFor({ state: 'detached', timeout: 20000 });
  await done(desk);

  const shop = await newPage();
  await reloadUntil(shop, `${BASE}/products/${lamp.id}`, () => shop.getByText(`Bright and steady ${RUN}`), 60000);
  await shop.getByText('Rated 4.0 out of 5').or(shop.getByLabel(/Rated 4(\.0+)? out of 5 by 1/)).first().waitFor({ timeout: 20000 });
  await shot(shop, '11-review-published');
  await done(shop);
});

test('a forgotten password is reset through the link in the sandbox inbox', async () => {
  const user = await registerUser(`forgetful-${RUN}@example.com`, `Forgotten-${RUN}-pass!`, 'Fern');
  const page = await newPage();
  await page.goto(`${BASE}/signin`);
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await page.getByLabel('Email').fill(user.email);
  await page.getByRole('button', { name: 'Send the reset link' }).click();
  await page.getByRole('status').getByText(/a reset link is on its way/).waitFor({ timeout: 20000 });
  await shot(page, '12-reset-asked');

  // The sandbox inbox (its API, then its page as a person reads it).
  const mail = await eventually(async () => {
    const r = await call(`${MAIL}/messages?to=${encodeURIComponent(user.email)}`);
    return r.status === 200 ? r.body.items.find((m) => m.subject === 'Reset your ShopSphere password') : null;
  }, 60000, 500);
  const link = /Or open: (\S+)/.exec(mail.text)?.[1];
  assert.ok(link, `a reset link in the mail: ${mail.text}`);
  assert.match(link, /\/reset-password\?token=/);
  await page.goto(`${MAIL}/`);
  await page.getByText('Reset your ShopSphere password').first().waitFor({ timeout: 20000 });
  await shot(page, '13-sandbox-inbox');

  await page.goto(link);
  await page.getByLabel('New password', { exact: true }).fill(`Remembered-${RUN}-pass!`);
  await page.getByRole('button', { name: 'Change password' }).click();
  await page.getByRole('status').getByText('Your password is changed.').waitFor({ timeout: 20000 });
  await shot(page, '14-reset-done');
  const base = new URL(link).origin;
  await signInAt(page, base, user.email, `Remembered-${RUN}-pass!`);
  // The old password no longer works.
  const old = await call(`${API}/auth/login`, { method: 'POST', body: { email: user.email, password: user.password } });
  assert.equal(old.status, 401);
  await done(page);
});

test('the account page keeps the profile and addresses, cancels an order and signs out', async () => {
  const lamp = await newProduct(`Desk lamp ${RUN}`);
  const user = await registerUser(`account-${RUN}@example.com`, `Account-${RUN}-pass!`, 'Alma');
  const order = await buy(user, lamp.id);
  const page = await newPage();
  await signInAt(page, BASE, user.email, user.password);
  await page.getByRole('link', { name: 'Account', exact: true }).click();
  const profile = page.getByRole('form', { name: 'Profile' });
  await profile.getByLabel('Phone').fill('+15550100');
  await profile.getByLabel('First name').fill('Almira');
  await profile.getByRole('button', { name: 'Save profile' }).click();
  await page.getByRole('status').getByText('Profile saved.').waitFor({ timeout: 20000 });
  const book = page.getByRole('form', { name: 'New address' });
  await book.getByLabel('Address line 1 *').fill('7 Orchard Row');
  await book.getByLabel('City *').fill('Portland');
  await book.getByLabel('Postal code *').fill('97201');
  await book.getByLabel('Country *').fill('US');
  await book.getByRole('button', { name: 'Save address' }).click();
  await page.getByRole('button', { name: 'Remove the address 7 Orchard Row' }).waitFor({ timeout: 20000 });
  // A field the API refuses is shown at the field.
  await book.getByLabel('Address line 1 *').fill('8 Orchard Row');
  await book.getByLabel('City *').fill('Portland');
  await book.getByLabel('Postal code *').fill('97201');
  await book.getByLabel('Country *').fill('USA');
  await book.getByRole('button', { name: 'Save address' }).click();
  await book.locator('.field-error, [role=alert]').first().waitFor({ timeout: 20000 });
  await shot(page, '15-account');
  const me = await call(`${API}/users/me`, { headers: bearer(user.token) });
  assert.equal(me.body.first_name, 'Almira');
  assert.equal(me.body.phone, '+15550100');

  await page.goto(`${BASE}/orders/${order.id}`);
  await page.getByRole('button', { name: 'Cancel order' }).click();
  await page.getByRole('button', { name: 'Yes, cancel the order' }).click();
  await page.getByTestId('order-status').getByText('cancelled').waitFor({ timeout: 30000 });
  assert.equal(await page.getByRole('button', { name: 'Cancel order' }).count(), 0);
  await shot(page, '16-cancelled');

  await page.getByRole('link', { name: 'Account', exact: true }).click();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('link', { name: 'Sign in' }).waitFor();
  await done(page);
});

test('category pages and a phone-sized screen', async () => {
  const page = await newPage({ width: 390, height: 844 });
  await page.goto(`${BASE}/categories/${category}`);
  await page.getByRole('heading', { name: `Lamps ${RUN}` }).waitFor({ timeout: 20000 });
  await page.getByRole('link', { name: new RegExp(`Moonlight lantern ${RUN}`) }).waitFor({ timeout: 20000 });
  const fits = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
  assert.ok(await fits(), 'the category page fits a phone');
  await assertAccessible(page, 'category (phone)');
  await shot(page, '17-phone-category');
  await page.goto(`${BASE}/products/${product.id}`);
  await page.getByRole('button', { name: 'Add to cart' }).waitFor();
  assert.ok(await fits(), 'the product page fits a phone');
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await page.getByRole('status').getByText('Added').waitFor();
  await shot(page, '18-phone-product');
  await page.goto(`${BASE}/cart`);
  await page.getByRole('button', { name: 'Checkout' }).waitFor();
  assert.ok(await fits(), 'the cart fits a phone');
  await shot(page, '19-phone-cart');
  await done(page);
});
