// security.test.mjs - the attacks shops actually see, black box through the
// gateway (issue 19): broken object-level authorization on every resource
// type, mass assignment, excessive data exposure, JWT forgery, refresh and
// reset token reuse, injection probes, request smuggling and header abuse at
// the gateway (raw sockets), hardening headers, CORS, the gateway's
// connection bound, the sandbox card processor's fault switch and per-address
// login throttling.
//
// Black box except where a clock cannot be waited for: an expired or
// wrongly addressed token needs the real signing key, and an expired reset
// token a 30-minute wait, so those two read or age a row with psql (the
// test profile's database, like the crash tests kill processes).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import crypto, { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import {
  API, BASE, assertEnvelope, call, eventually, serviceUrl, sleep, adminToken, newCategory,
} from './lib.mjs';

const RUN = randomUUID().slice(0, 8);
const GATEWAY = new URL(BASE);
const PASSWORD = 'Sturdy-Password-4711';
const bearer = (token) => ({ authorization: `Bearer ${token}` });
let seq = 0;
let admin;
let categoryId;

// A loopback address of this run's own (the gateway keys limits by peer).
const NET = `127.${10 + Math.floor(Math.random() * 240)}.${Math.floor(Math.random() * 250)}`;
let nextHost = 1;
const freshAddress = () => `${NET}.${nextHost++}`;

const ADDRESS = {
  first_name: 'Mallory', last_name: 'Tester', line1: '1 Market St', city: 'San Francisco',
  state: 'CA', postal_code: '94105', country: 'US', phone: '+14155550100',
};

function sql(query) {
  return execFileSync('psql', [process.env.SHOPSPHERE_DATABASE_URL, '-XAtqc', query], { encoding: 'utf8' }).trim();
}

// --- what no answer may ever carry ---------------------------------------------
const SECRET_KEYS = /^(password|password_hash|hash|.*_hash|secret|.*_secret|private_key|private_pem|pem|salt|api_key|internal_token|token|reset_token|card_number|cvc|d|p|q|dp|dq|qi)$/i;
const SECRET_VALUES = [/\$argon2id?\$/, /BEGIN [A-Z ]*PRIVATE KEY/, /\bPKCS8\b/];
const ENV_SECRETS = ['SHOPSPHERE_INTERNAL_SECRET', 'SHOPSPHERE_PAYMENT_WEBHOOK_SECRET',
  'SHOPSPHERE_COURIER_WEBHOOK_SECRET', 'SHOPSPHERE_PG_PASSWORD', 'SHOPSPHERE_KEK']
  .map((n) => process.env[n]).filter((v) => v && v.length >= 8);

function assertNothingSecret(res, where, allow = []) {
  const walk = (v, path) => {
    if (Array.isArray(v)) { v.forEach((x, i) => walk(x, `${path}[${i}]`)); return; }
    if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (!allow.includes(k)) assert.doesNotMatch(k, SECRET_KEYS, `${where}: field ${path}.${k} is exposed`);
        walk(x, `${path}.${k}`);
      }
    }
  };
  walk(res.body, '$');
  for (const re of SECRET_VALUES) assert.doesNotMatch(res.text, re, `${where}: ${re} in the answer`);
  for (const s of ENV_SECRETS) assert.ok(!res.text.includes(s), `${where}: a configured secret in the answer`);
  return res;
}

// --- the world: two shoppers with one of everything each ------------------------
async function newShopper() {
  const n = `${RUN}${++seq}`;
  const email = `sec-${n}@example.com`;
  const reg = await call(`${API}/users`, {
    method: 'POST', body: { email, password: PASSWORD, username: `sec_${n}`, first_name: 'Sec', last_name: n },
  });
  assert.equal(reg.status, 201, reg.text);
  assertNothingSecret(reg, 'POST /users');
  const login = await call(`${API}/auth/login`, { method: 'POST', body: { email, password: PASSWORD } });
  assert.equal(login.status, 200, login.text);
  assertNothingSecret(login, 'POST /auth/login', ['access_token', 'refresh_token']);
  return { id: reg.body.id, email, token: login.body.access_token, refresh: login.body.refresh_token };
}

async function newProduct(stock = 20) {
  const n = `${RUN}-${++seq}`;
  const r = await call(`${API}/products`, {
    method: 'POST', headers: bearer(admin),
    body: { sku: `SEC-${n}`, name: `Security ${n}`, description: 'x', category_id: categoryId,
      price: '15.00', currency: 'USD', stock, status: 'active' },
  });
  assert.equal(r.status, 201, r.text);
  return r.body;
}

async function cartOf(user, productId, quantity = 1) {
  const c = await call(`${API}/carts`, { method: 'POST', headers: bearer(user.token), body: {} });
  assert.equal(c.status, 201, c.text);
  const i = await call(`${API}/carts/${c.body.id}/items`, {
    method: 'POST', headers: bearer(user.token), body: { product_id: productId, quantity },
  });
  assert.equal(i.status, 201, i.text);
  return c.body.id;
}

const checkout = (user, cartId, extra = {}) => call(`${API}/orders`, {
  method: 'POST', headers: { ...bearer(user.token), 'idempotency-key': randomUUID() },
  body: { cart_id: cartId, shipping_address: ADDRESS, shipping_method: 'standard',
    payment_method: { type: 'card', token: 'tok_visa' }, ...extra },
});

