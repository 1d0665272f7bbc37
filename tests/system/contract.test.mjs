// contract.test.mjs - the API contract check against real answers: what the
// running services say passes it, and the same answer with one thing
// changed (an undocumented field, a wrong type, another status) is refused
// with a message naming the operation, the status and the field. Every
// other system test relies on this check (call() in lib.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { API, BASE, call, checkContract, eventually, serviceUrl } from './lib.mjs';

const rand = () => crypto.randomBytes(6).toString('hex');

async function signedIn() {
  const id = rand();
  const account = {
    email: `contract-${id}@example.com`, password: 'Correct-Horse-Battery-42',
    username: `contract_${id}`, first_name: 'Con', last_name: 'Tract',
  };
  assert.equal((await call(`${API}/users`, { method: 'POST', body: account })).status, 201);
  const login = await call(`${API}/auth/login`, {
    method: 'POST', body: { email: account.email, password: account.password },
  });
  assert.equal(login.status, 200);
  return login.body.access_token;
}

// Replays a real answer through the check with its body changed.
function recheck(url, headers, res, body, status = res.status) {
  const text = JSON.stringify(body);
  return () => checkContract({ method: 'GET', url, headers }, { status, headers: res.headers, text });
}

test('a real answer passes the contract; with an undocumented field it fails', async () => {
  const token = await signedIn();
  const url = `${API}/users/me`;
  const headers = { authorization: `Bearer ${token}` };
  const res = await call(url, { headers }); // checked by call() itself
  assert.equal(res.status, 200);
  assert.doesNotThrow(recheck(url, headers, res, res.body));
  assert.throws(recheck(url, headers, res, { ...res.body, password_hash: '$argon2id$...' }),
    /getMe \(GET \/users\/me\) answered 200: body \/password_hash: is not in the document/);
  assert.throws(recheck(url, headers, res, { ...res.body, role: 7 }),
    /getMe .* answered 200: body \/role: must be string/);
  const { email, ...noEmail } = res.body;
  assert.ok(email);
  assert.throws(recheck(url, headers, res, noEmail), /body \/email: is required by the document but missing/);
  assert.throws(recheck(url, headers, res, res.body, 202), /getMe .* answered 202: status 202 is not in the document/);
});

async function adminHeaders() {
  const login = await eventually(async () => {
    const r = await call(`${API}/auth/login`, {
      method: 'POST',
      body: { email: process.env.SHOPSPHERE_ADMIN_EMAIL, password: process.env.SHOPSPHERE_ADMIN_PASSWORD },
    });
    return r.status === 200 ? r : null;
  }, 30000, 500);
  return { authorization: `Bearer ${login.body.access_token}` };
}

test('a real list answer with an extra field in a nested item fails', async () => {
  const admin = await adminHeaders();
  const id = rand();
  const cat = await call(`${API}/categories`, { method: 'POST', headers: admin, body: { name: `Contract ${id}`, slug: `contract-${id}` } });
  assert.equal(cat.status, 201, cat.text);
  const made = await call(`${API}/products`, {
    method: 'POST', headers: admin,
    body: { sku: `CONTRACT-${id}`, name: `Contract ${id}`, price: '3.50', currency: 'USD', stock: 2, status: 'active', category_id: cat.body.id },
  });
  assert.equal(made.status, 201, made.text);
  const url = `${API}/products?category_id=${cat.body.id}&limit=2`;
  const res = await call(url);
  assert.equal(res.status, 200);
  assert.equal(res.body.items.length, 1);
  const items = res.body.items.map((p, i) => (i === 0 ? { ...p, internal_cost: '1.00' } : p));
  assert.throws(recheck(url, {}, res, { ...res.body, items }),
    /listProducts .* answered 200: body \/items\/0\/internal_cost: is not in the document/);
});

test('a probe answer is checked too (gateway and services share one description)', async () => {
  const url = `${BASE}/healthz`;
  const res = await call(url);
  assert.equal(res.status, 200);
  assert.throws(recheck(url, {}, res, { ...res.body, version: '1' }),
    /getLiveness \(GET \/healthz\) answered 200: body \/version: is not in the document/);
});

test('an admin reads one user by id', async () => {
  const admin = await adminHeaders();
  const id = rand();
  const made = await call(`${API}/users`, {
    method: 'POST',
    body: { email: `contract-admin-${id}@example.com`, password: 'Correct-Horse-Battery-42', username: `ca_${id}` },
  });
  assert.equal(made.status, 201, made.text);
  const r = await call(`${API}/admin/users/${made.body.id}`, { headers: admin });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.email, `contract-admin-${id}@example.com`);
});

