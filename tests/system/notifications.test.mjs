// notifications.test.mjs - e-mail, SMS, push and the in-app feed through the
// gateway (DESIGN §5 Notifications, Sandbox mail; docs/notifications.md):
// the welcome and order mails land in the sandbox inbox exactly once, even
// when their events are delivered again; preferences stop order mails but
// never the password reset; the feed, mark-as-read and the live stream.
// Every test makes its own users, products and orders.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { API, assertEnvelope, call, eventually, serviceUrl, sleep, adminToken, newCategory } from './lib.mjs';

const RUN = randomUUID().slice(0, 8);
const INTERNAL = { 'X-Internal-Token': process.env.SHOPSPHERE_INTERNAL_SECRET ?? '' };
const MAIL = serviceUrl('sandbox-mail');
let admin;
let categoryId;
let seq = 0;

const auth = (token) => ({ authorization: `Bearer ${token}` });

// The binary of the platform under test (the supervisor's executable).
function binary() {
  const pid = readFileSync(`${process.env.SHOPSPHERE_VAR_DIR}/platform.pid`, 'utf8').trim();
  return readlinkSync(`/proc/${pid}/exe`);
}

// Runs `shopsphere ARGS` with stdin; resolves {code, stdout, stderr}.
function run(args, input = '') {
  return new Promise((resolve) => {
    const p = spawn(binary(), args, { env: process.env });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('close', (code) => resolve({ code, stdout, stderr }));
    p.stdin.end(input);
  });
}

// Follows the event exchange for `type` (`shopsphere events tail`); resolves
// once the tail is bound, with find(pred) waiting for a matching envelope.
async function tailEvents(type) {
  const p = spawn(binary(), ['events', 'tail', '--type', type, '--timeout', '120'],
    { env: process.env });
  const envelopes = [];
  let out = '';
  let ready = false;
  p.stdout.on('data', (d) => {
    out += d;
    let i;
    while ((i = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, i);
      out = out.slice(i + 1);
      if (line.trim()) envelopes.push(line);
    }
  });
  p.stderr.on('data', (d) => { if (String(d).includes('events: following')) ready = true; });
  await eventually(() => ready, 30000, 50);
  return {
    async find(pred) {
      return eventually(() => envelopes.find((l) => pred(JSON.parse(l))), 30000, 100);
    },
    stop() { p.kill('SIGTERM'); },
  };
}

async function login(email, password) {
  const r = await call(`${API}/auth/login`, { method: 'POST', body: { email, password } });
  assert.equal(r.status, 200, `login ${email}: ${r.text}`);
  return r.body.access_token;
}

async function newUser() {
  const n = `${RUN}-${++seq}`;
  const email = `notify-${n}@example.com`;
  const password = `Secret-${n}-pass!`;
  const phone = `+1555${randomInt(1000000, 9999999)}`;
  const r = await call(`${API}/users`, {
    method: 'POST',
    body: { email, password, username: `notify_${n}`.replace(/-/g, '_'), first_name: 'Nora',
      last_name: n, phone },
  });
  assert.equal(r.status, 201, `register: ${r.text}`);
  return { id: r.body.id, email, password, phone, token: await login(email, password) };
}

async function newProduct(price = '12.50') {
  const n = `${RUN}-${++seq}`;
  const r = await call(`${API}/products`, {
    method: 'POST', headers: auth(admin),
    body: { sku: `NTF-${n}`, name: `Notify lamp ${n}`, description: 'test', category_id: categoryId,
      price, currency: 'USD', stock: 50, status: 'active' },
  });
  assert.equal(r.status, 201, `create product: ${r.text}`);
  return r.body;
}

async function placeOrder(user, product, quantity = 2) {
  const c = await call(`${API}/carts`, { method: 'POST', headers: auth(user.token), body: {} });
  assert.equal(c.status, 201, c.text);
  const add = await call(`${API}/carts/${c.body.id}/items`, {
    method: 'POST', headers: auth(user.token), body: { product_id: product.id, quantity },
  });
  assert.equal(add.status, 201, add.text);
  const key = randomUUID();
  const body = {
    cart_id: c.body.id,
    shipping_address: { first_name: 'Nora', last_name: 'N', line1: '1 Market St',
      city: 'San Francisco', state: 'CA', postal_code: '94105', country: 'US' },
    shipping_method: 'standard',
    payment_method: { type: 'card', token: 'tok_visa' },
  };
  for (let i = 0; ; i++) {
    const r = await call(`${API}/orders`, {
      method: 'POST', headers: { ...auth(user.token), 'idempotency-key': key }, body,
    });
    if ((r.status < 500 && r.status !== 409) || i >= 20) {
      assert.equal(r.status, 201, r.text);
      return r.body;
    }
    await sleep(300);
  }
}