let alice; let bob; let world;

before(async () => {
  admin = await adminToken();
  categoryId = await newCategory(admin, `Security ${RUN}`, `security-${RUN}`);
  alice = await newShopper();
  bob = await newShopper();
  const product = await newProduct();
  const address = await call(`${API}/users/me/addresses`, {
    method: 'POST', headers: bearer(alice.token), body: ADDRESS,
  });
  assert.equal(address.status, 201, address.text);
  const openCart = await cartOf(alice, product.id);
  const order = await checkout(alice, await cartOf(alice, product.id));
  assert.equal(order.status, 201, order.text);
  assertNothingSecret(order, 'POST /orders');
  const shipped = await call(`${API}/orders/${order.body.id}/status`, {
    method: 'PATCH', headers: bearer(admin), body: { status: 'shipped' },
  });
  assert.equal(shipped.status, 200, shipped.text);
  const review = await eventually(async () => {
    const r = await call(`${API}/products/${product.id}/reviews`, {
      method: 'POST', headers: bearer(alice.token), body: { rating: 4, title: 'Fine', body: 'It works as described.' },
    });
    return r.status === 201 ? r : null;
  }, 30000, 300);
  const notification = await eventually(async () => {
    const r = await call(`${API}/notifications`, { headers: bearer(alice.token) });
    return r.body?.items?.[0];
  }, 30000, 300);
  world = {
    product, address: address.body.id, cart: openCart, order: order.body.id,
    shipment: shipped.body.shipment_id, review: review.body.id, notification: notification.id,
  };
});

// --- broken object-level authorization ---------------------------------------------
test("another user's ids and guessed ids are 404 on every resource type", async () => {
  const ids = { ...world };
  const guess = randomUUID();
  const pid = world.product.id;
  // [method, path template, body]: each tried with alice's id as bob, and
  // with a guessed id as alice.
  const probes = [
    ['GET', (id) => `/carts/${id}`, undefined, 'cart'],
    ['POST', (id) => `/carts/${id}/items`, { product_id: pid, quantity: 1 }, 'cart'],
    ['PATCH', (id) => `/carts/${id}/items/${pid}`, { quantity: 2 }, 'cart'],
    ['DELETE', (id) => `/carts/${id}/items/${pid}`, undefined, 'cart'],
    ['GET', (id) => `/orders/${id}`, undefined, 'order'],
    ['POST', (id) => `/orders/${id}/cancel`, undefined, 'order'],
    ['GET', (id) => `/shipments/${id}`, undefined, 'shipment'],
    ['PATCH', (id) => `/users/me/addresses/${id}`, { city: 'Elsewhere' }, 'address'],
    ['DELETE', (id) => `/users/me/addresses/${id}`, undefined, 'address'],
    ['PATCH', (id) => `/reviews/${id}`, { rating: 1 }, 'review'],
    ['DELETE', (id) => `/reviews/${id}`, undefined, 'review'],
    ['POST', (id) => `/notifications/${id}/read`, undefined, 'notification'],
  ];
  for (const [method, path, body, kind] of probes) {
    const theirs = await call(`${API}${path(ids[kind])}`, { method, headers: bearer(bob.token), body });
    assertEnvelope(theirs, 404, 'NOT_FOUND');
    const guessed = await call(`${API}${path(guess)}`, { method, headers: bearer(alice.token), body });
    assertEnvelope(guessed, 404, 'NOT_FOUND');
  }
  // Lists never show another user's objects; filtered by another user's
  // order they are empty, as for an order that does not exist.
  const lists = ['/users/me/addresses', '/notifications', '/orders', `/shipments?order_id=${world.order}`,
    `/payments?order_id=${world.order}`, `/payments?order_id=${guess}`];
  for (const path of lists) {
    const r = await call(`${API}${path}`, { headers: bearer(bob.token) });
    assert.equal(r.status, 200, `${path}: ${r.text}`);
    assert.deepEqual(r.body.items, [], `${path} as bob`);
  }
  // Nothing of alice's changed.
  const cart = await call(`${API}/carts/${world.cart}`, { headers: bearer(alice.token) });
  assert.equal(cart.status, 200, cart.text);
  assert.equal(cart.body.item_count, 1);
  const order = await call(`${API}/orders/${world.order}`, { headers: bearer(alice.token) });
  assert.equal(order.body.status, 'shipped');
  assertNothingSecret(order, 'GET /orders/{id}');
  const review = await call(`${API}/reviews/${world.review}`, { headers: bearer(alice.token) });
  assert.equal(review.status, 200, review.text);
  assert.equal(review.body.rating, 4);
  const addresses = await call(`${API}/users/me/addresses`, { headers: bearer(alice.token) });
  assert.deepEqual(addresses.body.items.map((a) => [a.id, a.city]), [[world.address, ADDRESS.city]]);
  const feed = await call(`${API}/notifications`, { headers: bearer(alice.token) });
  assert.equal(feed.body.items.find((x) => x.id === world.notification).read_at, null);
});

