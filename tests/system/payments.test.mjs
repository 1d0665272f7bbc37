// payments.test.mjs - the payment service against the real sandbox card
// processor (its own process, started by `shopsphere up`): authorize,
// capture, refunds, declines, signed webhooks, provider timeouts and their
// reconciliation, and who may read a payment. Internal routes are called on
// the payment service's own port, as the order service does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { API, assertEnvelope, call, eventually, serviceUrl } from './lib.mjs';

const PAY = serviceUrl('payment');
const SANDBOX = serviceUrl('sandbox-payment');
const INTERNAL = { 'X-Internal-Token': process.env.SHOPSPHERE_INTERNAL_SECRET ?? '' };
const WEBHOOK_SECRET = process.env.SHOPSPHERE_PAYMENT_WEBHOOK_SECRET ?? '';
const WEBHOOK_URL = `${PAY}/api/v1/payments/webhooks/sandbox`;

function authorize(body) {
  return call(`${PAY}/internal/payments/authorize`, { method: 'POST', headers: INTERNAL, body });
}

function action(id, verb, body) {
  return call(`${PAY}/internal/payments/${id}/${verb}`, { method: 'POST', headers: INTERNAL, body });
}

async function paymentOf(orderId) {
  const r = await call(`${PAY}/internal/payments?order_id=${orderId}`, { headers: INTERNAL });
  assert.equal(r.status, 200, r.text);
  return r.body.items[0];
}

async function sandboxIntents(orderId) {
  const r = await call(`${SANDBOX}/v1/payment_intents?order_id=${orderId}`);
  assert.equal(r.status, 200, r.text);
  return r.body.data;
}

function newPayment(token = 'tok_visa', amount = '25.00') {
  return { order_id: randomUUID(), user_id: randomUUID(), amount, currency: 'USD', token };
}

function signature(payload, t = Math.floor(Date.now() / 1000), secret = WEBHOOK_SECRET) {
  const mac = createHmac('sha256', secret).update(`${t}.${payload}`).digest('hex');
  return `t=${t},v1=${mac}`;
}

function postWebhook(payload, sig) {
  const headers = { 'content-type': 'application/json' };
  if (sig !== undefined) headers['Sandbox-Signature'] = sig;
  return call(WEBHOOK_URL, { method: 'POST', headers, raw: payload });
}

// An authorized and captured payment of 30.00 to play with.
async function capturedPayment() {
  const req = newPayment('tok_visa', '30.00');
  const auth = await authorize(req);
  assert.equal(auth.status, 201, auth.text);
  const cap = await action(auth.body.id, 'capture', {});
  assert.equal(cap.status, 200, cap.text);
  return cap.body;
}

test('internal payment routes refuse callers without the internal token', async () => {
  const r = await call(`${PAY}/internal/payments/authorize`, { method: 'POST', body: newPayment() });
  assert.ok(r.status === 401 || r.status === 403, `status ${r.status}`);
  assert.ok(r.body.error);
});