async function inbox(address) {
  const r = await call(`${MAIL}/messages?to=${encodeURIComponent(address)}`);
  assert.equal(r.status, 200, r.text);
  return r.body.items;
}

async function deliveries(query) {
  const r = await call(`${serviceUrl('notification')}/internal/notifications/deliveries?${query}`,
    { headers: INTERNAL });
  assert.equal(r.status, 200, r.text);
  return r.body.items;
}

async function duplicatesSeen() {
  const r = await call(`${serviceUrl('notification')}/metrics`);
  const m = /bus_events_consumed_total\{service="notification",outcome="duplicate"\} (\d+)/
    .exec(r.text);
  return m ? Number(m[1]) : 0;
}

// Redelivers an envelope to the notification queue and waits until the
// consumer has seen it (as a duplicate).
async function redeliver(envelope) {
  const seen = await duplicatesSeen();
  const r = await run(['events', 'redeliver', '--service', 'notification'], envelope);
  assert.equal(r.code, 0, r.stderr);
  await eventually(async () => (await duplicatesSeen()) > seen, 30000, 200);
}

before(async () => {
  admin = await adminToken();
  categoryId = await newCategory(admin, `Notify ${RUN}`, `notify-${RUN}`);
});

test('registering puts one welcome mail in the sandbox inbox, even when the event comes again', async () => {
  const tail = await tailEvents('user.registered');
  let user;
  let envelope;
  try {
    user = await newUser();
    envelope = await tail.find((e) => e.data.email === user.email);
  } finally {
    tail.stop();
  }
  const mails = await eventually(async () => {
    const items = await inbox(user.email);
    return items.length ? items : null;
  }, 30000, 200);
  const mail = mails[0];
  assert.equal(mail.subject, 'Welcome to ShopSphere');
  assert.equal(mail.to, user.email);
  assert.match(mail.from, /ShopSphere <no-reply@/);
  assert.match(mail.text, /Hello Nora,/);
  assert.match(mail.html, /<p>Hello Nora,<\/p>/);
  assert.match(mail.received_at, /^\d{4}-\d\d-\d\dT/);

  // The same event again (a broker redelivery, `events dlq replay`): still
  // one mail, one delivery row.
  await redeliver(envelope);
  await redeliver(envelope);
  await sleep(500);
  assert.equal((await inbox(user.email)).length, 1);
  const rows = await deliveries(`recipient=${encodeURIComponent(user.email)}`);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].kind, 'welcome');
  assert.equal(rows[0].status, 'sent');
  assert.equal(rows[0].attempts, 1);
});