// The sandboxes are other people's systems in production; their documented
// API (api/sandbox.yaml) is what the payment and shipping services rely on.
const PROCESSOR = serviceUrl('sandbox-payment');
const COURIER = serviceUrl('sandbox-courier');

test('the sandbox card processor: authorize, capture, void, chaos settings', async () => {
  const create = (key) => call(`${PROCESSOR}/v1/payment_intents`, {
    method: 'POST', headers: { 'Idempotency-Key': key },
    body: { amount: 1999, currency: 'usd', capture_method: 'manual', metadata: { order_id: `contract-${rand()}` } },
  });
  const a = await create(`contract-${rand()}`);
  assert.equal(a.status, 200, a.text);
  const confirmed = await call(`${PROCESSOR}/v1/payment_intents/${a.body.id}/confirm`, {
    method: 'POST', headers: { 'Idempotency-Key': `contract-${rand()}` }, body: { payment_method: 'tok_visa' },
  });
  assert.equal(confirmed.status, 200, confirmed.text);
  assert.equal(confirmed.body.status, 'requires_capture');
  const captured = await call(`${PROCESSOR}/v1/payment_intents/${a.body.id}/capture`, {
    method: 'POST', headers: { 'Idempotency-Key': `contract-${rand()}` }, body: { amount_to_capture: 1000 },
  });
  assert.equal(captured.status, 200, captured.text);
  assert.equal(captured.body.amount_received, 1000);

  const b = await create(`contract-${rand()}`);
  await call(`${PROCESSOR}/v1/payment_intents/${b.body.id}/confirm`, {
    method: 'POST', body: { payment_method: 'tok_visa' },
  });
  const voided = await call(`${PROCESSOR}/v1/payment_intents/${b.body.id}/cancel`, { method: 'POST' });
  assert.equal(voided.status, 200, voided.text);
  assert.equal(voided.body.status, 'canceled');

  const chaos = await call(`${PROCESSOR}/v1/_chaos`);
  assert.equal(chaos.status, 200, chaos.text);
  const same = await call(`${PROCESSOR}/v1/_chaos`, {
    method: 'POST', body: { error_percent: chaos.body.error_percent, latency_ms: chaos.body.latency_ms },
  });
  assert.equal(same.status, 200, same.text);
});

test('the sandbox courier: quote, book (idempotent by reference), track', async () => {
  const quote = await call(`${COURIER}/v1/quotes`, { method: 'POST', body: { to: { country: 'US' }, weight_grams: 1500 } });
  assert.equal(quote.status, 200, quote.text);
  assert.deepEqual(quote.body.items.map((q) => q.service), ['standard', 'express']);
  const parcel = {
    reference: `contract-${rand()}`, service: 'standard', weight_grams: 1500,
    to: { line1: '1 Main St', city: 'Springfield', country: 'US' },
  };
  const booked = await call(`${COURIER}/v1/shipments`, { method: 'POST', body: parcel });
  assert.equal(booked.status, 201, booked.text);
  const again = await call(`${COURIER}/v1/shipments`, { method: 'POST', body: parcel });
  assert.equal(again.status, 200, again.text);
  assert.equal(again.body.tracking_number, booked.body.tracking_number);
  const tracked = await call(`${COURIER}/v1/shipments/${booked.body.tracking_number}`);
  assert.equal(tracked.status, 200, tracked.text);
  assert.equal(tracked.body.events[0].status, 'label_created');
});

test('the sandbox mail server: a welcome mail in the inbox, read by id', async () => {
  const MAIL = serviceUrl('sandbox-mail');
  const id = rand();
  const email = `contract-mail-${id}@example.com`;
  const made = await call(`${API}/users`, {
    method: 'POST', body: { email, password: 'Correct-Horse-Battery-42', username: `cm_${id}` },
  });
  assert.equal(made.status, 201, made.text);
  const inbox = await eventually(async () => {
    const r = await call(`${MAIL}/messages?to=${encodeURIComponent(email)}`);
    return r.status === 200 && r.body.items.length > 0 ? r : null;
  }, 30000, 250);
  const one = await call(`${MAIL}/messages/${inbox.body.items[0].id}`);
  assert.equal(one.status, 200, one.text);
  assert.equal(one.body.to, email);
});
