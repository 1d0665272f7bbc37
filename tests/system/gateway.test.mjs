// gateway.test.mjs - the edge as a client sees it: every service behind it,
// authentication before the service, rate limits per client and class, the
// breaker per upstream, timeouts, CORS, header caps, ids and traces, web
// files and API docs, the catalog cache, and the rate limiter without Redis.
//
// Covered in platform.test.mjs and not repeated here: 404/405 envelopes,
// traceparent in error bodies, a body over the cap (413, declared and
// chunked) and a connection that never finishes its headers being closed.
//
// Every suite reaches the gateway from 127.0.0.1. The rate-limit tests use
// loopback addresses of their own (127.x.y.z, random per run), so they can
// exhaust a budget without touching anyone else's; the test profiles give
// the `docs` class a small budget for them (scripts/profile.sh).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import {
  API, BASE, SERVICES, assertEnvelope, call, eventually, infra, serviceUrl,
} from './lib.mjs';

const PROFILE = process.env.SHOPSPHERE_PROFILE ?? 'test';
const VAR_DIR = process.env.SHOPSPHERE_VAR_DIR;
const GATEWAY = new URL(BASE);

// A loopback address no other test uses: 127.<random>.<random>.<n>.
const NET = `127.${10 + Math.floor(Math.random() * 240)}.${Math.floor(Math.random() * 250)}`;
let nextHost = 1;
const freshAddress = () => `${NET}.${nextHost++}`;

// A request to the gateway from a chosen local address (fetch cannot bind).
function callFrom(address, path, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: GATEWAY.hostname, port: GATEWAY.port, path, method, headers,
      localAddress: address, agent: false,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: new Headers(res.headers), body: json, text });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// The sum of a Prometheus family's samples whose labels all match.
function metricSum(text, name, labels = {}) {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const m = line.match(/^[a-z_]+(?:\{(.*)\})? ([0-9.eE+-]+)$/);
    if (!m) continue;
    const have = Object.fromEntries([...(m[1] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)]
      .map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => (v instanceof RegExp ? v.test(have[k] ?? '') : have[k] === v))) {
      sum += Number(m[2]);
    }
  }
  return sum;
}

const gatewayMetrics = async () => (await call(`${BASE}/metrics`)).text;
const breakerState = async (upstream) =>
  metricSum(await gatewayMetrics(), 'upstream_breaker_state', { upstream });

test('every service and sandbox is reachable through the gateway', async () => {
  for (const name of Object.keys(SERVICES)) {
    if (name === 'gateway') continue;
    const r = await call(`${API}/health/${name}`);
    assert.equal(r.status, 200, `${name}: ${r.text}`);
    assert.equal(r.body.service, name);
    assert.match(r.headers.get('ratelimit-limit'), /^\d+$/);
    assert.ok(r.headers.get('x-request-id'));
  }
});