// --- mass assignment ---------------------------------------------------------------
test('role, status, price, user_id and other server-owned fields in bodies are refused (422)', async () => {
  const n = `${RUN}m${++seq}`;
  const signup = { email: `mass-${n}@example.com`, password: PASSWORD, username: `mass_${n}` };
  const cart = await call(`${API}/carts`, { method: 'POST', headers: bearer(alice.token), body: {} });
  const attempts = [
    ['POST', '/users', { ...signup, role: 'admin' }],
    ['POST', '/users', { ...signup, status: 'active' }],
    ['POST', '/users', { ...signup, email_verified: true }],
    ['POST', '/users', { ...signup, id: randomUUID() }],
    ['PATCH', '/users/me', { role: 'admin' }],
    ['PATCH', '/users/me', { status: 'suspended' }],
    ['PATCH', '/users/me', { email: 'other@example.com' }],
    ['POST', '/users/me/addresses', { ...ADDRESS, user_id: bob.id }],
    ['POST', '/carts', { user_id: bob.id }],
    ['POST', `/carts/${cart.body.id}/items`, { product_id: world.product.id, quantity: 1, price: '0.01' }],
    ['POST', `/carts/${cart.body.id}/items`, { product_id: world.product.id, quantity: 1, unit_price: '0.01' }],
    ['POST', `/products/${world.product.id}/reviews`, { rating: 5, body: 'Great stuff here', status: 'approved' }],
    ['POST', `/products/${world.product.id}/reviews`, { rating: 5, body: 'Great stuff here', user_id: bob.id }],
    ['PATCH', `/reviews/${world.review}`, { status: 'approved' }],
    ['PATCH', `/reviews/${world.review}`, { helpful_count: 1000 }],
    ['POST', '/orders', { cart_id: cart.body.id, shipping_address: ADDRESS, shipping_method: 'standard',
      payment_method: { type: 'card', token: 'tok_visa' }, total: '0.01' }],
    ['POST', '/orders', { cart_id: cart.body.id, shipping_address: ADDRESS, shipping_method: 'standard',
      payment_method: { type: 'card', token: 'tok_visa' }, status: 'delivered' }],
    ['POST', '/orders', { cart_id: cart.body.id, shipping_address: ADDRESS, shipping_method: 'standard',
      payment_method: { type: 'card', token: 'tok_visa' }, user_id: bob.id }],
  ];
  for (const [method, path, body] of attempts) {
    const r = await call(`${API}${path}`, {
      method, headers: { ...bearer(alice.token), 'idempotency-key': randomUUID() }, body,
    });
    assertEnvelope(r, 422, 'VALIDATION_ERROR');
  }
  const me = await call(`${API}/users/me`, { headers: bearer(alice.token) });
  assert.equal(me.body.role, 'customer');
  assert.equal(me.body.status, 'active');
  assertNothingSecret(me, 'GET /users/me');
  const taken = await call(`${API}/auth/login`, { method: 'POST', body: { email: signup.email, password: PASSWORD } });
  assertEnvelope(taken, 401, 'AUTHENTICATION_ERROR'); // no account was made
});

// --- excessive data exposure ---------------------------------------------------------
test('no hash, token, key or internal field in any answer', async () => {
  const reads = [
    '/users/me', '/users/me/addresses', '/orders', `/orders/${world.order}`, `/payments?order_id=${world.order}`,
    `/shipments/${world.shipment}`, `/carts/${world.cart}`, '/notifications', `/reviews/${world.review}`,
    `/products/${world.product.id}`, `/products/${world.product.id}/reviews`, '/users/me/notification-preferences',
  ];
  for (const path of reads) {
    const r = await call(`${API}${path}`, { headers: bearer(alice.token) });
    assert.equal(r.status, 200, `${path}: ${r.text}`);
    assertNothingSecret(r, path);
  }
  for (const path of ['/admin/users?limit=50', `/admin/users/${alice.id}`, '/admin/audit-log?limit=50']) {
    const r = await call(`${API}${path}`, { headers: bearer(admin) });
    assert.equal(r.status, 200, `${path}: ${r.text}`);
    assertNothingSecret(r, path);
  }
  const jwks = await call(`${BASE}/.well-known/jwks.json`);
  for (const k of jwks.body.keys) assert.deepEqual(Object.keys(k).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use']);
  const refreshed = await call(`${API}/auth/refresh`, { method: 'POST', body: { refresh_token: alice.refresh } });
  assert.equal(refreshed.status, 200, refreshed.text);
  assertNothingSecret(refreshed, 'POST /auth/refresh', ['access_token', 'refresh_token']);
  alice.refresh = refreshed.body.refresh_token;
  // An error never echoes a stack, a query or the database's words.
  const bad = await call(`${API}/orders/${encodeURIComponent("' OR 1=1 --")}`, { headers: bearer(alice.token) });
  assert.ok(bad.status === 404 || bad.status === 422, bad.text);
  assert.doesNotMatch(bad.text, /SELECT|syntax error|postgres|pq_|\.c:\d+/i);
});

// --- JWT forgery ------------------------------------------------------------------------
const b64url = (x) => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x)).toString('base64url');

