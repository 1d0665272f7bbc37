// webadmin_account.test.mjs - the storefront account's notification
// preferences (which messages by e-mail, SMS and push) saved and read back,
// and the search box that shows the query only on the search pages (the
// orders page does not keep the last one). In Debian's Chromium; exchanges
// checked against the API documents (browser.mjs).
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { API, BASE, call } from '../system/lib.mjs';
import { assertAccessible, bearer, close, done, launch, leftovers, newPage, registerUser, shot, signInAt } from './browser.mjs';

const RUN = randomUUID().slice(0, 8);

before(launch);
afterEach((t) => leftovers(String(t?.name ?? 'journey').replace(/\W+/g, '-').slice(0, 40)));
after(close);

test('a customer chooses which notifications reach them by which channel, and the choice is kept', async () => {
  const user = await registerUser(`prefs-${RUN}@example.com`, `Prefs-${RUN}-pass!`, 'Pia');
  const page = await newPage();
  await signInAt(page, BASE, user.email, user.password);
  await page.getByRole('link', { name: 'Account', exact: true }).click();
  const form = page.getByRole('form', { name: 'Notification preferences' });
  // The defaults: everything on but offers.
  await form.getByLabel('Order updates by e-mail').waitFor({ timeout: 20000 });
  assert.equal(await form.getByLabel('Order updates by e-mail').isChecked(), true);
  assert.equal(await form.getByLabel('Offers and news by e-mail').isChecked(), false);

  await form.getByLabel('Order updates by SMS').uncheck();
  await form.getByLabel('Order updates by push').uncheck();
  await form.getByLabel('Offers and news by e-mail').check();
  await form.getByRole('button', { name: 'Save notification preferences' }).click();
  await form.getByRole('status').getByText('Notification preferences saved.').waitFor({ timeout: 20000 });
  await assertAccessible(page, 'account');
  await shot(page, '44-notification-preferences');

  const stored = await call(`${API}/users/me/notification-preferences`, { headers: bearer(user.token) });
  assert.equal(stored.status, 200, stored.text);
  assert.deepEqual(stored.body, {
    email: { marketing: true, order_updates: true },
    sms: { marketing: false, order_updates: false },
    push: { marketing: false, order_updates: false },
  });

  // A reload reads them back.
  await page.reload();
  await form.getByLabel('Order updates by SMS').waitFor({ timeout: 20000 });
  assert.equal(await form.getByLabel('Order updates by SMS').isChecked(), false);
  assert.equal(await form.getByLabel('Offers and news by e-mail').isChecked(), true);
  assert.equal(await form.getByLabel('Order updates by e-mail').isChecked(), true);
  await done(page);
});

test('the search box shows the query on the search page and is empty on the orders page', async () => {
  const user = await registerUser(`searcher-${RUN}@example.com`, `Search-${RUN}-pass!`, 'Sam');
  const page = await newPage();
  await signInAt(page, BASE, user.email, user.password);
  const box = page.getByRole('searchbox', { name: 'Search' });
  await box.fill(`lantern${RUN.replace(/[^a-z]/g, '')}`);
  await box.press('Enter');
  await page.waitForURL((u) => u.pathname === '/search', { timeout: 20000 });
  assert.equal(await box.inputValue(), `lantern${RUN.replace(/[^a-z]/g, '')}`);
  await page.getByRole('link', { name: 'Orders', exact: true }).click();
  await page.waitForURL((u) => u.pathname === '/orders', { timeout: 20000 });
  await page.waitForFunction(() => document.querySelector('input[type=search]')?.value === '', null, { timeout: 20000 });
  // Back on the search page, its query shows again.
  await page.goBack();
  await page.waitForURL((u) => u.pathname === '/search', { timeout: 20000 });
  await page.waitForFunction((q) => document.querySelector('input[type=search]')?.value === q, `lantern${RUN.replace(/[^a-z]/g, '')}`, { timeout: 20000 });
  await done(page);
});