test('authorize, capture, partial refund, refund of the rest; never beyond what was captured', async () => {
  const req = newPayment('tok_visa', '25.00');
  const auth = await authorize(req);
  assert.equal(auth.status, 201, auth.text);
  const p = auth.body;
  assert.equal(p.status, 'authorized');
  assert.equal(p.order_id, req.order_id);
  assert.equal(p.user_id, req.user_id);
  assert.equal(p.amount, '25.00');
  assert.equal(p.currency, 'USD');
  assert.equal(p.card_brand, 'visa');
  assert.equal(p.card_last4, '4242');
  assert.equal(p.provider, 'sandbox');
  assert.match(p.provider_payment_id, /^pi_/);
  assert.ok(!auth.text.includes('tok_visa'), 'the token is never echoed');

  // The order id is the idempotency key: the same call answers the same payment.
  const again = await authorize(req);
  assert.equal(again.status, 200, again.text);
  assert.equal(again.body.id, p.id);
  // The same order with other details is a conflict.
  assertEnvelope(await authorize({ ...req, amount: '26.00' }), 409, 'CONFLICT');
  assert.equal((await sandboxIntents(req.order_id)).length, 1);

  // Nothing to refund before the capture.
  assertEnvelope(await action(p.id, 'refund', {}), 409, 'CONFLICT');
  assertEnvelope(await action(p.id, 'capture', { amount: '25.01' }), 409, 'CONFLICT');

  const cap = await action(p.id, 'capture', {});
  assert.equal(cap.status, 200, cap.text);
  assert.equal(cap.body.status, 'captured');
  assert.equal(cap.body.captured_amount, '25.00');

  const partial = await action(p.id, 'refund', { amount: '10.00' });
  assert.equal(partial.status, 200, partial.text);
  assert.equal(partial.body.status, 'partially_refunded');
  assert.equal(partial.body.refunded_amount, '10.00');

  const beyond = await action(p.id, 'refund', { amount: '15.01' });
  assertEnvelope(beyond, 409, 'CONFLICT');

  const rest = await action(p.id, 'refund', {});
  assert.equal(rest.status, 200, rest.text);
  assert.equal(rest.body.status, 'refunded');
  assert.equal(rest.body.refunded_amount, '25.00');

  assertEnvelope(await action(p.id, 'refund', { amount: '0.01' }), 409, 'CONFLICT');
  assertEnvelope(await action(p.id, 'void'), 409, 'CONFLICT');

  // The processor agrees: one intent, captured, refunded in full.
  const intents = await sandboxIntents(req.order_id);
  assert.equal(intents.length, 1);
  assert.equal(intents[0].status, 'succeeded');
  assert.equal(intents[0].amount_received, 2500);
  assert.equal(intents[0].amount_refunded, 2500);

  // Webhooks about all this arrive and change nothing further.
  await eventually(async () => {
    const ev = await call(`${SANDBOX}/v1/events?payment_intent=${p.provider_payment_id}`);
    const sent = ev.body.data.filter((e) => e.webhook);
    return sent.length >= 4 && sent.every((e) => e.delivered);
  }, 20000);
  const final = await paymentOf(req.order_id);
  assert.equal(final.status, 'refunded');
  assert.equal(final.refunded_amount, '25.00');
});

test('concurrent authorizations of one order make one charge', async () => {
  const req = newPayment('tok_visa', '11.00');
  const answers = await Promise.all(Array.from({ length: 6 }, () => authorize(req)));
  for (const a of answers) assert.ok([200, 201, 504].includes(a.status), a.text);
  assert.equal(answers.filter((a) => a.status === 201).length, 1);
  const ids = new Set(answers.filter((a) => a.status < 300).map((a) => a.body.id));
  assert.equal(ids.size, 1);
  assert.equal((await sandboxIntents(req.order_id)).length, 1);
});

test('concurrent refunds can never together exceed what was captured', async () => {
  const p = await capturedPayment();
  const answers = await Promise.all([
    action(p.id, 'refund', { amount: '20.00' }),
    action(p.id, 'refund', { amount: '20.00' }),
  ]);
  const statuses = answers.map((a) => a.status).sort();
  assert.deepEqual(statuses, [200, 409], answers.map((a) => a.text).join('\n'));
  const after = await paymentOf(p.order_id);
  assert.equal(after.refunded_amount, '20.00');
  assert.equal(after.status, 'partially_refunded');
  const pi = await call(`${SANDBOX}/v1/payment_intents/${p.provider_payment_id}`);
  assert.equal(pi.body.amount_refunded, 2000);
});

test('bad input is refused in the envelope and creates nothing', async () => {
  assertEnvelope(await authorize({ ...newPayment(), amount: '-1' }), 422, 'VALIDATION_ERROR');
  assertEnvelope(await authorize({ ...newPayment(), amount: '0.00' }), 422, 'VALIDATION_ERROR');
  assertEnvelope(await authorize({ ...newPayment(), currency: 'XYZ' }), 422, 'VALIDATION_ERROR');
  assertEnvelope(await authorize({ ...newPayment(), order_id: 'nope' }), 422, 'VALIDATION_ERROR');
  const missing = newPayment();
  delete missing.token;
  assertEnvelope(await authorize(missing), 422, 'VALIDATION_ERROR');
  const r = await call(`${PAY}/internal/payments/authorize`, {
    method: 'POST', headers: { ...INTERNAL, 'content-type': 'application/json' }, raw: '{"order_id":',
  });
  assertEnvelope(r, 400, 'VALIDATION_ERROR');
  assertEnvelope(await action(randomUUID(), 'capture', {}), 404, 'NOT_FOUND');
});

