// platform.test.mjs - the kit as a client sees it: every service up and
// healthy, the error envelope, ids and trace context, metrics, body caps,
// supervisor restarts and readiness while PostgreSQL is away.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  API, BASE, SERVICES, assertEnvelope, call, eventually, infra, serviceUrl,
} from './lib.mjs';

// The profile this run's servers belong to (test, or a private w1..w8).
const PROFILE = process.env.SHOPSPHERE_PROFILE || 'test';

test('every service and both sandboxes answer /healthz and /readyz', async () => {
  for (const name of Object.keys(SERVICES)) {
    const health = await call(`${serviceUrl(name)}/healthz`);
    assert.equal(health.status, 200, name);
    assert.equal(health.body.status, 'ok');
    assert.equal(health.body.service, name);
    const ready = await eventually(async () => {
      const r = await call(`${serviceUrl(name)}/readyz`);
      return r.status === 200 ? r : null;
    }, 20000);
    assert.equal(ready.body.status, 'ready', name);
  }
});

test('readiness names the dependencies it checked', async () => {
  const r = await call(`${serviceUrl('product')}/readyz`);
  assert.deepEqual(Object.keys(r.body.checks).sort(), ['postgres', 'rabbitmq', 'redis']);
  // The cart keeps carts in Redis and promotions in PostgreSQL
  // (docs/promotions.md); the order service needs no Redis.
  const cart = await call(`${serviceUrl('cart')}/readyz`);
  assert.deepEqual(Object.keys(cart.body.checks).sort(), ['postgres', 'rabbitmq', 'redis']);
  const order = await call(`${serviceUrl('order')}/readyz`);
  assert.ok(!('redis' in order.body.checks));
});

test('an unknown route is a 404 in the envelope, at the gateway and at a service', async () => {
  assertEnvelope(await call(`${API}/no-such-thing`), 404, 'NOT_FOUND');
  assertEnvelope(await call(`${BASE}/definitely/not/here`), 404, 'NOT_FOUND');
  assertEnvelope(await call(`${serviceUrl('order')}/nowhere`), 404, 'NOT_FOUND');
});

test('a wrong method is a 405 with Allow', async () => {
  const r = await call(`${serviceUrl('product')}/healthz`, { method: 'DELETE' });
  assertEnvelope(r, 405, 'VALIDATION_ERROR');
  assert.match(r.headers.get('allow'), /GET/);
});

test('the trace id of an incoming traceparent is the trace_id of the error', async () => {
  const trace = '0af7651916cd43dd8448eb211c80319c';
  const r = await call(`${API}/no-such-thing`, {
    headers: { traceparent: `00-${trace}-b7ad6b7169203331-01` },
  });
  assertEnvelope(r, 404, 'NOT_FOUND');
  assert.equal(r.body.trace_id, trace);
  assert.match(r.headers.get('traceparent'), new RegExp(`^00-${trace}-[0-9a-f]{16}-01$`));
});

test('a malformed traceparent starts a fresh trace', async () => {
  const r = await call(`${API}/no-such-thing`, { headers: { traceparent: 'nonsense' } });
  assertEnvelope(r, 404, 'NOT_FOUND');
  assert.notEqual(r.body.trace_id, '00000000000000000000000000000000');
});

test('X-Request-Id is echoed, or minted when absent', async () => {
  const echoed = await call(`${BASE}/healthz`, { headers: { 'x-request-id': 'test-req-42' } });
  assert.equal(echoed.headers.get('x-request-id'), 'test-req-42');
  const minted = await call(`${BASE}/healthz`);
  assert.match(minted.headers.get('x-request-id'), /^[0-9a-f-]{36}$/);
});

test('the gateway reaches a service and keeps the trace', async () => {
  const trace = '11112222333344445555666677778888';
  const r = await call(`${API}/health/product`, {
    headers: { traceparent: `00-${trace}-1111222233334444-01` },
  });
  assert.equal(r.status, 200);
  assert.equal(r.body.service, 'product');
  assert.match(r.headers.get('traceparent'), new RegExp(`^00-${trace}-`));
  assertEnvelope(await call(`${API}/health/nonexistent`), 404, 'NOT_FOUND');
});