test('a protected route without a token is 401 from the gateway; the service never sees it', async () => {
  const before = await call(`${serviceUrl('order')}/metrics`);
  const userBefore = await call(`${serviceUrl('user')}/metrics`);
  const productBefore = await call(`${serviceUrl('product')}/metrics`);
  const apiRoutes = { service: /.*/, route: /^\/api\/v1\// };

  for (const [method, path] of [
    ['GET', '/orders'], ['POST', '/orders'], ['GET', '/orders/0190a8c4-7f5e-7cc1-b2a5-1234567890ab'],
  ]) {
    const r = await call(`${API}${path}`, { method, body: method === 'POST' ? {} : undefined });
    assertEnvelope(r, 401, 'AUTHENTICATION_ERROR');
  }
  assertEnvelope(await call(`${API}/users/me`), 401, 'AUTHENTICATION_ERROR');
  assertEnvelope(await call(`${API}/users/me`, { headers: { authorization: 'Bearer not.a.token' } }),
    401, 'AUTHENTICATION_ERROR');
  // Method-aware: reading the catalog is public, writing it is not.
  assertEnvelope(await call(`${API}/products`, { method: 'POST', body: { name: 'x' } }),
    401, 'AUTHENTICATION_ERROR');
  assertEnvelope(await call(`${API}/admin/reports/dashboard`), 401, 'AUTHENTICATION_ERROR');
  assert.notEqual((await call(`${API}/products`)).status, 401);

  const after = await call(`${serviceUrl('order')}/metrics`);
  const userAfter = await call(`${serviceUrl('user')}/metrics`);
  const productAfter = await call(`${serviceUrl('product')}/metrics`);
  assert.equal(metricSum(after.text, 'http_requests_total', apiRoutes),
    metricSum(before.text, 'http_requests_total', apiRoutes), 'the order service saw a refused request');
  assert.equal(metricSum(userAfter.text, 'http_requests_total', apiRoutes),
    metricSum(userBefore.text, 'http_requests_total', apiRoutes), 'the user service saw a refused request');
  // The product service saw exactly the one public GET, not the POST.
  const postsBefore = metricSum(productBefore.text, 'http_requests_total', { ...apiRoutes, method: 'POST' });
  const postsAfter = metricSum(productAfter.text, 'http_requests_total', { ...apiRoutes, method: 'POST' });
  assert.equal(postsAfter, postsBefore);
  // The gateway counted them, by route.
  const gw = await gatewayMetrics();
  assert.ok(metricSum(gw, 'http_requests_total', { service: 'gateway', route: '/api/v1/orders', status: '401' }) >= 2);
});

test('a known API path with a method it does not take is 405 with Allow; an unknown one 404', async () => {
  const r = await call(`${API}/orders`, { method: 'PUT', body: {} });
  assertEnvelope(r, 405, 'VALIDATION_ERROR');
  assert.match(r.headers.get('allow'), /GET/);
  assert.match(r.headers.get('allow'), /POST/);
  assertEnvelope(await call(`${API}/no-such-resource/1`, { method: 'PUT', body: {} }), 404, 'NOT_FOUND');
  assertEnvelope(await call(`${API}/internal/products/batch`, { method: 'POST', body: {} }), 404, 'NOT_FOUND');
  assertEnvelope(await call(`${BASE}/internal/products/batch`, { method: 'POST', body: {} }), 404, 'NOT_FOUND');
});

test('dot segments never smuggle a request to an internal route', async () => {
  // Resolved on the way, these would be the product service's
  // GET /internal/reservations/{order_id} (docs/internal-api.md).
  const internal = { route: '/internal/reservations/{order_id}', method: 'GET' };
  const before = metricSum((await call(`${serviceUrl('product')}/metrics`)).text,
    'http_requests_total', internal);
  const order = '0190a8c4-7f5e-7cc1-b2a5-1234567890ab';
  // Public routes, so the router lets them through to the edge's check.
  for (const [method, path] of [
    ['GET', `/api/v1/products/../../../internal/reservations/${order}`],
    ['GET', `/api/v1/products/%2e%2e/%2E%2E/%2e%2e/internal/reservations/${order}`],
    ['GET', `/api/v1/products/x/..%2f..%2f..%2f..%2finternal/reservations/${order}`],
    ['POST', '/api/v1/carts/x/./../../../../internal/products/batch'],
    ['POST', '/api/v1/carts/..%2f..%2f..%2finternal/products/batch'],
  ]) {
    const r = await callFrom('127.0.0.1', path, {
      method, headers: { 'content-type': 'application/json' },
      body: method === 'POST' ? '{"ids":[]}' : undefined,
    });
    assertEnvelope(r, 404, 'NOT_FOUND');
  }
  const after = metricSum((await call(`${serviceUrl('product')}/metrics`)).text,
    'http_requests_total', internal);
  assert.equal(after, before, 'an internal route of the product service was reached');
});

test('one client past its budget gets 429 with Retry-After; another client is unaffected', async () => {
  const greedy = freshAddress();
  const other = freshAddress();
  const path = '/docs/openapi.yaml';
  const first = await callFrom(greedy, path);
  assert.equal(first.status, 200, first.text.slice(0, 200));
  const limit = Number(first.headers.get('ratelimit-limit'));
  assert.ok(limit >= 1 && limit <= 500, `the docs budget of the test profile is small (got ${limit})`);
  assert.equal(Number(first.headers.get('ratelimit-remaining')), limit - 1);
  assert.ok(Number(first.headers.get('ratelimit-reset')) >= 1);

  let refused;
  for (let i = 1; i < limit + 5 && !refused; i++) {
    const r = await callFrom(greedy, path);
    if (r.status === 429) refused = r;
    else assert.equal(r.status, 200);
  }
  assert.ok(refused, `no 429 after ${limit + 5} requests`);
  assertEnvelope(refused, 429, 'RATE_LIMITED');
  assert.ok(Number(refused.headers.get('retry-after')) >= 1);
  assert.equal(refused.headers.get('ratelimit-remaining'), '0');
  assert.equal(Number(refused.headers.get('ratelimit-limit')), limit);

  // Another address has its whole budget.
  const fine = await callFrom(other, path);
  assert.equal(fine.status, 200);
  assert.equal(Number(fine.headers.get('ratelimit-remaining')), limit - 1);
  // The same greedy client in another class is unaffected too.
  const api = await callFrom(greedy, '/api/v1/health/product');
  assert.equal(api.status, 200);
  assert.ok(Number(api.headers.get('ratelimit-limit')) > limit);

  const gw = await gatewayMetrics();
  assert.ok(metricSum(gw, 'gateway_rate_limited_total', { class: 'docs' }) >= 1);
});

test('a hung upstream is a 504 at the timeout; only idempotent calls are retried', { timeout: 90000 }, async () => {
  const { pid } = (await call(`${serviceUrl('cart')}/healthz`)).body;
  const timeouts = async () => metricSum(await gatewayMetrics(), 'upstream_calls_total',
    { upstream: 'cart', outcome: 'timeout' });
  const t0 = await timeouts();
  process.kill(pid, 'SIGSTOP');
  try {
    const started = Date.now();
    const post = await call(`${API}/carts`, { method: 'POST', body: {} });
    const postMs = Date.now() - started;
    assertEnvelope(post, 504, 'TIMEOUT_ERROR');
    assert.equal(await timeouts(), t0 + 1, 'a POST is never retried');
    const get = await call(`${API}/carts/0190a8c4-7f5e-7cc1-b2a5-1234567890ab`);
    assertEnvelope(get, 504, 'TIMEOUT_ERROR');
    const retries = Number(process.env.SHOPSPHERE_UPSTREAM_RETRIES ?? 2);
    assert.equal(await timeouts(), t0 + 1 + 1 + retries, 'a GET is tried 1 + retries times');
    assert.ok(postMs < 15000, `the POST took ${postMs} ms`);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  await eventually(async () => (await call(`${API}/health/cart`)).status === 200, 30000);
});

test('a stopped upstream is a 503 at once; the breaker opens, half-opens and closes once it is back',
  { timeout: 120000 }, async () => {
    const svc = 'recommendation';
    assert.equal((await call(`${API}/health/${svc}`)).status, 200);
    await eventually(async () => (await breakerState(svc)) === 0, 30000);
    const { pid } = (await call(`${serviceUrl(svc)}/healthz`)).body;
    // The supervisor would restart the process at once: pause it first, so
    // the service stays down until we let it come back.
    const ppid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
    const supervisor = readFileSync(`/proc/${ppid}/cmdline`, 'utf8').split('\0');
    assert.ok(supervisor.includes('up'), `the parent of ${svc} is \`shopsphere up\`: ${supervisor}`);
    process.kill(ppid, 'SIGSTOP');
    let supervisorStopped = true;
    try {
      process.kill(pid, 'SIGKILL');
      await eventually(() => new Promise((resolve) => {
        const s = net.connect(Number(new URL(serviceUrl(svc)).port), '127.0.0.1');
        s.on('connect', () => { s.destroy(); resolve(false); });
        s.on('error', () => resolve(true));
      }), 5000);

      // Refused connections: 503 well within the upstream timeout, until
      // enough failures open the breaker.
      const volume = Number(process.env.SHOPSPHERE_BREAKER_VOLUME ?? 20);
      for (let i = 0; i < volume && (await breakerState(svc)) !== 1; i++) {
        const started = Date.now();
        const r = await call(`${API}/recommendations/products/0190a8c4-7f5e-7cc1-b2a5-1234567890ab`);
        assertEnvelope(r, 503, 'SERVICE_UNAVAILABLE');
        assert.ok(Date.now() - started < 5000);
      }
      assert.equal(await breakerState(svc), 1, 'the breaker is open');
      const before = metricSum(await gatewayMetrics(), 'upstream_calls_total', { upstream: svc, outcome: 'breaker_open' });
      const started = Date.now();
      const open = await call(`${API}/health/${svc}`);
      assertEnvelope(open, 503, 'SERVICE_UNAVAILABLE');
      assert.match(open.body.error.message, /circuit open/);
      assert.ok(Date.now() - started < 1000, 'an open breaker answers at once');
      const afterOpen = metricSum(await gatewayMetrics(), 'upstream_calls_total', { upstream: svc, outcome: 'breaker_open' });
      assert.ok(afterOpen > before);

      // After the sleep (short in the test profiles) it would let a trial through.
      await eventually(async () => (await breakerState(svc)) === 2, 60000, 200);

      process.kill(ppid, 'SIGCONT');
      supervisorStopped = false;
      await eventually(async () => (await call(`${serviceUrl(svc)}/healthz`)).status === 200, 30000);
      // The trial succeeds and the breaker closes.
      const back = await eventually(async () => {
        const r = await call(`${API}/health/${svc}`);
        return r.status === 200 ? r : null;
      }, 60000, 250);
      assert.equal(back.body.service, svc);
      assert.equal(await breakerState(svc), 0, 'the breaker is closed again');
    } finally {
      if (supervisorStopped) process.kill(ppid, 'SIGCONT');
    }
  });

test('CORS: preflight answered for allowed origins, refused for others', async () => {
  const allowed = (process.env.SHOPSPHERE_CORS_ORIGINS ?? GATEWAY.origin).split(',')[0].trim();
  const pre = await call(`${API}/products`, {
    method: 'OPTIONS',
    headers: {
      origin: allowed,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), allowed);
  assert.match(pre.headers.get('access-control-allow-methods'), /POST/);
  assert.match(pre.headers.get('access-control-allow-headers'), /Authorization/i);
  assert.match(pre.headers.get('access-control-allow-headers'), /Content-Type/i);
  assert.ok(Number(pre.headers.get('access-control-max-age')) > 0);

  // A preflight needs no token even where the route does.
  const preOrders = await call(`${API}/orders`, {
    method: 'OPTIONS', headers: { origin: allowed, 'access-control-request-method': 'POST' },
  });
  assert.equal(preOrders.status, 204);

  const evil = await call(`${API}/products`, {
    method: 'OPTIONS',
    headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
  });
  assertEnvelope(evil, 403, 'AUTHORIZATION_ERROR');
  assert.equal(evil.headers.get('access-control-allow-origin'), null);

  const simple = await call(`${API}/health/product`, { headers: { origin: allowed } });
  assert.equal(simple.headers.get('access-control-allow-origin'), allowed);
  assert.match(simple.headers.get('access-control-expose-headers'), /RateLimit-Remaining/);
  assert.match(simple.headers.get('vary'), /Origin/);
  const other = await call(`${API}/health/product`, { headers: { origin: 'https://evil.example' } });
  assert.equal(other.headers.get('access-control-allow-origin'), null);
});

test('request headers beyond the cap are refused', async () => {
  const r = await new Promise((resolve, reject) => {
    const sock = net.connect(Number(GATEWAY.port), '127.0.0.1', () => {
      sock.write(`GET /api/v1/health/product HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(40 * 1024)}\r\n\r\n`);
    });
    let data = '';
    sock.on('data', (c) => { data += c.toString(); });
    sock.on('close', () => resolve(data));
    sock.on('error', () => resolve(data));
    setTimeout(() => { sock.destroy(); reject(new Error('no answer')); }, 20000);
  });
  // libmicrohttpd answers 431 Request Header Fields Too Large (413 in older
  // releases) and closes the connection.
  assert.match(r, /^HTTP\/1\.1 (431|413) /);
});

test('X-Request-Id is echoed through a proxied route, and one trace id is in the gateway and service logs',
  { timeout: 30000 }, async () => {
    const trace = [...crypto.getRandomValues(new Uint8Array(16))]
      .map((b) => b.toString(16).padStart(2, '0')).join('');
    const rid = `gw-test-${trace.slice(0, 12)}`;
    const r = await call(`${API}/health/product`, {
      headers: { 'x-request-id': rid, traceparent: `00-${trace}-00f067aa0ba902b7-01` },
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-request-id'), rid);
    assert.match(r.headers.get('traceparent'), new RegExp(`^00-${trace}-`));
    assert.ok(VAR_DIR, 'SHOPSPHERE_VAR_DIR is set by scripts/test.sh');
    const lines = await eventually(() => {
      const log = readFileSync(`${VAR_DIR}/platform.log`, 'utf8');
      const mine = log.split('\n').filter((l) => l.includes(trace));
      const gw = mine.find((l) => l.includes('"service":"gateway"') && l.includes('"msg":"request"'));
      const svc = mine.find((l) => l.includes('"service":"product"'));
      return gw && svc ? { gw, svc } : null;
    }, 10000);
    const access = JSON.parse(lines.gw.slice(lines.gw.indexOf('{')));
    assert.equal(access.trace_id, trace);
    assert.equal(access.request_id, rid);
    assert.equal(access.method, 'GET');
    assert.equal(access.route, '/api/v1/health/{service}');
    assert.equal(access.status, 200);
    assert.equal(access.upstream, 'product');
    assert.equal(access.user_id, null);
    assert.equal(typeof access.bytes, 'number');
    assert.equal(typeof access.latency_ms, 'number');
    assert.equal(JSON.parse(lines.svc.slice(lines.svc.indexOf('{'))).trace_id, trace);
  });

test('web files: storefront and admin with SPA fallback, ETag and Cache-Control', async () => {
  const home = await call(`${BASE}/`);
  assert.equal(home.status, 200);
  assert.match(home.headers.get('content-type'), /text\/html/);
  assert.match(home.text, /<html/i);
  const etag = home.headers.get('etag');
  assert.match(etag, /^"[0-9a-f-]+"$/);
  assert.equal(home.headers.get('cache-control'), 'no-cache');
  const again = await call(`${BASE}/`, { headers: { 'if-none-match': etag } });
  assert.equal(again.status, 304);
  assert.equal(again.text, '');

  // A client-side route: a browser gets the app, an API client a 404.
  const page = await call(`${BASE}/products/some-product`, { headers: { accept: 'text/html,*/*;q=0.8' } });
  assert.equal(page.status, 200);
  assert.equal(page.text, home.text);
  assertEnvelope(await call(`${BASE}/products/some-product`), 404, 'NOT_FOUND');

  const admin = await call(`${BASE}/admin/`);
  assert.equal(admin.status, 200);
  assert.match(admin.text, /admin/i);
  const adminPage = await call(`${BASE}/admin/orders/42`, { headers: { accept: 'text/html' } });
  assert.equal(adminPage.status, 200);
  assert.equal(adminPage.text, admin.text);
  const redirect = await fetch(`${BASE}/admin`, { redirect: 'manual' });
  assert.equal(redirect.status, 308);
  assert.equal(redirect.headers.get('location'), '/admin/');

  // Nothing outside the web root, however the path is spelled.
  for (const p of ['/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fetc/passwd', '/assets/%2e%2e/%2e%2e/CMakeLists.txt']) {
    const r = await callFrom('127.0.0.1', p, { headers: { accept: 'application/json' } });
    assert.equal(r.status, 404, p);
  }
  assertEnvelope(await call(`${BASE}/`, { method: 'POST', raw: '{}' }), 405, 'VALIDATION_ERROR');
});

test('API docs: Swagger UI at /docs renders api/openapi.yaml', async () => {
  const me = freshAddress(); // the docs budget of this profile is small
  const page = await callFrom(me, '/docs');
  assert.equal(page.status, 200);
  assert.match(page.text, /swagger-ui-bundle\.js/);
  assert.match(page.text, /\/docs\/openapi\.yaml/);
  const spec = await callFrom(me, '/docs/openapi.yaml');
  assert.equal(spec.status, 200);
  assert.match(spec.headers.get('content-type'), /yaml/);
  assert.match(spec.text, /^openapi: 3\.\d+\.\d+/m);
  assert.match(spec.text, /\/products\/\{id\}:/);
  const bundle = await callFrom(me, '/docs/swagger-ui/swagger-ui-bundle.js');
  assert.equal(bundle.status, 200);
  assert.match(bundle.headers.get('content-type'), /javascript/);
  assert.ok(bundle.text.length > 100000);
  assert.equal((await callFrom(me, '/docs/swagger-ui/../package.json')).status, 404);
});

test('anonymous catalog reads go through the edge cache, honouring Cache-Control', async () => {
  // A URL of its own (a cache key no other read shares): a documented
  // filter with a value that filters nothing.
  const url = `${API}/products?limit=2&max_price=${900000 + Math.floor(Math.random() * 99999)}`;
  const first = await call(url);
  assert.equal(first.headers.get('x-cache'), 'MISS');
  const cc = first.headers.get('cache-control') ?? '';
  const shared = /(?:s-maxage|max-age)=(\d+)/.exec(cc);
  const storable = first.status === 200 && shared && Number(shared[1]) > 0 &&
    !/no-store|no-cache|private/.test(cc);
  if (storable) {
    // The entry lives as long as the service allows (maybe 1 s): a read
    // right after a miss is a hit, given a few tries on a loaded machine.
    let hit;
    for (let i = 0; i < 5 && !hit; i++) {
      const a = await call(url);
      const b = await call(url);
      if (b.headers.get('x-cache') === 'HIT') hit = { a, b };
    }
    assert.ok(hit, 'a second read right after the first was never a HIT');
    assert.equal(hit.b.text, hit.a.text);
    assert.match(hit.b.headers.get('age'), /^\d+$/);
    assert.equal(hit.b.headers.get('cache-control'), cc);
  } else {
    const second = await call(url);
    assert.equal(second.headers.get('x-cache'), 'MISS', `not storable: ${first.status} ${cc}`);
  }
  // A caller with credentials is never served from the cache.
  const withCookie = await call(url, { headers: { cookie: 'session=x' } });
  assert.equal(withCookie.headers.get('x-cache'), null);
  // Carts are never cached.
  const cart = await call(`${API}/carts/0190a8c4-7f5e-7cc1-b2a5-1234567890ab`);
  assert.equal(cart.headers.get('x-cache'), null);
});

test('without Redis the in-process rate limiter takes over, and says so', { timeout: 120000 }, async () => {
  const me = freshAddress();
  const ok = await callFrom(me, '/api/v1/health/product');
  assert.equal(ok.status, 200);
  infra('stop', 'redis', '--profile', PROFILE);
  try {
    const r = await eventually(async () => {
      const x = await callFrom(me, '/api/v1/health/product');
      return x.status === 200 && x.headers.get('ratelimit-limit') ? x : null;
    }, 10000);
    assert.match(r.headers.get('ratelimit-remaining'), /^\d+$/);
    const m = await gatewayMetrics();
    assert.equal(metricSum(m, 'ratelimit_local_active'), 1);
    assert.ok(metricSum(m, 'ratelimit_decisions_total', { backend: 'local' }) >= 1);
  } finally {
    infra('start', 'redis', '--profile', PROFILE);
  }
  // Redis is tried again a few seconds later and decides once more.
  await eventually(async () => {
    await callFrom(me, '/api/v1/health/product');
    return metricSum(await gatewayMetrics(), 'ratelimit_local_active') === 0;
  }, 30000, 500);
});
