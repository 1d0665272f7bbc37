// browser.mjs - what every journey of tests/e2e shares: Debian's Chromium
// through Playwright (no browser download), pages whose every exchange with
// the platform is checked against the API documents by the system tests'
// own validator (tests/system/lib.mjs checkContract: api/openapi.yaml
// through the gateway, api/sandbox-mail.yaml for the sandbox inbox),
// screenshots under var/<profile>/e2e/, and axe-core.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from '../../web/node_modules/playwright-core/index.mjs';
import { API, BASE, ROOT, call, checkContract } from '../system/lib.mjs';

export const SHOTS = join(process.env.SHOPSPHERE_VAR_DIR ?? join(ROOT, 'var/test'), 'e2e');
const AXE = readFileSync(join(ROOT, 'web/node_modules/axe-core/axe.min.js'), 'utf8');

let browser;

export async function launch() {
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.SHOPSPHERE_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  return browser;
}

export async function close() {
  await browser?.close();
}

// Each page's exchanges, checked as they complete. A server-sent event
// stream never completes: its status and headers are checked, and its body
// stands for the opening comment.
const watched = new WeakMap();

function watchContract(page) {
  const state = { pending: new Set(), problems: [] };
  watched.set(page, state);
  page.on('response', (res) => {
    const url = res.url();
    if (!/^https?:\/\/(127\.0\.0\.1|localhost)(:\d+)?\//.test(url)) return;
    const p = (async () => {
      const req = res.request();
      let headers;
      let reqHeaders;
      try {
        headers = await res.allHeaders();
        reqHeaders = await req.allHeaders();
      } catch {
        return; // the page closed meanwhile
      }
      const stream = (headers['content-type'] ?? '').startsWith('text/event-stream');
      let text;
      try {
        text = stream ? ': connected' : await res.text();
      } catch {
        return; // the page went on before the body arrived: nothing to check
      }
      try {
        checkContract(
          { method: req.method(), url, headers: reqHeaders, body: req.postData() ?? undefined },
          { status: res.status(), headers: new Headers(headers), text },
        );
      } catch (e) {
        state.problems.push(e.message);
      }
    })();
    state.pending.add(p);
    void p.finally(() => state.pending.delete(p));
  });
}

/** Fails when any exchange of the page so far differed from the documents. */
export async function assertContract(page) {
  const state = watched.get(page);
  if (!state) return;
  await Promise.allSettled([...state.pending]);
  assert.deepEqual(state.problems, [], 'the web apps\' exchanges differ from the API documents');
}

const open = new Set();

export async function newPage({ width = 1100, height = 900 } = {}) {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  watchContract(page);
  open.add(page);
  page.on('close', () => open.delete(page));
  return page;
}

/** After a journey: the pages it left open (it failed before done())
 *  are photographed as failed-<name>-<n>.png, then closed. */
export async function leftovers(name) {
  let n = 0;
  for (const page of [...open]) {
    await page.screenshot({ path: join(SHOTS, `failed-${name}-${++n}.png`), fullPage: true }).catch(() => undefined);
    await page.context().close().catch(() => undefined);
  }
}

/** Checks the page's exchanges, then closes its context. */
export async function done(page) {
  try {
    await assertContract(page);
  } finally {
    await page.context().close();
  }
}

/** A photo of the page; on a loaded machine a full-page capture may take
 *  long, so it has a generous limit and falls back to the viewport. A photo
 *  is the journey's record, not its assertion: one that cannot be taken is
 *  reported, and the journey goes on. */
export async function shot(page, name) {
  const path = join(SHOTS, `${name}.png`);
  try {
    await page.screenshot({ path, fullPage: true, timeout: 90000 });
  } catch {
    await page.screenshot({ path, timeout: 90000 }).catch((e) => console.warn(`screenshot ${name}: ${e.message}`));
  }
}

export async function assertAccessible(page, name) {
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

/** Reloads `url` until `text` shows (a read model catching up). */
export async function reloadUntil(page, url, locator, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await page.goto(url);
    try {
      await locator().waitFor({ timeout: 3000 });
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
  }
}

// --- API set-up (through the validated call() of the system tests) ---------

export const bearer = (token) => ({ authorization: `Bearer ${token}` });

export async function registerUser(email, password, first = 'Ada') {
  const r = await call(`${API}/users`, {
    method: 'POST',
    body: { email, password, username: email.split('@')[0].replace(/[^A-Za-z0-9_]/g, '_').slice(0, 32), first_name: first, last_name: 'Lovelace' },
  });
  assert.equal(r.status, 201, r.text);
  const login = await call(`${API}/auth/login`, { method: 'POST', body: { email, password } });
  assert.equal(login.status, 200, login.text);
  return { id: r.body.id, email, password, token: login.body.access_token };
}

export const HOME = {
  first_name: 'Grace', last_name: 'Hopper', line1: '1 Harbor Way', city: 'Arlington', state: 'VA', postal_code: '22201', country: 'US',
};

/** A confirmed order of `quantity` × product, paid with tok_visa. */
export async function buy(user, productId, quantity = 1) {
  const cart = await call(`${API}/carts`, { method: 'POST', headers: bearer(user.token), body: {} });
  assert.ok(cart.status === 201 || cart.status === 200, cart.text);
  const item = await call(`${API}/carts/${cart.body.id}/items`, {
    method: 'POST', headers: bearer(user.token), body: { product_id: productId, quantity },
  });
  assert.ok(item.status === 201 || item.status === 200, item.text);
  const order = await call(`${API}/orders`, {
    method: 'POST', headers: { ...bearer(user.token), 'idempotency-key': crypto.randomUUID() },
    body: { cart_id: cart.body.id, shipping_address: HOME, shipping_method: 'standard', payment_method: { type: 'card', token: 'tok_visa' } },
  });
  assert.equal(order.status, 201, order.text);
  assert.equal(order.body.status, 'confirmed');
  return order.body;
}

/** The admin dashboard's button of a section ("Products", "Categories"...). */
export const adminSection = (page, name) =>
  page.getByRole('navigation', { name: 'Sections' }).getByRole('button', { name, exact: true });

export async function signInAt(page, base, email, password) {
  await page.goto(`${base}/signin`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // Signed in once the app has left the sign-in page (it merges the cart first).
  await page.waitForURL((u) => u.pathname !== '/signin', { timeout: 30000 });
  await page.getByRole('link', { name: 'Account', exact: true }).waitFor({ timeout: 20000 });
}

/** Signs the demo admin in to the admin dashboard (/admin/) and waits for
 * its sections. */
export async function signInAdmin(page, base = BASE) {
  await page.goto(`${base}/admin/`);
  await page.getByLabel('Email').fill(process.env.SHOPSPHERE_ADMIN_EMAIL);
  await page.getByLabel('Password').fill(process.env.SHOPSPHERE_ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Sections' }).waitFor({ timeout: 30000 });
}
