// tracing.test.mjs - OpenTelemetry export (DESIGN §11, docs/operations.md):
// a small OTLP/HTTP receiver listens where the test profile points
// SHOPSPHERE_OTLP_ENDPOINT (port base + 19), one checkout runs through the
// gateway, and its spans must form one trace: gateway → order → cart,
// product, shipping, payment → sandbox processor, and the consumers of
// order.confirmed under the event's publish span.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { API, PORT_BASE, ROOT, call, eventually, sleep } from './lib.mjs';

const RUN = randomUUID().slice(0, 8);
const CONSUMED = true; // order.confirmed has consumers (below)
// Every service whose event table handles order.confirmed ({"order.confirmed",
// handler} in src/services/<name>/*.c): each one's consume span must be in
// the trace.
const CONSUMERS = readdirSync(join(ROOT, 'src/services'), { withFileTypes: true }).filter((d) => d.isDirectory())
  .map((d) => d.name).filter((svc) => readdirSync(join(ROOT, 'src/services', svc)).some((f) => f.endsWith('.c') &&
    /\{\s*"order\.confirmed"\s*,\s*\w+\s*\}/.test(readFileSync(join(ROOT, 'src/services', svc, f), 'utf8')))).sort();
const spans = []; // every span received, with its service name
let receiver;
let admin;

const auth = (token) => ({ authorization: `Bearer ${token}` });

function collect(body) {
  for (const rs of body.resourceSpans ?? []) {
    const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value?.stringValue;
    for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) spans.push({ ...s, service });
  }
}

before(async () => {
  receiver = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => { text += c; });
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') {
        try { collect(JSON.parse(text)); } catch { res.writeHead(400).end(); return; }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } else {
        res.writeHead(404).end();
      }
    });
  });
  await new Promise((resolve, reject) => {
    receiver.once('error', reject);
    receiver.listen(PORT_BASE + 19, '127.0.0.1', resolve);
  });
  admin = await eventually(async () => {
    const r = await call(`${API}/auth/login`, {
      method: 'POST', body: { email: process.env.SHOPSPHERE_ADMIN_EMAIL, password: process.env.SHOPSPHERE_ADMIN_PASSWORD },
    });
    return r.status === 200 ? r.body.access_token : null;
  }, 30000, 500);
});

after(() => new Promise((resolve) => receiver.close(resolve)));

