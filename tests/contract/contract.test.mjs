// contract.test.mjs - tests of the contract check itself (no servers
// needed): the documents load, every object schema says whether it is
// closed, and crafted answers that differ from the document are refused
// with a message naming the operation, the status and the field.
// Run by scripts/api-check.sh (a stage of scripts/test.sh).
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { Contract, checkExchange, ROOT } from './contract.mjs';
import { documentProblems } from './check-document.mjs';

const api = new Contract(`${ROOT}/api/openapi.yaml`);
const sandbox = new Contract(`${ROOT}/api/sandbox.yaml`);
const mail = new Contract(`${ROOT}/api/sandbox-mail.yaml`);
const BASE = 'http://127.0.0.1:18080';
const UUID = '0190a8c4-7f5e-7cc1-b2a5-1234567890ab';

const json = (status, body, extra = {}) => ({
  status,
  headers: new Headers({ 'content-type': 'application/json', 'x-request-id': 'r1', ...extra }),
  text: JSON.stringify(body),
});

const user = () => ({
  id: UUID, email: 'a@example.com', username: 'ann', first_name: 'Ann', last_name: null,
  phone: null, role: 'customer', status: 'active',
  created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z',
});
const me = { method: 'GET', url: `${BASE}/api/v1/users/me`, headers: { authorization: 'Bearer x.y.z' } };
const envelope = (code) => ({ error: { code, message: 'm', details: null }, trace_id: 'a'.repeat(32) });

test('both documents pass the closed-objects check', () => {
  for (const f of ['openapi.yaml', 'sandbox.yaml', 'sandbox-mail.yaml']) {
    assert.deepEqual(documentProblems(parseYaml(readFileSync(`${ROOT}/api/${f}`, 'utf8'))), [], f);
  }
});

test('every operation has an operationId, one tag and a summary', () => {
  for (const c of [api, sandbox, mail]) {
    for (const o of c.operations) {
      assert.ok(o.op.operationId, `${o.method} ${o.template}: operationId`);
      assert.ok(o.op.summary, `${o.method} ${o.template}: summary`);
      assert.ok(o.op.tags?.length >= 1, `${o.method} ${o.template}: tags`);
    }
  }
});

test('a documented answer passes', () => {
  const r = checkExchange(api, me, json(200, user()));
  assert.equal(r.operation.id, 'getMe');
  assert.deepEqual(r.problems, []);
});

test('an undocumented response field fails, naming operation, status and field', () => {
  const r = checkExchange(api, me, json(200, { ...user(), password_hash: 'x' }));
  assert.equal(r.problems.length, 1, r.problems.join('\n'));
  assert.match(r.problems[0], /getMe \(GET \/users\/me\) answered 200/);
  assert.match(r.problems[0], /body \/password_hash: is not in the document/);
});

test('an undocumented field in a nested, composed schema fails', () => {
  const address = {
    id: UUID, first_name: null, last_name: null, line1: '1 Main St', line2: null, city: 'X',
    state: null, postal_code: '1', country: 'US', phone: null,
    created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z',
  };
  const req = { ...me, url: `${BASE}/api/v1/users/me/addresses` };
  assert.deepEqual(checkExchange(api, req, json(200, { items: [address], next_cursor: null })).problems, []);
  const r = checkExchange(api, req, json(200, { items: [{ ...address, geo: 1 }], next_cursor: null }));
  assert.match(r.problems.join('\n'), /body \/items\/0\/geo: is not in the document/);
});

test('a wrong type and a missing required field fail', () => {
  const r = checkExchange(api, me, json(200, { ...user(), email: 42, id: undefined }));
  const text = r.problems.join('\n');
  assert.match(text, /body \/email: must be string/);
  assert.match(text, /body \/id: is required by the document but missing/);
});

test('an undocumented status fails', () => {
  const r = checkExchange(api, me, json(418, envelope('CONFLICT')));
  assert.match(r.problems.join('\n'), /getMe .* answered 418: status 418 is not in the document/);
});

test('an error answer must be the envelope', () => {
  const req = { method: 'GET', url: `${BASE}/api/v1/users/me` };
  assert.deepEqual(checkExchange(api, req, json(401, envelope('AUTHENTICATION_ERROR'))).problems, []);
  const r = checkExchange(api, req, json(401, { message: 'no' }));
  assert.match(r.problems.join('\n'), /answered 401: body \/error: is required/);
});

test('an invalid request that is accepted fails; refused with a documented 4xx passes', () => {
  const req = {
    method: 'POST', url: `${BASE}/api/v1/users`, headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'a@example.com', password: 'correct horse 42', username: 'ann', admin: true }),
  };
  assert.deepEqual(checkExchange(api, req, json(422, envelope('VALIDATION_ERROR'))).problems, []);
  const r = checkExchange(api, req, json(201, user()));
  assert.match(r.problems.join('\n'), /registerUser .* answered 201: the request is invalid by the document, yet it was accepted: request body \/admin: is not in the document/);
});

test('an undocumented query parameter is an invalid request', () => {
  const req = { method: 'GET', url: `${BASE}/api/v1/products?colour=red` };
  const r = checkExchange(api, req, json(200, { items: [], next_cursor: null }));
  assert.match(r.problems.join('\n'), /query parameter colour is not in the document/);
});

test('an unknown route may only answer 404 or 405 with the envelope', () => {
  const req = { method: 'GET', url: `${BASE}/api/v1/no-such-thing` };
  assert.deepEqual(checkExchange(api, req, json(404, envelope('NOT_FOUND'))).problems, []);
  assert.match(checkExchange(api, req, json(200, {})).problems.join('\n'), /no such operation/);
});

test('a required response header is checked', () => {
  const req = { method: 'GET', url: `${BASE}/api/v1/products` };
  const r = checkExchange(api, req, json(429, envelope('RATE_LIMITED')));
  assert.match(r.problems.join('\n'), /header Retry-After is required by the document but missing/);
});

test('the sandbox document covers the card processor and the courier', () => {
  const intent = {
    id: 'pi_0a1b', object: 'payment_intent', amount: 100, amount_capturable: 100, amount_received: 0,
    amount_refunded: 0, currency: 'usd', status: 'requires_capture', capture_method: 'manual',
    created: 1, livemode: false, metadata: {}, card: { brand: 'visa', last4: '4242' }, last_payment_error: null,
  };
  const req = { method: 'GET', url: 'http://127.0.0.1:18095/v1/payment_intents/pi_0a1b' };
  assert.deepEqual(checkExchange(sandbox, req, json(200, intent)).problems, []);
  assert.match(checkExchange(sandbox, req, json(200, { ...intent, risk: 1 })).problems.join('\n'),
    /getPaymentIntent .* answered 200: body \/risk: is not in the document/);
});