// The newest signing key, as the auth service keeps it (decrypted with the
// key-encryption key when it is stored encrypted: docs/identity.md).
function signingKey() {
  const [kid, stored] = sql('SELECT kid, private_pem FROM auth.signing_keys ORDER BY created_at DESC, kid DESC LIMIT 1').split('|');
  let pem = stored;
  if (stored.startsWith('kek1:')) {
    const raw = Buffer.from(stored.slice(5), 'base64');
    const kek = Buffer.from(process.env.SHOPSPHERE_KEK, 'hex');
    const d = crypto.createDecipheriv('aes-256-gcm', kek, raw.subarray(0, 12));
    d.setAAD(Buffer.from(kid));
    d.setAuthTag(raw.subarray(12, 28));
    pem = Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
  }
  return { kid, key: crypto.createPrivateKey(pem) };
}

function signRS256(header, claims, key) {
  const input = `${b64url(header)}.${b64url(claims)}`;
  return `${input}.${crypto.sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

test('forged tokens are 401: alg none, HS256 with the public key, expired, wrong audience, unknown kid, tampered', async () => {
  const [h, p, sig] = alice.token.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url'));
  const claims = JSON.parse(Buffer.from(p, 'base64url'));
  const jwks = (await call(`${BASE}/.well-known/jwks.json`)).body;
  const jwk = jwks.keys.find((k) => k.kid === header.kid) ?? jwks.keys[0];
  const pem = crypto.createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
  const hsInput = `${b64url({ alg: 'HS256', typ: 'JWT', kid: jwk.kid })}.${b64url({ ...claims, role: 'admin' })}`;
  const { kid, key } = signingKey();
  const now = Math.floor(Date.now() / 1000);
  const real = { ...claims, jti: randomUUID() };
  const rs = { alg: 'RS256', typ: 'JWT', kid };
  // A control: the real key and fresh claims verify, so the 401s below are
  // for the one thing each case changes.
  const good = signRS256(rs, { ...real, iat: now, nbf: now, exp: now + 300 }, key);
  assert.equal((await call(`${API}/users/me`, { headers: bearer(good) })).status, 200);
  const forged = {
    none: `${b64url({ alg: 'none', typ: 'JWT', kid: header.kid })}.${p}.`,
    hs256: `${hsInput}.${crypto.createHmac('sha256', pem).update(hsInput).digest('base64url')}`,
    expired: signRS256(rs, { ...real, iat: now - 3600, nbf: now - 3600, exp: now - 600 }, key),
    notYet: signRS256(rs, { ...real, iat: now + 3600, nbf: now + 3600, exp: now + 7200 }, key),
    audience: signRS256(rs, { ...real, aud: 'someone-else', iat: now, nbf: now, exp: now + 300 }, key),
    issuer: signRS256(rs, { ...real, iss: 'evil-issuer', iat: now, nbf: now, exp: now + 300 }, key),
    unknownKid: signRS256({ ...rs, kid: `k-${randomUUID()}` }, { ...real, iat: now, nbf: now, exp: now + 300 }, key),
    noKid: signRS256({ alg: 'RS256', typ: 'JWT' }, { ...real, iat: now, nbf: now, exp: now + 300 }, key),
    jku: signRS256({ ...rs, jku: 'https://evil.example/jwks.json' }, { ...real, iat: now, nbf: now, exp: now + 300 }, key),
    tampered: `${h}.${b64url({ ...claims, role: 'admin' })}.${sig}`,
    tamperedSub: `${h}.${b64url({ ...claims, sub: bob.id })}.${sig}`,
    badRole: signRS256(rs, { ...real, role: 'root', iat: now, nbf: now, exp: now + 300 }, key),
  };
  for (const [name, token] of Object.entries(forged)) {
    const r = await call(`${API}/users/me`, { headers: bearer(token) });
    assert.equal(r.status, 401, `${name}: ${r.text}`);
    assertEnvelope(r, 401, 'AUTHENTICATION_ERROR');
    const admin403 = await call(`${API}/admin/users`, { headers: bearer(token) });
    assert.equal(admin403.status, 401, `${name} on an admin route: ${admin403.text}`);
  }
});

// --- refresh-token reuse; reset tokens single-use and expiring -------------------------
test('a reused refresh token ends the whole session family', async () => {
  const s = await newShopper();
  const first = await call(`${API}/auth/refresh`, { method: 'POST', body: { refresh_token: s.refresh } });
  assert.equal(first.status, 200, first.text);
  const reuse = await call(`${API}/auth/refresh`, { method: 'POST', body: { refresh_token: s.refresh } });
  assertEnvelope(reuse, 401, 'AUTHENTICATION_ERROR');
  // The thief's rotation is void too, and so are the family's access tokens.
  const stolen = await call(`${API}/auth/refresh`, { method: 'POST', body: { refresh_token: first.body.refresh_token } });
  assertEnvelope(stolen, 401, 'AUTHENTICATION_ERROR');
  assertEnvelope(await call(`${API}/users/me`, { headers: bearer(first.body.access_token) }), 401, 'AUTHENTICATION_ERROR');
  assertEnvelope(await call(`${API}/users/me`, { headers: bearer(s.token) }), 401, 'AUTHENTICATION_ERROR');
});

async function resetToken(email) {
  const asked = await call(`${API}/auth/password-reset`, { method: 'POST', body: { email } });
  assert.equal(asked.status, 202, asked.text);
  assertNothingSecret(asked, 'POST /auth/password-reset');
  const mail = await eventually(async () => {
    const r = await call(`${serviceUrl('sandbox-mail')}/messages?to=${encodeURIComponent(email)}`);
    return r.body?.items?.find((m) => /reset_token: (\S+)/.test(m.text ?? '') && !m.seen_by_security);
  }, 30000, 300);
  mail.seen_by_security = true;
  return /reset_token: (\S+)/.exec(mail.text)[1];
}

test('a password reset token works once and not after it expired', async () => {
  const s = await newShopper();
  const token = await resetToken(s.email);
  const confirm = (t, pw) => call(`${API}/auth/password-reset/confirm`, { method: 'POST', body: { token: t, new_password: pw } });
  assert.equal((await confirm(token, 'Brand-New-Password-1')).status, 200);
  const again = await confirm(token, 'Brand-New-Password-2');
  assertEnvelope(again, 422, 'VALIDATION_ERROR');
  assert.equal(again.body.error.details, 'token');

  // A second token, aged past its 30 minutes in the database.
  const late = await eventually(async () => {
    const t = await resetToken(s.email);
    return t !== token ? t : null;
  }, 30000, 500);
  const hash = crypto.createHash('sha256').update(late).digest('hex');
  const aged = sql(`UPDATE auth.password_resets SET expires_at = now() - interval '1 second' `
    + `WHERE token_hash = '${hash}' RETURNING 1`);
  assert.equal(aged, '1', 'the reset token row was found by its SHA-256');
  const expired = await confirm(late, 'Brand-New-Password-3');
  assertEnvelope(expired, 422, 'VALIDATION_ERROR');
  assert.equal(expired.body.error.details, 'token');
  const login = await call(`${API}/auth/login`, { method: 'POST', body: { email: s.email, password: 'Brand-New-Password-1' } });
  assert.equal(login.status, 200, login.text);
});

// --- injection probes ----------------------------------------------------------------------
test('injection probes are answered in the envelope and change nothing', async () => {
  const s = await newShopper();
  const before = (await call(`${API}/users/me`, { headers: bearer(s.token) })).body;
  const patch = (raw) => call(`${API}/users/me`, {
    method: 'PATCH', headers: { ...bearer(s.token), 'content-type': 'application/json' }, raw,
  });
  const deep = `${'{"first_name":'.repeat(5000)}"x"${'}'.repeat(5000)}`;
  const bodies = {
    sql: JSON.stringify({ first_name: "Robert'); DROP TABLE users.users; --".repeat(10) }),
    nul: '{"first_name":"a\\u0000b"}',
    rawNul: Buffer.from('{"first_name":"a\u0000b"}'),
    overlong: Buffer.concat([Buffer.from('{"first_name":"a'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]),
    surrogate: Buffer.concat([Buffer.from('{"first_name":"a'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]),
    loneEscape: '{"first_name":"\\ud800"}',
    hugeNumber: `{"first_name":${'9'.repeat(400)}}`,
    hugeExponent: '{"first_name":1e999999}',
    deep,
    deepArray: `${'['.repeat(100000)}${']'.repeat(100000)}`,
    duplicateKeys: '{"first_name":"A","first_name":"B"}',
    notObject: '"just a string"',
    trailing: '{"first_name":"A"} {"role":"admin"}',
  };
  for (const [name, raw] of Object.entries(bodies)) {
    const r = await patch(raw);
    if (name === 'sql') {
      // Valid input, merely unusual: stored verbatim or refused, never run.
      assert.ok([200, 422].includes(r.status), `${name}: ${r.text}`);
      continue;
    }
    assert.ok([400, 422].includes(r.status), `${name}: ${r.status} ${r.text}`);
    assertEnvelope(r, r.status, 'VALIDATION_ERROR');
  }
  const after = (await call(`${API}/users/me`, { headers: bearer(s.token) })).body;
  assert.equal(after.role, before.role);
  assert.ok(after.first_name === before.first_name || after.first_name.startsWith("Robert'); DROP"));

  // Query strings: SQL, NUL, overlong numbers and broken escapes.
  const queries = [
    `/products?limit=${'9'.repeat(40)}`, '/products?limit=-1', '/products?cursor=%27%20OR%201%3D1--',
    '/products?cursor=%00', '/search?q=%C0%AF', '/products?min_price=1e400', '/orders?limit=1%00',
    `/search?q=${encodeURIComponent("' UNION SELECT password_hash FROM auth.credentials --")}`,
    '/products?category_id=%27%3B%20DROP%20TABLE%20x%3B--',
  ];
  for (const path of queries) {
    const r = await call(`${API}${path}`, { headers: bearer(s.token) });
    assert.ok(r.status < 500, `${path}: ${r.status} ${r.text}`);
    if (r.status >= 400) assertEnvelope(r, r.status, r.body.error.code);
    assertNothingSecret(r, path);
  }
  // Money: huge, negative, overlong and exotic amounts.
  for (const price of ['99999999999999999999.99', '-1.00', '1.001', '1e3', '0x10', 'NaN', '１０.00', '1.0\u0000']) {
    const r = await call(`${API}/products/${world.product.id}`, {
      method: 'PATCH', headers: bearer(admin), body: { price },
    });
    // 422 naming the price; a NUL anywhere in a body is 400 at once.
    assert.ok([400, 422].includes(r.status), `${price}: ${r.status} ${r.text}`);
    assertEnvelope(r, r.status, 'VALIDATION_ERROR');
  }
  const p = await call(`${API}/products/${world.product.id}`, { headers: bearer(admin) });
  assert.equal(p.body.price, '15.00');
});

// --- the gateway on the wire ------------------------------------------------------------------
// Writes `chunks` (with pauses) on a raw connection; resolves with all it read
// and whether the server closed it.
function rawExchange(chunks, { timeoutMs = 20000, pauseMs = 0, localAddress } = {}) {
  return new Promise((resolve) => {
    let data = '';
    let closed = false;
    const sock = net.connect({ port: Number(GATEWAY.port), host: '127.0.0.1', localAddress });
    const timer = setTimeout(() => { sock.destroy(); resolve({ data, closed }); }, timeoutMs);
    sock.on('data', (c) => { data += c.toString('latin1'); });
    sock.on('error', () => {});
    sock.on('close', () => { closed = true; clearTimeout(timer); resolve({ data, closed }); });
    sock.on('connect', async () => {
      for (const c of chunks) {
        if (sock.destroyed) break;
        sock.write(c);
        if (pauseMs) await sleep(pauseMs);
      }
    });
  });
}

const statusLines = (data) => [...data.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));

test('request smuggling: conflicting Content-Length and Transfer-Encoding are refused', async () => {
  const smuggled = 'GET /api/v1/admin/users HTTP/1.1\r\nHost: x\r\n\r\n';
  const login = '{"email":"a@example.com","password":"x"}';
  const cases = {
    twoLengths: `POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n`
      + `Content-Length: ${login.length}\r\nContent-Length: ${login.length + smuggled.length}\r\n\r\n${login}${smuggled}`,
    lengthAndChunked: `POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n`
      + `Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
    obfuscatedTe: `POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n`
      + `Transfer-Encoding: xchunked\r\nContent-Length: ${login.length}\r\n\r\n${login}`,
    badLength: `POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n`,
  };
  for (const [name, wire] of Object.entries(cases)) {
    const { data } = await rawExchange([wire]);
    const codes = statusLines(data);
    assert.ok(codes.length >= 1, `${name}: no answer`);
    // The first answer is a refusal, and the smuggled request never gets
    // one of its own (it would be the admin route's 401).
    assert.ok(codes[0] >= 400 && codes[0] < 500, `${name}: ${codes}`);
    assert.ok(!codes.includes(401), `${name}: the smuggled request was answered: ${codes}`);
  }
});