test('a declined card is a 402 PAYMENT_DECLINED with its decline code', async () => {
  for (const [token, code] of [['tok_chargeDeclined', 'generic_decline'],
    ['tok_insufficientFunds', 'insufficient_funds']]) {
    const req = newPayment(token);
    const r = await authorize(req);
    assertEnvelope(r, 402, 'PAYMENT_DECLINED');
    assert.equal(r.body.error.details, code);
    const p = await paymentOf(req.order_id);
    assert.equal(p.status, 'failed');
    assert.equal(p.decline_code, code);
    assert.equal(p.card_last4.length, 4);
    // Asking again answers the same decline, without a new attempt.
    assertEnvelope(await authorize(req), 402, 'PAYMENT_DECLINED');
    assert.equal((await sandboxIntents(req.order_id)).length, 1);
    assertEnvelope(await action(p.id, 'capture', {}), 409, 'CONFLICT');
  }
  // A token the processor does not know is a decline too.
  const unknown = await authorize(newPayment('tok_unknownCard'));
  assertEnvelope(unknown, 402, 'PAYMENT_DECLINED');
  assert.equal(unknown.body.error.details, 'invalid_payment_method');
});

test('an authorization can be voided, and then not captured', async () => {
  const auth = await authorize(newPayment('tok_mastercard', '12.34'));
  assert.equal(auth.status, 201, auth.text);
  assert.equal(auth.body.card_brand, 'mastercard');
  const v = await action(auth.body.id, 'void');
  assert.equal(v.status, 200, v.text);
  assert.equal(v.body.status, 'voided');
  const again = await action(auth.body.id, 'void');
  assert.equal(again.status, 200);
  assertEnvelope(await action(auth.body.id, 'capture', {}), 409, 'CONFLICT');
  const pi = await call(`${SANDBOX}/v1/payment_intents/${auth.body.provider_payment_id}`);
  assert.equal(pi.body.status, 'canceled');
});

test('a forged, stale or unsigned webhook is refused and changes nothing', async () => {
  const p = await capturedPayment();
  const event = JSON.stringify({
    id: `evt_test_${randomUUID()}`, object: 'event', type: 'charge.refunded',
    created: Math.floor(Date.now() / 1000),
    data: { object: { id: `ch_${randomUUID()}`, object: 'charge', payment_intent: p.provider_payment_id,
      amount: 3000, amount_captured: 3000, amount_refunded: 3000, currency: 'usd',
      metadata: { order_id: p.order_id } } },
  });
  const forged = await postWebhook(event, signature(event, undefined, 'not-the-secret'));
  assertEnvelope(forged, 401, 'AUTHENTICATION_ERROR');
  const tampered = await postWebhook(event.replace('3000,"currency"', '2999,"currency"'), signature(event));
  assertEnvelope(tampered, 401, 'AUTHENTICATION_ERROR');
  const stale = await postWebhook(event, signature(event, Math.floor(Date.now() / 1000) - 3600));
  assertEnvelope(stale, 401, 'AUTHENTICATION_ERROR');
  assertEnvelope(await postWebhook(event), 400, 'VALIDATION_ERROR');
  // The public route through the gateway checks the same way.
  const viaGateway = await call(`${API}/payments/webhooks/sandbox`, {
    method: 'POST', raw: event,
    headers: { 'content-type': 'application/json', 'Sandbox-Signature': signature(event, undefined, 'wrong') },
  });
  assertEnvelope(viaGateway, 401, 'AUTHENTICATION_ERROR');
  assertEnvelope(await call(`${PAY}/api/v1/payments/webhooks/nosuch`, {
    method: 'POST', raw: event, headers: { 'Sandbox-Signature': signature(event) },
  }), 404, 'NOT_FOUND');
  assertEnvelope(await postWebhook(event, 'garbage'), 400, 'VALIDATION_ERROR');
  const after = await paymentOf(p.order_id);
  assert.equal(after.status, 'captured');
  assert.equal(after.refunded_amount, '0.00');
});