test('an oversized body is refused with 413 in the envelope', async () => {
  const big = 'x'.repeat(1024 * 1024 + 10);
  const r = await call(`${API}/users`, {
    method: 'POST', raw: big, headers: { 'content-type': 'application/json' },
  });
  assertEnvelope(r, 413, 'PAYLOAD_TOO_LARGE');
  const direct = await call(`${serviceUrl('user')}/anything`, { method: 'POST', raw: big });
  assertEnvelope(direct, 413, 'PAYLOAD_TOO_LARGE');
});

test('a chunked body beyond the cap is refused with 413', async () => {
  const chunk = new Uint8Array(64 * 1024).fill(120);
  let sent = 0;
  const stream = new ReadableStream({
    pull(controller) {
      if (sent > 1100 * 1024) { controller.close(); return; }
      sent += chunk.length;
      controller.enqueue(chunk);
    },
  });
  const res = await fetch(`${serviceUrl('user')}/anything`, {
    method: 'POST', body: stream, duplex: 'half',
  });
  assert.equal(res.status, 413);
  const body = await res.json();
  assert.equal(body.error.code, 'PAYLOAD_TOO_LARGE');
});

test('metrics are Prometheus text with request counts by route and status', async () => {
  await call(`${serviceUrl('search')}/healthz`);
  const r = await call(`${serviceUrl('search')}/metrics`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /text\/plain/);
  assert.match(r.text, /# TYPE http_requests_total counter/);
  assert.match(r.text, /http_requests_total\{service="search",route="\/healthz",method="GET",status="200"\} \d+/);
  assert.match(r.text, /http_request_duration_seconds_bucket\{service="search",route="\/healthz",le="0.005"\} \d+/);
  assert.match(r.text, /db_pool_connections\{service="search"\} \d+/);
});

test('a connection that never finishes its headers is closed', { timeout: 60000 }, async () => {
  // The test profile sets a short connection timeout.
  const started = Date.now();
  await new Promise((resolve, reject) => {
    const sock = net.connect(Number(new URL(BASE).port), '127.0.0.1', () => {
      sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\n'); // no final CRLF
    });
    sock.on('close', resolve);
    sock.on('error', resolve);
    setTimeout(() => reject(new Error('connection still open')), 50000);
  });
  assert.ok(Date.now() - started < 50000);
});

test('a killed service is restarted by the supervisor within 5 s', async () => {
  const before = await call(`${serviceUrl('review')}/healthz`);
  const pid = before.body.pid;
  process.kill(pid, 'SIGKILL');
  const killedAt = Date.now();
  const after = await eventually(async () => {
    const r = await call(`${serviceUrl('review')}/healthz`);
    return r.status === 200 && r.body.pid !== pid ? r : null;
  }, 5000, 50);
  assert.notEqual(after.body.pid, pid);
  assert.ok(Date.now() - killedAt < 5000);
});

test('readyz is 503 while PostgreSQL is stopped and 200 once it is back, without a restart',
  { timeout: 120000 }, async () => {
    const url = `${serviceUrl('shipping')}/readyz`;
    const pid = (await call(`${serviceUrl('shipping')}/healthz`)).body.pid;
    assert.equal((await call(url)).status, 200);
    infra('stop', 'postgres', '--profile', PROFILE);
    try {
      const down = await eventually(async () => {
        const r = await call(url);
        return r.status === 503 ? r : null;
      }, 15000);
      assertEnvelope(down, 503, 'SERVICE_UNAVAILABLE');
      assert.notEqual(down.body.checks.postgres, 'ok');
      assert.match(down.body.error.details, /postgres/);
      // Still alive: only readiness changed.
      assert.equal((await call(`${serviceUrl('shipping')}/healthz`)).status, 200);
    } finally {
      infra('start', 'postgres', '--profile', PROFILE);
    }
    await eventually(async () => (await call(url)).status === 200, 30000);
    assert.equal((await call(`${serviceUrl('shipping')}/healthz`)).body.pid, pid);
  });