test('header abuse: oversized and numerous headers are refused; a slow sender is cut off', { timeout: 120000 }, async () => {
  const many = Array.from({ length: 2000 }, (_, i) => `X-H${i}: ${i}\r\n`).join('');
  const a = await rawExchange([`GET /api/v1/health/product HTTP/1.1\r\nHost: x\r\n${many}\r\n`]);
  assert.match(a.data, /^HTTP\/1\.1 (431|413|400) /);
  const longLine = await rawExchange([`GET /api/v1/health/product?${'a'.repeat(64 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`]);
  assert.match(longLine.data, /^HTTP\/1\.1 (414|431|413|400) /);

  // Slowloris: one header line every second, never ending. The connection
  // timeout (SHOPSPHERE_CONNECTION_TIMEOUT) bounds the whole header phase,
  // not just the silence between bytes.
  const timeout = Number(process.env.SHOPSPHERE_CONNECTION_TIMEOUT ?? 30);
  const lines = ['GET /api/v1/health/product HTTP/1.1\r\nHost: x\r\n',
    ...Array.from({ length: timeout * 6 + 30 }, (_, i) => `X-Slow-${i}: y\r\n`)];
  const t0 = Date.now();
  const slow = await rawExchange(lines, { pauseMs: 1000, timeoutMs: (timeout * 6 + 40) * 1000 });
  assert.ok(slow.closed, 'the server closed the slow connection');
  assert.ok(Date.now() - t0 < (timeout * 6 + 20) * 1000, 'closed before the sender ran out of lines');
  // The gateway still serves.
  assert.equal((await call(`${API}/health/product`)).status, 200);
});