test('a duplicated webhook is applied once', async () => {
  const p = await capturedPayment();
  // The test plays the processor: a refund of 12.00 made outside the shop.
  const event = JSON.stringify({
    id: `evt_test_${randomUUID()}`, object: 'event', type: 'charge.refunded',
    created: Math.floor(Date.now() / 1000),
    data: { object: { id: `ch_${randomUUID()}`, object: 'charge', payment_intent: p.provider_payment_id,
      amount: 3000, amount_captured: 3000, amount_refunded: 1200, currency: 'usd',
      metadata: { order_id: p.order_id } } },
  });
  const first = await postWebhook(event, signature(event));
  assert.equal(first.status, 200, first.text);
  assert.equal(first.body.duplicate, false);
  assert.equal(first.body.applied, true);
  const afterFirst = await paymentOf(p.order_id);
  assert.equal(afterFirst.status, 'partially_refunded');
  assert.equal(afterFirst.refunded_amount, '12.00');

  const second = await postWebhook(event, signature(event));
  assert.equal(second.status, 200, second.text);
  assert.equal(second.body.duplicate, true);
  assert.equal(second.body.applied, false);
  const afterSecond = await paymentOf(p.order_id);
  assert.equal(afterSecond.refunded_amount, '12.00');
  assert.equal(afterSecond.updated_at, afterFirst.updated_at);

  // What is left to refund accounts for it.
  assertEnvelope(await action(p.id, 'refund', { amount: '18.01' }), 409, 'CONFLICT');
});

test('webhooks from the sandbox settle the payment they are about', async () => {
  const p = await capturedPayment();
  // A refund made directly at the processor (say, from its dashboard).
  const r = await call(`${SANDBOX}/v1/refunds`, {
    method: 'POST', headers: { 'Idempotency-Key': randomUUID() },
    body: { payment_intent: p.provider_payment_id, amount: 500 },
  });
  assert.equal(r.status, 200, r.text);
  const settled = await eventually(async () => {
    const now = await paymentOf(p.order_id);
    return now.refunded_amount === '5.00' ? now : null;
  }, 20000);
  assert.equal(settled.status, 'partially_refunded');
});

test('the sandbox honours idempotency keys', async () => {
  const key = randomUUID();
  const body = { amount: 100, currency: 'usd', payment_method: 'tok_visa', capture_method: 'manual',
    metadata: { order_id: randomUUID() } };
  const a = await call(`${SANDBOX}/v1/payment_intents`, { method: 'POST', headers: { 'Idempotency-Key': key }, body });
  assert.equal(a.status, 200, a.text);
  const b = await call(`${SANDBOX}/v1/payment_intents`, { method: 'POST', headers: { 'Idempotency-Key': key }, body });
  assert.equal(b.status, 200);
  assert.equal(b.body.id, a.body.id);
  assert.equal(b.headers.get('idempotent-replayed'), 'true');
  const c = await call(`${SANDBOX}/v1/payment_intents`, {
    method: 'POST', headers: { 'Idempotency-Key': key }, body: { ...body, amount: 101 },
  });
  assert.equal(c.status, 400);
  assert.equal(c.body.error.type, 'idempotency_error');
  assert.equal((await sandboxIntents(body.metadata.order_id)).length, 1);
});

test('a provider timeout is a 504, and reconciliation leaves exactly one authorization', async () => {
  const req = newPayment('tok_timeout', '40.00');
  const r = await authorize(req);
  assertEnvelope(r, 504, 'TIMEOUT_ERROR');
  // The processor did authorize; we just never heard.
  const pending = await paymentOf(req.order_id);
  assert.ok(['unknown', 'authorized'].includes(pending.status), pending.status);

  // A retry by the order service does not charge again.
  const retry = await authorize(req);
  assert.ok([200, 504].includes(retry.status), retry.text);

  const settled = await eventually(async () => {
    const p = await paymentOf(req.order_id);
    return p.status === 'authorized' ? p : null;
  }, 45000, 500);
  assert.equal(settled.card_last4, '0341');
  assert.match(settled.provider_payment_id, /^pi_/);

  const intents = await sandboxIntents(req.order_id);
  assert.equal(intents.length, 1);
  assert.equal(intents[0].status, 'requires_capture');
  assert.equal(intents[0].id, settled.provider_payment_id);

  const again = await authorize(req);
  assert.equal(again.status, 200, again.text);
  assert.equal(again.body.id, settled.id);
  assert.equal((await sandboxIntents(req.order_id)).length, 1);

  // The service counts what happened.
  const metrics = await call(`${PAY}/metrics`);
  assert.match(metrics.text, /payment_outcomes_total\{path="authorize",outcome="timeout"\} [1-9]/);
  assert.match(metrics.text, /payment_outcomes_total\{path="reconcile",outcome="authorized"\} [1-9]/);

  // Settled, it behaves like any authorization.
  const cap = await action(settled.id, 'capture', { amount: '15.00' });
  assert.equal(cap.status, 200, cap.text);
  assert.equal(cap.body.captured_amount, '15.00');
});

