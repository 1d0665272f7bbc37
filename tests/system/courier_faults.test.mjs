// courier_faults.test.mjs - the sandbox courier's fault switch that the
// chaos drill uses (POST /v1/_faults {drop_webhooks}, src/sandbox/
// courier.c): while on, its tracking webhooks are lost on the way; the
// parcels still move, and once off nothing more is lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { assertEnvelope, call, eventually, serviceUrl } from './lib.mjs';

const COURIER = serviceUrl('sandbox-courier');
const faults = (body) => call(`${COURIER}/v1/_faults`, body === undefined ? {} : { method: 'POST', body });

test('the courier drops its webhooks while the switch is on, and only then', async () => {
  const before = await faults();
  assert.equal(before.status, 200);
  assert.equal(before.body.drop_webhooks, false);
  try {
    const on = await faults({ drop_webhooks: true });
    assert.equal(on.status, 200);
    assert.equal(on.body.drop_webhooks, true);
    // A parcel moving every 200 ms: each step is a webhook, lost.
    const book = await call(`${COURIER}/v1/shipments`, {
      method: 'POST',
      body: { reference: `faults-${randomUUID()}`, service: 'standard', weight_grams: 500,
        to: { line1: '1 Main St', city: 'Austin', country: 'US' }, step_ms: 200 },
    });
    assert.equal(book.status, 201, book.text);
    const dropped = await eventually(async () => {
      const r = await faults();
      return r.body.dropped_webhooks > before.body.dropped_webhooks ? r.body.dropped_webhooks : null;
    }, 30000);
    // The parcel itself went on.
    await eventually(async () => {
      const p = await call(`${COURIER}/v1/shipments/${book.body.tracking_number}`);
      return p.status === 200 && p.body.status !== 'label_created';
    }, 30000);
    const off = await faults({ drop_webhooks: false });
    assert.equal(off.body.drop_webhooks, false);
    assert.ok(off.body.dropped_webhooks >= dropped);
    // Off: whatever is delivered now is sent, so the count stays put.
    const settled = off.body.dropped_webhooks;
    const later = await faults();
    assert.equal(later.body.dropped_webhooks, settled);
  } finally {
    await faults({ drop_webhooks: false });
  }
});

test('the fault switch refuses a bad body in the envelope', async () => {
  // A wrong type is malformed (400); a missing or unknown field is 422.
  assertEnvelope(await faults({ drop_webhooks: 'yes' }), 400, 'VALIDATION_ERROR');
  assertEnvelope(await faults({}), 422, 'VALIDATION_ERROR');
  assertEnvelope(await faults({ drop_webhooks: true, extra: 1 }), 422, 'VALIDATION_ERROR');
  const r = await call(`${COURIER}/v1/_faults`, { method: 'POST', raw: '{not json', headers: { 'content-type': 'application/json' } });
  assertEnvelope(r, 400, 'VALIDATION_ERROR');
  assert.equal((await faults()).body.drop_webhooks, false);
});