test('X-Forwarded-For from a client does not change its rate-limit key', { timeout: 60000 }, async () => {
  // The docs class has a small budget on the test profiles (20 a minute);
  // a client lying about its address in every request still runs out.
  const address = freshAddress();
  const statuses = [];
  for (let i = 0; i < 40; i++) {
    const { data } = await rawExchange([`GET /docs HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.${i}.0.1\r\n`
      + `X-Real-IP: 10.${i}.0.2\r\nForwarded: for=10.${i}.0.3\r\nConnection: close\r\n\r\n`], { localAddress: address });
    statuses.push(statusLines(data)[0]);
  }
  assert.ok(statuses.includes(429), `spoofed addresses escaped the limit: ${statuses}`);
  // Another peer is unaffected.
  const { data } = await rawExchange(['GET /docs HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'], { localAddress: freshAddress() });
  assert.equal(statusLines(data)[0], 200);
});

test('the gateway bounds its connections and serves again once they close', { timeout: 120000 }, async () => {
  // Past the bound the gateway accepts nothing more: the kernel may still
  // complete the handshake (its listen backlog), but no request sent on
  // such a connection is answered while the others hold their slots.
  const limit = Number(process.env.SHOPSPHERE_MAX_CONNECTIONS ?? 4096);
  const address = freshAddress();
  const extra = 64;
  let firstClose = Infinity; // until the server frees a slot
  const socks = await Promise.all(Array.from({ length: limit + extra }, () => new Promise((resolve) => {
    const s = net.connect({ port: Number(GATEWAY.port), host: '127.0.0.1', localAddress: address });
    s.on('error', () => {});
    s.on('data', () => { s.answeredAt ??= Date.now(); });
    s.on('connect', () => resolve(s));
    s.on('close', () => { if (!s.ours) firstClose = Math.min(firstClose, Date.now()); resolve(s); });
  })));
  for (const s of socks) if (!s.destroyed) s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  const admitted = () => socks.filter((s) => s.answeredAt !== undefined && s.answeredAt < firstClose).length;
  await eventually(() => admitted() >= limit || firstClose < Infinity, 20000, 200).catch(() => {});
  await sleep(1000);
  const answered = admitted();
  for (const s of socks) { s.ours = true; s.destroy(); }
  // Other clients' idle connections (the suite's own keep-alive pool) hold
  // slots when this starts and may close meanwhile, admitting as many of
  // ours: a few over the bound is their slots changing hands, not a leak.
  const slack = 16;
  assert.ok(answered <= limit + slack, `${answered} connections answered at once, bound ${limit}`);
  assert.ok(answered >= limit / 2, `only ${answered} of ${limit} admitted connections answered`);
  const back = await eventually(async () => (await call(`${API}/health/product`)).status === 200, 30000, 500);
  assert.ok(back);
});