async function checkout() {
  const categories = await call(`${API}/categories`);
  let categoryId = categories.body?.items?.[0]?.id;
  if (!categoryId) {
    const c = await call(`${API}/categories`, { method: 'POST', headers: auth(admin), body: { name: `Tracing ${RUN}` } });
    assert.equal(c.status, 201, c.text);
    categoryId = c.body.id;
  }
  const p = await call(`${API}/products`, {
    method: 'POST', headers: auth(admin),
    body: { sku: `TRC-${RUN}`, name: `Traced lamp ${RUN}`, description: 'traced', category_id: categoryId,
      price: '12.50', currency: 'USD', stock: 5, status: 'active' },
  });
  assert.equal(p.status, 201, p.text);
  const email = `trace-${RUN}@example.com`;
  const password = `Secret-${RUN}-pass!`;
  const u = await call(`${API}/users`, {
    method: 'POST',
    body: { email, password, username: `trace_${RUN}`, first_name: 'Trace', last_name: 'Buyer', phone: '+15555550100' },
  });
  assert.equal(u.status, 201, u.text);
  const login = await call(`${API}/auth/login`, { method: 'POST', body: { email, password } });
  const token = login.body.access_token;
  const cart = await call(`${API}/carts`, { method: 'POST', headers: auth(token), body: {} });
  const add = await call(`${API}/carts/${cart.body.id}/items`, {
    method: 'POST', headers: auth(token), body: { product_id: p.body.id, quantity: 1 },
  });
  assert.equal(add.status, 201, add.text);
  const order = await call(`${API}/orders`, {
    method: 'POST', headers: { ...auth(token), 'idempotency-key': randomUUID() },
    body: {
      cart_id: cart.body.id, shipping_method: 'standard', payment_method: { type: 'card', token: 'tok_visa' },
      shipping_address: { first_name: 'Trace', last_name: 'Buyer', line1: '1 Main St', city: 'Springfield',
        state: 'IL', postal_code: '62701', country: 'US', phone: '+15555550100' },
    },
  });
  assert.equal(order.status, 201, order.text);
  const traceparent = order.headers.get('traceparent');
  assert.match(traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  return traceparent.split('-')[1];
}

const childOf = (set, parent, pred) => set.filter((s) => s.parentSpanId === parent.spanId && pred(s));
const attr = (s, key) => s.attributes?.find((a) => a.key === key)?.value?.stringValue;

test('one checkout is one trace across the services, the sandbox and the event consumers', async () => {
  const traceId = await checkout();
  const mine = () => spans.filter((s) => s.traceId === traceId);

  // The services' exporters flush every second; consumers follow the relay.
  const need = ['gateway', 'order', 'cart', 'product', 'shipping', 'payment', 'sandbox-payment'];
  // Complete: every service seen, the consumer's span in, and no span whose
  // parent is still on its way (the outer spans end, and export, last).
  const complete = () => {
    const t = mine();
    const services = new Set(t.map((s) => s.service));
    const ids = new Set(t.map((s) => s.spanId));
    const consumed = new Set(t.filter((s) => s.name === 'consume order.confirmed').map((s) => s.service));
    return need.every((n) => services.has(n)) && (!CONSUMED || CONSUMERS.every((c) => consumed.has(c))) &&
      t.every((s) => !s.parentSpanId || ids.has(s.parentSpanId));
  };
  for (const deadline = Date.now() + 60000; !complete() && Date.now() < deadline;) await sleep(250);
  assert.ok(complete(), `spans of trace ${traceId}: ${JSON.stringify(mine().map((s) => [s.service, s.name]))}`);
  const t = mine();

  // One root: the gateway's server span of POST /api/v1/orders.
  const ids = new Set(t.map((s) => s.spanId));
  const roots = t.filter((s) => !s.parentSpanId);
  assert.deepEqual(roots.map((s) => [s.service, s.name]), [['gateway', 'POST /api/v1/orders']]);
  for (const s of t) if (s.parentSpanId) assert.ok(ids.has(s.parentSpanId), `${s.service} ${s.name} has a parent in the trace`);

  // gateway → order
  const [gwServer] = roots;
  const [gwCall] = childOf(t, gwServer, (s) => s.kind === 3 && attr(s, 'peer.service') === 'order');
  assert.ok(gwCall, 'the gateway calls order');
  const [orderServer] = childOf(t, gwCall, (s) => s.service === 'order' && s.kind === 2);
  assert.ok(orderServer, 'order serves the gateway call');

  // order → cart, product, shipping, payment (each a client span with the
  // callee's server span under it)
  for (const callee of ['cart', 'product', 'shipping', 'payment']) {
    const calls = childOf(t, orderServer, (s) => s.kind === 3 && attr(s, 'peer.service') === callee);
    assert.ok(calls.length > 0, `order calls ${callee}`);
    const served = calls.flatMap((c) => childOf(t, c, (s) => s.service === callee && s.kind === 2));
    assert.ok(served.length > 0, `${callee} serves order's call`);
  }

  // payment → sandbox card processor
  const payment = t.filter((s) => s.service === 'payment' && s.kind === 2);
  const toSandbox = payment.flatMap((p) => childOf(t, p, (s) => attr(s, 'peer.service') === 'sandbox-payment'));
  assert.ok(toSandbox.length > 0, 'payment calls the sandbox processor');
  assert.ok(toSandbox.some((c) => childOf(t, c, (s) => s.service === 'sandbox-payment' && s.kind === 2).length > 0),
    'the sandbox processor serves it');

  // order.confirmed: emitted under order's request, published by its relay,
  // consumed under the publish span.
  const emit = t.find((s) => s.name === 'emit order.confirmed');
  assert.ok(emit && emit.service === 'order', 'order emits order.confirmed');
  const publish = t.find((s) => s.name === 'publish order.confirmed');
  assert.ok(publish && publish.parentSpanId === emit.spanId, 'the relay publishes under the emit span');
  const consumers = t.filter((s) => s.name === 'consume order.confirmed');
  assert.ok((!CONSUMED || consumers.length > 0) && consumers.every((c) => c.parentSpanId === publish.spanId),
    'consumers hang under the publish span');
  // Every consumer of the event, as its code declares, and no other service.
  assert.ok(CONSUMERS.length >= 5, `consumers found in src/services: ${CONSUMERS}`);
  assert.deepEqual([...new Set(consumers.map((c) => c.service))].sort(), CONSUMERS);

  // Database transactions are spans of the services that ran them.
  assert.ok(t.some((s) => s.service === 'order' && s.name === 'tx order'), 'order\'s transactions are traced');
});