test('checkout sends one order-confirmed mail with the order id, lines and total; SMS, push and the feed too', async () => {
  const product = await newProduct('12.50');
  const user = await newUser();
  const tail = await tailEvents('order.confirmed');
  let order;
  let envelope;
  try {
    order = await placeOrder(user, product, 2);
    envelope = await tail.find((e) => e.data.order_id === order.id);
  } finally {
    tail.stop();
  }
  const subject = `Order ${order.id} confirmed`;
  const mail = await eventually(async () =>
    (await inbox(user.email)).find((m) => m.subject === subject), 30000, 200);
  assert.ok(mail.text.includes(`$${order.total}`), mail.text);
  const line = order.items[0];
  assert.ok(mail.text.includes(`2 x ${product.name}  $${line.line_total}`), mail.text);
  assert.ok(mail.html.includes(order.id));
  assert.ok(mail.html.includes(`$${order.total}`));

  await redeliver(envelope);
  await sleep(500);
  assert.equal((await inbox(user.email)).filter((m) => m.subject === subject).length, 1);

  // SMS and push went to the sandbox providers, once each.
  for (const channel of ['sms', 'push']) {
    const to = channel === 'sms' ? user.phone : user.id;
    const got = await eventually(async () => {
      const r = await call(`${serviceUrl('notification')}/internal/notifications/sandbox/${channel}?to=${encodeURIComponent(to)}`,
        { headers: INTERNAL });
      assert.equal(r.status, 200, r.text);
      return r.body.items.length ? r.body.items : null;
    }, 30000, 200);
    assert.equal(got.length, 1, channel);
    assert.ok(got[0].text.includes(order.id), got[0].text);
  }

  // The in-app feed: one unread notification naming the order.
  const feed = await eventually(async () => {
    const r = await call(`${API}/notifications`, { headers: auth(user.token) });
    assert.equal(r.status, 200, r.text);
    return r.body.items.length ? r.body : null;
  }, 30000, 200);
  assert.equal(feed.unread_count, 1);
  assert.equal(feed.next_cursor, null);
  const item = feed.items[0];
  assert.equal(item.kind, 'order_confirmed');
  assert.equal(item.data.order_id, order.id);
  assert.equal(item.read, false);
  assert.equal(item.read_at, null);
  assert.equal(item.title, subject);

  // Another user cannot read it; its owner can, repeatedly.
  const other = await newUser();
  assertEnvelope(await call(`${API}/notifications/${item.id}/read`, {
    method: 'POST', headers: auth(other.token),
  }), 404, 'NOT_FOUND');
  const read = await call(`${API}/notifications/${item.id}/read`, {
    method: 'POST', headers: auth(user.token),
  });
  assert.equal(read.status, 200, read.text);
  assert.equal(read.body.read, true);
  assert.match(read.body.read_at, /^\d{4}-/);
  const again = await call(`${API}/notifications/${item.id}/read`, {
    method: 'POST', headers: auth(user.token),
  });
  assert.equal(again.body.read_at, read.body.read_at);
  const after = await call(`${API}/notifications`, { headers: auth(user.token) });
  assert.equal(after.body.unread_count, 0);
});

test('opting out of order updates by e-mail stops the order mails, not the password reset', async () => {
  const product = await newProduct('3.00');
  const user = await newUser();
  const put = await call(`${API}/users/me/notification-preferences`, {
    method: 'PUT', headers: auth(user.token), body: { email: { order_updates: false } },
  });
  assert.equal(put.status, 200, put.text);
  assert.deepEqual(put.body, {
    email: { marketing: false, order_updates: false },
    sms: { marketing: false, order_updates: true },
    push: { marketing: false, order_updates: true },
  });
  const order = await placeOrder(user, product, 1);
  // The decision is in the delivery log: e-mail skipped, the others sent.
  const rows = await eventually(async () => {
    const items = await deliveries(`user_id=${user.id}`);
    const mine = items.filter((d) => d.kind === 'order_confirmed');
    return mine.length === 4 && mine.every((d) => d.status !== 'queued' && d.status !== 'sending')
      ? mine : null;
  }, 30000, 200);
  const byChannel = Object.fromEntries(rows.map((d) => [d.channel, d]));
  assert.equal(byChannel.email.status, 'skipped');
  assert.match(byChannel.email.last_error, /opted out/);
  assert.equal(byChannel.in_app.status, 'sent');
  assert.equal(byChannel.sms.status, 'sent');
  assert.ok((await inbox(user.email)).every((m) => !m.subject.includes(order.id)));

  // Security mail always goes.
  const reset = await call(`${API}/auth/password-reset`, { method: 'POST', body: { email: user.email } });
  assert.equal(reset.status, 202, reset.text);
  const mail = await eventually(async () =>
    (await inbox(user.email)).find((m) => m.subject === 'Reset your ShopSphere password'), 30000, 200);
  assert.match(mail.text, /reset_token: \S+/);
});

test('the live stream delivers a new in-app notification', async () => {
  const product = await newProduct('7.25');
  const user = await newUser();
  const controller = new AbortController();
  const res = await fetch(`${API}/notifications/stream`, {
    headers: { ...auth(user.token), accept: 'text/event-stream' }, signal: controller.signal,
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/event-stream/);
  assert.ok(res.headers.get('x-request-id'));
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const pump = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
    } catch { /* aborted */ }
  })();
  try {
    await eventually(() => text.includes(': connected'), 20000, 50);
    const order = await placeOrder(user, product, 1);
    const frame = await eventually(() => text.split('\n\n').find((f) =>
      f.includes('event: notification') && f.includes(order.id)), 30000, 50);
    const data = JSON.parse(/^data: (.*)$/m.exec(frame)[1]);
    assert.equal(data.kind, 'order_confirmed');
    assert.equal(data.data.order_id, order.id);
    assert.match(frame, new RegExp(`^id: ${data.id}$`, 'm'));
    const feed = await call(`${API}/notifications`, { headers: auth(user.token) });
    assert.deepEqual(feed.body.items[0], data);
  } finally {
    controller.abort();
    await pump;
  }
  assertEnvelope(await call(`${API}/notifications/stream`, { headers: { accept: 'text/event-stream' } }),
    401, 'AUTHENTICATION_ERROR');
});