// --- response hardening and CORS ---------------------------------------------------------------
test('hardening headers on API answers and web pages; no server version; unknown origins get no CORS', async () => {
  for (const path of [`${API}/products?limit=1`, `${API}/users/me`, `${API}/nope`, `${BASE}/healthz`]) {
    const r = await call(path);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff', path);
    const server = r.headers.get('server');
    assert.ok(server === null || !/\d/.test(server), `${path}: Server ${server}`);
    assert.equal(r.headers.get('x-powered-by'), null);
  }
  for (const page of ['/', '/admin/', '/products/anything', '/docs']) {
    const r = await fetch(`${BASE}${page}`, { headers: { accept: 'text/html' } });
    const text = await r.text();
    assert.equal(r.status, 200, `${page}: ${text.slice(0, 200)}`);
    assert.match(r.headers.get('content-type'), /text\/html/);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff', page);
    assert.match(r.headers.get('x-frame-options') ?? '', /^(DENY|SAMEORIGIN)$/, page);
    const csp = r.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src/, `${page}: CSP ${csp}`);
    assert.match(csp, /frame-ancestors '(none|self)'/, `${page}: CSP ${csp}`);
    assert.doesNotMatch(csp, /script-src[^;]*'unsafe-eval'/, page);
    assert.ok(r.headers.get('referrer-policy'), page);
  }
  const evil = 'https://evil.example';
  const simple = await call(`${API}/users/me`, { headers: { origin: evil, ...bearer(alice.token) } });
  assert.equal(simple.headers.get('access-control-allow-origin'), null);
  assert.equal(simple.headers.get('access-control-allow-credentials'), null);
  const pre = await call(`${API}/orders`, {
    method: 'OPTIONS', headers: { origin: 'null', 'access-control-request-method': 'POST' },
  });
  assert.equal(pre.headers.get('access-control-allow-origin'), null);
  const sub = await call(`${API}/orders`, {
    method: 'OPTIONS', headers: { origin: `${GATEWAY.origin}.evil.example`, 'access-control-request-method': 'POST' },
  });
  assert.equal(sub.headers.get('access-control-allow-origin'), null);
});

// --- the sandbox card processor's fault switch ---------------------------------------------------
test('with the card processor failing every call, checkout fails cleanly and recovers after', { timeout: 120000 }, async () => {
  const processor = serviceUrl('sandbox-payment');
  const product = await newProduct(5);
  const buyer = await newShopper();
  const set = (body) => call(`${processor}/v1/_chaos`, { method: 'POST', body });
  const was = (await call(`${processor}/v1/_chaos`)).body;
  assert.equal((await set({ error_percent: 100, latency_ms: 0 })).status, 200);
  try {
    const failed = await checkout(buyer, await cartOf(buyer, product.id, 2));
    assert.ok([502, 503, 504].includes(failed.status), `checkout during the fault: ${failed.status} ${failed.text}`);
    assertEnvelope(failed, failed.status, failed.body.error.code);
    const orders = await call(`${API}/orders`, { headers: bearer(buyer.token) });
    assert.ok(orders.body.items.every((o) => o.status !== 'confirmed'), 'no confirmed order while payments fail');
    // The stock comes back once the saga gives up.
    await eventually(async () => {
      const p = await call(`${API}/products/${product.id}`, { headers: bearer(admin) });
      return p.body.stock === 5;
    }, 60000, 500);
  } finally {
    await set({ error_percent: was.error_percent ?? 0, latency_ms: was.latency_ms ?? 0 });
  }
  const ok = await eventually(async () => {
    const r = await checkout(buyer, await cartOf(buyer, product.id, 1));
    return r.status === 201 ? r : null;
  }, 60000, 1000);
  assert.equal(ok.body.status, 'confirmed');
});

