// lib.mjs - shared helpers for the system tests: where the platform is, and
// small wrappers around fetch that keep the tests about behaviour.
import { execFile, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readFileSync, readlinkSync } from 'node:fs';
import { checkExchange, contractFor } from '../contract/contract.mjs';

export const BASE = process.env.SHOPSPHERE_TEST_BASE_URL ?? 'http://127.0.0.1:18080';
export const PORT_BASE = Number(process.env.SHOPSPHERE_PORT_BASE ?? 18080);
export const ROOT = process.env.SHOPSPHERE_ROOT ?? new URL('../..', import.meta.url).pathname;
export const API = `${BASE}/api/v1`;

export const SERVICES = {
  gateway: 0, user: 1, product: 2, cart: 3, order: 4, payment: 5, shipping: 6,
  review: 7, notification: 8, admin: 9, auth: 10, search: 11, recommendation: 12,
  'sandbox-payment': 15, 'sandbox-courier': 16, 'sandbox-mail': 17,
};

export function serviceUrl(name) {
  return `http://127.0.0.1:${PORT_BASE + SERVICES[name]}`;
}

// fetch that returns {status, headers, body (parsed JSON when possible), text}.
export async function call(url, { method = 'GET', headers = {}, body, raw } = {}) {
  const init = { method, headers: { ...headers } };
  if (raw !== undefined) {
    init.body = raw;
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['content-type'] ??= 'application/json';
  }
  let res;
  try {
    res = await fetch(url, init);
  } catch (e) {
    // A kept-alive connection the server closed as we reused it fails
    // before any answer (undici: "other side closed", ECONNRESET). Browsers
    // retry such a request when repeating it is harmless; so do we, once,
    // for reads and sign-ins, and say why when it fails for good.
    const cause = e.cause ? `${e.cause.code ?? ''} ${e.cause.message ?? ''}`.trim() : '';
    const harmless = ['GET', 'HEAD', 'OPTIONS'].includes(method) || /\/auth\/login$/.test(url);
    if (!harmless) throw new Error(`${method} ${url}: ${e.message}${cause ? ` (${cause})` : ''}`);
    try {
      res = await fetch(url, init);
    } catch (e2) {
      const cause2 = e2.cause ? `${e2.cause.code ?? ''} ${e2.cause.message ?? ''}`.trim() : '';
      throw new Error(`${method} ${url}: ${e2.message} twice (${cause}; ${cause2})`);
    }
  }
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  const out = { status: res.status, headers: res.headers, body: json, text };
  checkContract({ method, url, headers: init.headers, body: init.body }, out);
  return out;
}

// --- the API contract ------------------------------------------------------------
// Every exchange of call() is checked against the OpenAPI documents
// (api/openapi.yaml through the gateway, on a service's own port and for
// every port's probes, api/sandbox.yaml and api/sandbox-mail.yaml for the simulated external
// systems): a status, field,
// type or parameter the document does not describe fails the test. Not
// checked: the gateway's static web files and the services' internal API
// (docs/internal-api.md), which are not part of the public contract.
const PROBES = new Set(['/healthz', '/readyz', '/metrics']);
const SANDBOXES = {
  'sandbox-payment': 'sandbox.yaml', 'sandbox-courier': 'sandbox.yaml', 'sandbox-mail': 'sandbox-mail.yaml',
};

function documentFor(url) {
  const u = new URL(url);
  const port = Number(u.port || 80);
  const name = Object.keys(SERVICES).find((n) => PORT_BASE + SERVICES[n] === port);
  if (u.hostname !== '127.0.0.1' && u.hostname !== 'localhost') return null;
  if (name === undefined) return null;
  if (PROBES.has(u.pathname)) return 'openapi.yaml'; // every port's probes
  if (SANDBOXES[name]) return SANDBOXES[name];
  if (name === 'gateway') {
    if (u.pathname === '/api' || u.pathname.startsWith('/api/')) return 'openapi.yaml';
    if (u.pathname.startsWith('/.well-known/') || u.pathname === '/graphql') return 'openapi.yaml';
    return null; // static files, /docs
  }
  // A service's own port answers its public routes as the gateway does.
  if (u.pathname.startsWith('/api/')) return 'openapi.yaml';
  return null; // a service's internal API (docs/internal-api.md)
}

const HITS_DIR = process.env.SHOPSPHERE_CONTRACT_HITS;
const hits = new Set();
if (HITS_DIR) {
  process.on('exit', () => {
    if (!hits.size) return;
    mkdirSync(HITS_DIR, { recursive: true });
    appendFileSync(`${HITS_DIR}/hits-${process.pid}.txt`, `${[...hits].join('\n')}\n`);
  });
}