test('a void asked while the outcome is unknown cancels the authorization once it is found', async () => {
  const req = newPayment('tok_timeout', '7.00');
  assertEnvelope(await authorize(req), 504, 'TIMEOUT_ERROR');
  const unknown = await paymentOf(req.order_id);
  assert.equal(unknown.status, 'unknown');
  const v = await action(unknown.id, 'void');
  assert.equal(v.status, 202, v.text);
  assert.equal(v.body.void_requested, true);

  const voided = await eventually(async () => {
    const p = await paymentOf(req.order_id);
    return p.status === 'voided' ? p : null;
  }, 45000, 500);
  const intents = await sandboxIntents(req.order_id);
  assert.equal(intents.length, 1);
  assert.equal(intents[0].status, 'canceled');
  assert.equal(intents[0].id, voided.provider_payment_id);
  assertEnvelope(await action(voided.id, 'capture', {}), 409, 'CONFLICT');
});

// --- the public read: owner and admins only -------------------------------

async function signUp() {
  const email = `pay-${randomUUID()}@example.com`;
  const password = `Pw-${randomUUID()}`;
  const reg = await call(`${API}/users`, {
    method: 'POST',
    body: { email, password, username: `pay${randomUUID().slice(0, 8)}`, first_name: 'Pay', last_name: 'Tester' },
  });
  assert.equal(reg.status, 201, reg.text);
  const login = await call(`${API}/auth/login`, { method: 'POST', body: { email, password } });
  assert.equal(login.status, 200, login.text);
  return { id: reg.body.id, token: login.body.access_token };
}

async function adminToken() {
  const login = await eventually(async () => {
    const r = await call(`${API}/auth/login`, {
      method: 'POST',
      body: { email: process.env.SHOPSPHERE_ADMIN_EMAIL, password: process.env.SHOPSPHERE_ADMIN_PASSWORD },
    });
    return r.status === 200 ? r : null;
  }, 20000, 500);
  return login.body.access_token;
}

test('GET /payments?order_id= shows a payment to its owner and admins only', async () => {
  const owner = await signUp();
  const other = await signUp();
  const req = { ...newPayment('tok_visa', '9.99'), user_id: owner.id };
  const auth = await authorize(req);
  assert.equal(auth.status, 201, auth.text);

  const url = `${API}/payments?order_id=${req.order_id}`;
  assertEnvelope(await call(url), 401, 'AUTHENTICATION_ERROR');
  const mine = await call(url, { headers: { authorization: `Bearer ${owner.token}` } });
  assert.equal(mine.status, 200, mine.text);
  assert.equal(mine.body.items.length, 1);
  assert.equal(mine.body.items[0].id, auth.body.id);
  assert.equal(mine.body.items[0].card_last4, '4242');
  assert.ok(!('token' in mine.body.items[0]));

  const theirs = await call(url, { headers: { authorization: `Bearer ${other.token}` } });
  assert.equal(theirs.status, 200, theirs.text);
  assert.deepEqual(theirs.body.items, []);

  const admin = await call(url, { headers: { authorization: `Bearer ${await adminToken()}` } });
  assert.equal(admin.status, 200, admin.text);
  assert.equal(admin.body.items.length, 1);

  assertEnvelope(await call(`${API}/payments?order_id=nope`,
    { headers: { authorization: `Bearer ${owner.token}` } }), 422, 'VALIDATION_ERROR');
});