// --- login throttling per client address ---------------------------------------------------------
test('failed logins from one address are throttled (429) across accounts; another address is not', { timeout: 180000 }, async () => {
  const limit = Number(process.env.SHOPSPHERE_LOGIN_MAX_IP_FAILURES ?? 100);
  assert.ok(limit <= 200, `the test profile sets a per-address limit this test can reach (${limit})`);
  const address = freshAddress();
  const target = await newShopper();
  const attempt = (email, password, from = address) => new Promise((resolve) => {
    const body = JSON.stringify({ email, password });
    rawExchange([`POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n`
      + `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`], { localAddress: from, timeoutMs: 60000 })
      .then(({ data }) => resolve(statusLines(data)[0]));
  });
  // Different accounts each time: the per-account limit never trips.
  let n = 0;
  const worker = async () => {
    while (n < limit) {
      const i = n++;
      const s = await attempt(`nobody-${RUN}-${i}@example.com`, 'Wrong-Password-0');
      assert.ok(s === 401 || s === 429, `attempt ${i}: ${s}`);
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  assert.equal(await attempt(target.email, PASSWORD), 429, 'the right password from the throttled address');
  assert.equal(await attempt(target.email, PASSWORD, freshAddress()), 200, 'another address logs in');
});

// --- known gaps of issue 19, closed ----------------------------------------------------------------
test('a credential orphaned by a registration that crashed before its commit is replaced by the next one', async () => {
  // What a crash of the user service between storing the credential and
  // committing the users row leaves behind (docs/identity.md): a
  // credential whose user id has no profile, holding the e-mail.
  const n = `${RUN}o${++seq}`;
  const email = `orphan-${n}@example.com`;
  const orphanId = randomUUID();
  const internal = { 'X-Internal-Token': process.env.SHOPSPHERE_INTERNAL_SECRET ?? '' };
  const put = await call(`${serviceUrl('auth')}/internal/credentials/${orphanId}`, {
    method: 'PUT', headers: internal, body: { email, password: 'Orphaned-Password-1' },
  });
  assert.equal(put.status, 201, put.text);
  // Without the fix this registration was a 409 forever.
  const reg = await call(`${API}/users`, {
    method: 'POST', body: { email, password: PASSWORD, username: `orph_${n}` },
  });
  assert.equal(reg.status, 201, reg.text);
  assert.notEqual(reg.body.id, orphanId);
  const login = await call(`${API}/auth/login`, { method: 'POST', body: { email, password: PASSWORD } });
  assert.equal(login.status, 200, login.text);
  assert.equal(login.body.user.id, reg.body.id);
  assertEnvelope(await call(`${API}/auth/login`, { method: 'POST', body: { email, password: 'Orphaned-Password-1' } }),
    401, 'AUTHENTICATION_ERROR');
  const me = await call(`${API}/users/me`, { headers: bearer(login.body.access_token) });
  assert.equal(me.body.email, email);
  // A real account's e-mail is still taken.
  assertEnvelope(await call(`${API}/users`, {
    method: 'POST', body: { email, password: PASSWORD, username: `orph2_${n}` },
  }), 409, 'CONFLICT');
});

test('signing keys are encrypted at rest; a plaintext key of before is encrypted at the next load', { timeout: 90000 }, async () => {
  assert.ok(process.env.SHOPSPHERE_KEK, 'the test profile sets a key-encryption key');
  const rows = () => sql('SELECT kid, private_pem FROM auth.signing_keys').split('\n').map((l) => l.split('|'));
  for (const [kid, stored] of rows()) {
    assert.match(stored, /^kek1:/, `key ${kid} is stored encrypted`);
    assert.doesNotMatch(stored, /PRIVATE KEY/);
  }
  // The migration path: put the newest key back as plaintext PEM (as a
  // database of before this change holds it); the auth service's key job
  // (every 10 s) encrypts it again, and tokens keep verifying throughout.
  const { kid, key } = signingKey();
  const pem = key.export({ type: 'pkcs8', format: 'pem' });
  sql(`UPDATE auth.signing_keys SET private_pem = '${pem}' WHERE kid = '${kid}'`);
  await eventually(() => rows().find((r) => r[0] === kid)[1].startsWith('kek1:'), 60000, 1000);
  assert.equal(signingKey().key.export({ type: 'pkcs8', format: 'pem' }), pem);
  const s = await newShopper();
  assert.equal((await call(`${API}/users/me`, { headers: bearer(s.token) })).status, 200);
});