// Throws when the exchange differs from the document, naming the operation,
// the status and each field.
export function checkContract(req, res) {
  const doc = documentFor(req.url);
  if (!doc) return;
  // A CORS preflight is the browser's question to the gateway, answered
  // for every path by the edge (docs/gateway.md), not an API operation.
  const h = Object.fromEntries(Object.entries(req.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  if (req.method.toUpperCase() === 'OPTIONS' && h['access-control-request-method']) return;
  const { operation, problems } = checkExchange(contractFor(doc), req, res);
  if (operation) hits.add(`${doc} ${operation.id} ${res.status}`);
  if (problems.length && process.env.SHOPSPHERE_CONTRACT_LOG) {
    // Survey mode (docs/api.md): record every difference, fail nothing.
    appendFileSync(process.env.SHOPSPHERE_CONTRACT_LOG, `${req.method} ${req.url}\n  ${problems.join('\n  ')}\n`);
    return;
  }
  if (problems.length) {
    const err = new Error(`API contract (api/${doc}): ${req.method} ${req.url}\n  ${problems.join('\n  ')}`);
    err.contract = problems;
    throw err;
  }
}

// Asserts the standard error envelope with the given status and code.
export function assertEnvelope(res, status, code) {
  assert.equal(res.status, status, `status ${res.status}: ${res.text}`);
  assert.ok(res.body && res.body.error, `no error envelope: ${res.text}`);
  assert.equal(res.body.error.code, code);
  assert.equal(typeof res.body.error.message, 'string');
  assert.ok('details' in res.body.error);
  assert.match(res.body.trace_id, /^[0-9a-f]{32}$/);
  assert.ok(res.headers.get('x-request-id'));
}

export function infra(...args) {
  return execFileSync(`${ROOT}/scripts/infra.sh`, args, {
    encoding: 'utf8', env: process.env, stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls fn until it returns a truthy value or timeoutMs passes.
export async function eventually(fn, timeoutMs, intervalMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) { last = e; }
    await sleep(intervalMs);
  }
  throw new Error(`condition not met within ${timeoutMs} ms (last: ${last})`);
}

// The demo admin's access token. Retried while the auth service warms up,
// at most 9 attempts: 10 failed logins would lock the account a while.
export async function adminToken() {
  const email = process.env.SHOPSPHERE_ADMIN_EMAIL;
  const password = process.env.SHOPSPHERE_ADMIN_PASSWORD;
  assert.ok(email && password, 'SHOPSPHERE_ADMIN_EMAIL / _PASSWORD must be set (scripts/profile.sh)');
  return eventually(async () => {
    const r = await call(`${API}/auth/login`, { method: 'POST', body: { email, password } });
    return r.status === 200 ? r.body.access_token : null;
  }, 40000, 4500);
}

// A category of a suite's own (its products stay apart from others').
export async function newCategory(adminToken, name, slug, parentId) {
  const c = await call(`${API}/categories`, {
    method: 'POST', headers: { authorization: `Bearer ${adminToken}` },
    body: parentId ? { name, slug, parent_id: parentId } : { name, slug },
  });
  assert.equal(c.status, 201, `create category: ${c.text}`);
  return c.body.id;
}

// A customer of a suite's own: registers `${tag}-N@example.com` and signs in
// (retrying while the auth service is too busy: a login changes nothing).
// Answers {id, email, token}.
let customerSeq = 0;
export async function newCustomer(tag) {
  const n = `${tag}-${process.pid}-${++customerSeq}-${Date.now() % 100000}`;
  const email = `${n}@example.com`;
  const password = `Secret-${n}-pass!`;
  const r = await call(`${API}/users`, {
    method: 'POST',
    body: { email, password, username: n.replace(/-/g, '_'), first_name: 'Customer', last_name: n, phone: '+15555550100' },
  });
  assert.equal(r.status, 201, `register: ${r.text}`);
  let login;
  for (let i = 0; i < 20; i++) {
    login = await call(`${API}/auth/login`, { method: 'POST', body: { email, password } })
      .catch((e) => ({ status: 599, text: String(e) }));
    if (login.status < 500) break;
    await sleep(1000);
  }
  assert.equal(login.status, 200, `login ${email}: ${login.text}`);
  return { id: r.body.id, email, token: login.body.access_token };
}

// A confirmed order of [[product, quantity], ...] paid with the sandbox's
// test card (the checkout retried while a reservation is contended).
export async function placeOrder(shopper, lines) {
  const auth = { authorization: `Bearer ${shopper.token}` };
  const c = await call(`${API}/carts`, { method: 'POST', headers: auth, body: {} });
  assert.equal(c.status, 201, `create cart: ${c.text}`);
  for (const [product, quantity] of lines) {
    const r = await call(`${API}/carts/${c.body.id}/items`, {
      method: 'POST', headers: auth, body: { product_id: product.id, quantity },
    });
    assert.equal(r.status, 201, `add item: ${r.text}`);
  }
  const key = randomUUID();
  const body = {
    cart_id: c.body.id, shipping_method: 'standard', payment_method: { type: 'card', token: 'tok_visa' },
    shipping_address: { first_name: 'Ada', last_name: 'Lovelace', line1: '1 Market St', city: 'San Francisco',
      state: 'CA', postal_code: '94105', country: 'US', phone: '+14155550100' },
  };
  const o = await eventually(async () => {
    const r = await call(`${API}/orders`, { method: 'POST', headers: { ...auth, 'idempotency-key': key }, body });
    return r.status < 500 && r.status !== 409 ? r : null;
  }, 60000, 300);
  assert.equal(o.status, 201, `checkout: ${o.text}`);
  assert.equal(o.body.status, 'confirmed');
  return o.body;
}

// The binary the platform under test runs: the supervisor's own executable.
export function shopsphereBinary() {
  const pid = readFileSync(`${process.env.SHOPSPHERE_VAR_DIR}/platform.pid`, 'utf8').trim();
  return readlinkSync(`/proc/${pid}/exe`);
}

// Runs `shopsphere ARGS...` with the test profile's environment; resolves
// {code, stdout, stderr} (never rejects).
export function runShopsphere(args, { timeout = 60000 } = {}) {
  return new Promise((resolve) => {
    execFile(shopsphereBinary(), args, { env: process.env, timeout, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr });
      });
  });
}