test('preferences: defaults, partial updates, strict validation', async () => {
  const user = await newUser();
  const url = `${API}/users/me/notification-preferences`;
  const get = await call(url, { headers: auth(user.token) });
  assert.equal(get.status, 200, get.text);
  assert.deepEqual(get.body, {
    email: { marketing: false, order_updates: true },
    sms: { marketing: false, order_updates: true },
    push: { marketing: false, order_updates: true },
  });
  const put = (body) => call(url, { method: 'PUT', headers: auth(user.token), body });
  const ok = await put({ push: { marketing: true }, sms: {} });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.body.push.marketing, true);
  assert.equal(ok.body.email.order_updates, true);

  for (const [body, field] of [
    [{ email: { order_updates: 'no' } }, 'email.order_updates'],
    [{ email: { order_updates: 0 } }, 'email.order_updates'],
    [{ email: { order_updates: null } }, 'email.order_updates'],
    [{ email: { security: false } }, 'email.security'],
    [{ fax: { marketing: true } }, 'fax'],
    [{ sms: true }, 'sms'],
    [{ "email'; DROP TABLE preferences; --": {} }, "email'; DROP TABLE preferences; --"],
  ]) {
    const r = await put(body);
    assertEnvelope(r, 422, 'VALIDATION_ERROR');
    assert.equal(r.body.error.details, field);
  }
  const bad = await call(url, { method: 'PUT', headers: { ...auth(user.token), 'content-type': 'application/json' },
    raw: '{"email": ' });
  assertEnvelope(bad, 400, 'VALIDATION_ERROR');
  const utf = await call(url, { method: 'PUT', headers: { ...auth(user.token), 'content-type': 'application/json' },
    raw: Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x7b, 0x7d, 0x7d]) });
  assertEnvelope(utf, 400, 'VALIDATION_ERROR');
  // Nothing of the refused bodies was applied.
  const still = await call(url, { headers: auth(user.token) });
  assert.deepEqual(still.body, ok.body);
  assertEnvelope(await call(url), 401, 'AUTHENTICATION_ERROR');
});

test('the feed refuses bad paging and ids', async () => {
  const user = await newUser();
  const empty = await call(`${API}/notifications`, { headers: auth(user.token) });
  assert.equal(empty.status, 200, empty.text);
  assert.deepEqual(empty.body, { items: [], next_cursor: null, unread_count: 0 });
  for (const q of ['limit=0', 'limit=101', 'limit=-1', 'limit=abc', 'limit=99999999999999999999']) {
    const r = await call(`${API}/notifications?${q}`, { headers: auth(user.token) });
    assertEnvelope(r, 422, 'VALIDATION_ERROR');
    assert.equal(r.body.error.details, 'limit');
  }
  const cursor = await call(`${API}/notifications?cursor=${encodeURIComponent("x' OR 1=1")}`,
    { headers: auth(user.token) });
  assertEnvelope(cursor, 422, 'VALIDATION_ERROR');
  assert.equal(cursor.body.error.details, 'cursor');
  const badId = await call(`${API}/notifications/not-a-uuid/read`, { method: 'POST', headers: auth(user.token) });
  assertEnvelope(badId, 422, 'VALIDATION_ERROR');
  assertEnvelope(await call(`${API}/notifications/${randomUUID()}/read`, {
    method: 'POST', headers: auth(user.token),
  }), 404, 'NOT_FOUND');
  assertEnvelope(await call(`${API}/notifications`), 401, 'AUTHENTICATION_ERROR');
});

test('the sandbox mail server: inbox API and page', async () => {
  const r = await call(`${MAIL}/messages?limit=0`);
  assertEnvelope(r, 422, 'VALIDATION_ERROR');
  const page = await call(`${MAIL}/?to=${encodeURIComponent('<script>@x.y')}`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /^text\/html/);
  assert.ok(!page.text.includes('<script>@'), 'the address is escaped');
  assert.ok(page.text.includes('Sandbox mail'));
  assertEnvelope(await call(`${MAIL}/messages/${randomUUID()}`), 404, 'NOT_FOUND');
});
