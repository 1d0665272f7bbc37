// identity.test.mjs - the user and auth services through the gateway:
// registration, login, tokens (refresh rotation and reuse, logout, forged
// tokens), throttling, roles, addresses, suspension, password reset, and bad
// input of every kind. Each test makes its own accounts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { API, BASE, call, assertEnvelope, eventually, serviceUrl } from './lib.mjs';

const PASSWORD = 'Correct-Horse-Battery-42';
const INTERNAL = { 'X-Internal-Token': process.env.SHOPSPHERE_INTERNAL_SECRET ?? '' };

const rand = () => crypto.randomBytes(6).toString('hex');
const bearer = (token) => ({ authorization: `Bearer ${token}` });

function newAccount(extra = {}) {
  const id = rand();
  return {
    email: `id-${id}@example.com`,
    password: PASSWORD,
    username: `u_${id}`,
    first_name: 'Ada',
    last_name: 'Lovelace',
    phone: '+44 20 7946 0958',
    ...extra,
  };
}

async function register(extra = {}) {
  const account = newAccount(extra);
  const res = await call(`${API}/users`, { method: 'POST', body: account });
  assert.equal(res.status, 201, res.text);
  return { ...account, id: res.body.id };
}

async function login(email, password = PASSWORD) {
  return call(`${API}/auth/login`, { method: 'POST', body: { email, password } });
}

async function signedIn(extra = {}) {
  const account = await register(extra);
  const res = await login(account.email, account.password);
  assert.equal(res.status, 200, res.text);
  return { ...account, ...res.body };
}

async function adminToken() {
  const email = process.env.SHOPSPHERE_ADMIN_EMAIL;
  const password = process.env.SHOPSPHERE_ADMIN_PASSWORD;
  assert.ok(email && password, 'the test profile exports the demo admin');
  // The user service creates the demo admin in the background at start.
  const res = await eventually(async () => {
    const r = await login(email, password);
    return r.status === 200 ? r : null;
  }, 30000, 1000);
  return res.body.access_token;
}

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const decodePart = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

test('JWKS publishes RS256 keys with a kid', async () => {
  const res = await call(`${BASE}/.well-known/jwks.json`);
  assert.equal(res.status, 200);
  assert.ok(res.body.keys.length >= 1);
  for (const k of res.body.keys) {
    assert.equal(k.kty, 'RSA');
    assert.equal(k.alg, 'RS256');
    assert.equal(k.use, 'sig');
    assert.ok(k.kid && k.n && k.e);
    assert.equal(k.d, undefined, 'never a private part');
  }
});

test('register, login, /users/me, refresh, reuse revokes the family', async () => {
  const account = await register();
  const res = await login(account.email);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.token_type, 'Bearer');
  assert.equal(res.body.expires_in, 900);
  const first = res.body;

  // The access token: RS256 with a kid and the documented claims.
  const [h, p] = first.access_token.split('.');
  const header = decodePart(h);
  const claims = decodePart(p);
  assert.equal(header.alg, 'RS256');
  assert.ok(header.kid);
  assert.equal(claims.sub, account.id);
  assert.equal(claims.role, 'customer');
  assert.ok(claims.jti && claims.iss && claims.aud);
  assert.equal(claims.exp - claims.iat, 900);

  const me = await call(`${API}/users/me`, { headers: bearer(first.access_token) });
  assert.equal(me.status, 200, me.text);
  assert.equal(me.body.id, account.id);
  assert.equal(me.body.email, account.email);
  assert.equal(me.body.password, undefined);
  assert.equal(me.body.password_hash, undefined);
  // The seed's User model, field for field.
  assert.deepEqual(Object.keys(me.body).sort(), ['created_at', 'email', 'email_verified', 'first_name', 'id',
    'last_name', 'phone', 'role', 'status', 'updated_at', 'username']);
  assert.equal(me.body.email_verified, false, 'no address is confirmed yet');
  assert.equal(me.body.username, account.username);
  assert.equal(me.body.phone, account.phone);
  assert.equal(me.body.status, 'active');

  const refreshed = await call(`${API}/auth/refresh`, {
    method: 'POST', body: { refresh_token: first.refresh_token },
  });
  assert.equal(refreshed.status, 200, refreshed.text);
  assert.notEqual(refreshed.body.refresh_token, first.refresh_token);
  const second = refreshed.body;
  const me2 = await call(`${API}/users/me`, { headers: bearer(second.access_token) });
  assert.equal(me2.status, 200);

  // The old refresh token again: a thief or a replay. The whole family dies.
  const reuse = await call(`${API}/auth/refresh`, {
    method: 'POST', body: { refresh_token: first.refresh_token },
  });
  assertEnvelope(reuse, 401, 'AUTHENTICATION_ERROR');
  const newest = await call(`${API}/auth/refresh`, {
    method: 'POST', body: { refresh_token: second.refresh_token },
  });
  assertEnvelope(newest, 401, 'AUTHENTICATION_ERROR');
  const after = await call(`${API}/users/me`, { headers: bearer(second.access_token) });
  assertEnvelope(after, 401, 'AUTHENTICATION_ERROR');
});

test('logout makes the access token fail at once', async () => {
  const s = await signedIn();
  const before = await call(`${API}/users/me`, { headers: bearer(s.access_token) });
  assert.equal(before.status, 200);
  const out = await call(`${API}/auth/logout`, {
    method: 'POST', headers: bearer(s.access_token),
  });
  assert.equal(out.status, 204, out.text);
  const after = await call(`${API}/users/me`, { headers: bearer(s.access_token) });
  assertEnvelope(after, 401, 'AUTHENTICATION_ERROR');
  const refresh = await call(`${API}/auth/refresh`, {
    method: 'POST', body: { refresh_token: s.refresh_token },
  });
  assertEnvelope(refresh, 401, 'AUTHENTICATION_ERROR');
});

test('logout with only a refresh token ends that session', async () => {
  const s = await signedIn();
  const out = await call(`${API}/auth/logout`, {
    method: 'POST', body: { refresh_token: s.refresh_token },
  });
  assert.equal(out.status, 204, out.text);
  const after = await call(`${API}/users/me`, { headers: bearer(s.access_token) });
  assertEnvelope(after, 401, 'AUTHENTICATION_ERROR');
  const bogus = await call(`${API}/auth/logout`, {
    method: 'POST', body: { refresh_token: 'not-a-token' },
  });
  assertEnvelope(bogus, 401, 'AUTHENTICATION_ERROR');
});

test('forged, tampered, foreign and missing tokens are 401', async () => {
  const s = await signedIn();
  const [h, p, sig] = s.access_token.split('.');
  const claims = decodePart(p);
  const header = decodePart(h);

  const none = `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT', kid: header.kid }))}.${p}.`;
  const noneNoSig = `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${p}`;
  const tampered = `${h}.${b64url(JSON.stringify({ ...claims, role: 'admin' }))}.${sig}`;

  // HS256 keyed with the public key: the classic algorithm confusion.
  const jwks = (await call(`${BASE}/.well-known/jwks.json`)).body;
  const jwk = jwks.keys.find((k) => k.kid === header.kid) ?? jwks.keys[0];
  const pem = crypto.createPublicKey({ key: jwk, format: 'jwk' })
    .export({ type: 'spki', format: 'pem' });
  const hsHeader = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: jwk.kid }));
  const hsPayload = b64url(JSON.stringify({ ...claims, role: 'admin' }));
  const hsSig = crypto.createHmac('sha256', pem).update(`${hsHeader}.${hsPayload}`).digest('base64url');
  const hs256 = `${hsHeader}.${hsPayload}.${hsSig}`;

  // Signed by a key of our own making with the real kid.
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const foreignInput = `${h}.${b64url(JSON.stringify({ ...claims, role: 'admin' }))}`;
  const foreign = `${foreignInput}.${crypto.sign('sha256', Buffer.from(foreignInput), privateKey).toString('base64url')}`;

  const cases = {
    none, noneNoSig, tampered, hs256, foreign,
    garbage: 'garbage', dots: '..', random: `${rand()}.${rand()}.${rand()}`,
  };
  for (const [name, token] of Object.entries(cases)) {
    const res = await call(`${API}/users/me`, { headers: bearer(token) });
    assert.equal(res.status, 401, `${name}: ${res.text}`);
    assertEnvelope(res, 401, 'AUTHENTICATION_ERROR');
    // Even a public route refuses a bad token that is sent.
    const pub = await call(`${API}/auth/password-reset`, {
      method: 'POST', headers: bearer(token), body: { email: s.email },
    });
    assert.equal(pub.status, 401, `${name} on a public route: ${pub.text}`);
  }
  const missing = await call(`${API}/users/me`);
  assertEnvelope(missing, 401, 'AUTHENTICATION_ERROR');
  const basic = await call(`${API}/users/me`, { headers: { authorization: 'Basic YTpi' } });
  assertEnvelope(basic, 401, 'AUTHENTICATION_ERROR');
  // Straight to the user service, past the gateway: the same answer.
  const direct = await call(`${serviceUrl('user')}/api/v1/users/me`, { headers: bearer(tampered) });
  assertEnvelope(direct, 401, 'AUTHENTICATION_ERROR');
});

test('wrong password and unknown email answer alike; the 11th failure is 429', async () => {
  const account = await register();
  const wrong = await login(account.email, 'Not-The-Password-1');
  const unknown = await login(`nobody-${rand()}@example.com`, 'Not-The-Password-1');
  assertEnvelope(wrong, 401, 'AUTHENTICATION_ERROR');
  assertEnvelope(unknown, 401, 'AUTHENTICATION_ERROR');
  assert.equal(wrong.body.error.message, unknown.body.error.message);
  assert.equal(wrong.body.error.details, unknown.body.error.details);

  // Nine more wrong ones make ten; the eleventh is refused unchecked.
  for (let i = 0; i < 9; i++) {
    const r = await login(account.email, `Wrong-Password-${i}`);
    assertEnvelope(r, 401, 'AUTHENTICATION_ERROR');
  }
  const eleventh = await login(account.email, 'Wrong-Password-x');
  assertEnvelope(eleventh, 429, 'RATE_LIMITED');
  assert.ok(eleventh.headers.get('retry-after'));
  const right = await login(account.email, PASSWORD);
  assertEnvelope(right, 429, 'RATE_LIMITED');
  // Another account is not affected.
  const other = await register();
  assert.equal((await login(other.email)).status, 200);
});

test('a customer on an admin route is 403', async () => {
  const s = await signedIn();
  const list = await call(`${API}/admin/users`, { headers: bearer(s.access_token) });
  assertEnvelope(list, 403, 'AUTHORIZATION_ERROR');
  const patch = await call(`${API}/admin/users/${s.id}`, {
    method: 'PATCH', headers: bearer(s.access_token), body: { role: 'admin' },
  });
  assertEnvelope(patch, 403, 'AUTHORIZATION_ERROR');
  // The service checks the role too, not only the gateway.
  const direct = await call(`${serviceUrl('user')}/api/v1/admin/users`, {
    headers: bearer(s.access_token),
  });
  assertEnvelope(direct, 403, 'AUTHORIZATION_ERROR');
});

test('addresses: owner-only, validated, CRUD', async () => {
  const a = await signedIn();
  const b = await signedIn();
  const address = {
    first_name: 'Ada', last_name: 'Lovelace', line1: '12 St James\'s Square',
    city: 'London', postal_code: 'SW1Y 4JH', country: 'GB', phone: '+44 20 7946 0958',
  };
  const created = await call(`${API}/users/me/addresses`, {
    method: 'POST', headers: bearer(a.access_token), body: address,
  });
  assert.equal(created.status, 201, created.text);
  const id = created.body.id;
  assert.equal(created.body.line1, address.line1);
  assert.equal(created.body.line2, null);

  const listA = await call(`${API}/users/me/addresses`, { headers: bearer(a.access_token) });
  assert.equal(listA.status, 200);
  assert.deepEqual(listA.body.items.map((x) => x.id), [id]);
  const listB = await call(`${API}/users/me/addresses`, { headers: bearer(b.access_token) });
  assert.deepEqual(listB.body.items, []);

  const bPatch = await call(`${API}/users/me/addresses/${id}`, {
    method: 'PATCH', headers: bearer(b.access_token), body: { city: 'Paris' },
  });
  assertEnvelope(bPatch, 404, 'NOT_FOUND');
  const bDelete = await call(`${API}/users/me/addresses/${id}`, {
    method: 'DELETE', headers: bearer(b.access_token),
  });
  assertEnvelope(bDelete, 404, 'NOT_FOUND');

  const patched = await call(`${API}/users/me/addresses/${id}`, {
    method: 'PATCH', headers: bearer(a.access_token), body: { city: 'Bath', line2: 'Flat 2' },
  });
  assert.equal(patched.status, 200, patched.text);
  assert.equal(patched.body.city, 'Bath');
  assert.equal(patched.body.line2, 'Flat 2');

  for (const bad of [{ country: 'XX' }, { country: 'gb' }, { line1: null }, { postal_code: '!!' }]) {
    const r = await call(`${API}/users/me/addresses/${id}`, {
      method: 'PATCH', headers: bearer(a.access_token), body: bad,
    });
    assert.ok(r.status === 422 || r.status === 400, `${JSON.stringify(bad)}: ${r.text}`);
  }
  const missing = await call(`${API}/users/me/addresses`, {
    method: 'POST', headers: bearer(a.access_token), body: { line1: 'x', city: 'y' },
  });
  assertEnvelope(missing, 422, 'VALIDATION_ERROR');

  const del = await call(`${API}/users/me/addresses/${id}`, {
    method: 'DELETE', headers: bearer(a.access_token),
  });
  assert.equal(del.status, 204);
  const again = await call(`${API}/users/me/addresses/${id}`, {
    method: 'DELETE', headers: bearer(a.access_token),
  });
  assertEnvelope(again, 404, 'NOT_FOUND');
});

test('profile update, and the admin lists, suspends and reinstates', async () => {
  const s = await signedIn();
  const patched = await call(`${API}/users/me`, {
    method: 'PATCH', headers: bearer(s.access_token),
    body: { first_name: 'Augusta', phone: '' },
  });
  assert.equal(patched.status, 200, patched.text);
  assert.equal(patched.body.first_name, 'Augusta');
  assert.equal(patched.body.last_name, 'Lovelace');
  const roleChange = await call(`${API}/users/me`, {
    method: 'PATCH', headers: bearer(s.access_token), body: { role: 'admin' },
  });
  assertEnvelope(roleChange, 422, 'VALIDATION_ERROR');

  const admin = await adminToken();
  const list = await call(`${API}/admin/users?q=${encodeURIComponent(s.email)}`, {
    headers: bearer(admin),
  });
  assert.equal(list.status, 200, list.text);
  assert.deepEqual(list.body.items.map((u) => u.id), [s.id]);

  const suspend = await call(`${API}/admin/users/${s.id}`, {
    method: 'PATCH', headers: bearer(admin), body: { status: 'suspended' },
  });
  assert.equal(suspend.status, 200, suspend.text);
  assert.equal(suspend.body.status, 'suspended');
  // Their tokens stop working at once, and they cannot log in.
  const me = await call(`${API}/users/me`, { headers: bearer(s.access_token) });
  assertEnvelope(me, 401, 'AUTHENTICATION_ERROR');
  const refresh = await call(`${API}/auth/refresh`, {
    method: 'POST', body: { refresh_token: s.refresh_token },
  });
  assertEnvelope(refresh, 401, 'AUTHENTICATION_ERROR');
  const denied = await login(s.email);
  assertEnvelope(denied, 403, 'AUTHORIZATION_ERROR');

  const reinstate = await call(`${API}/admin/users/${s.id}`, {
    method: 'PATCH', headers: bearer(admin), body: { status: 'active', role: 'moderator' },
  });
  assert.equal(reinstate.status, 200, reinstate.text);
  const back = await login(s.email);
  assert.equal(back.status, 200, back.text);
  assert.equal(decodePart(back.body.access_token.split('.')[1]).role, 'moderator');

  const bad = await call(`${API}/admin/users/${s.id}`, {
    method: 'PATCH', headers: bearer(admin), body: { status: 'banished' },
  });
  assertEnvelope(bad, 422, 'VALIDATION_ERROR');
  const nobody = await call(`${API}/admin/users/${crypto.randomUUID()}`, {
    method: 'PATCH', headers: bearer(admin), body: { status: 'suspended' },
  });
  assertEnvelope(nobody, 404, 'NOT_FOUND');
});

// The mails an address received, newest first: the sandbox mail server's
// inbox, where the notification service's SMTP deliveries land.
async function emailsTo(address) {
  const res = await call(
    `${serviceUrl('sandbox-mail')}/messages?to=${encodeURIComponent(address)}`,
  );
  assert.equal(res.status, 200, res.text);
  return res.body.items;
}

test('internal routes refuse callers without the internal secret', async () => {
  const url = `${serviceUrl('notification')}/internal/notifications/deliveries?recipient=a@b.co`;
  assertEnvelope(await call(url), 403, 'AUTHORIZATION_ERROR');
  assertEnvelope(await call(url, { headers: { 'X-Internal-Token': 'guess' } }), 403,
    'AUTHORIZATION_ERROR');
  const s = await signedIn();
  assertEnvelope(await call(`${serviceUrl('user')}/internal/users/${s.id}`, {
    headers: bearer(s.access_token),
  }), 403, 'AUTHORIZATION_ERROR');
  // The gateway never routes /internal, nor lets a dot-segment path climb
  // out of a public prefix into it (sent raw: fetch would normalise it).
  const viaGateway = await call(`${BASE}/internal/users/${s.id}`, { headers: INTERNAL });
  assert.notEqual(viaGateway.status, 200);
  for (const path of [
    `/api/v1/users/../../internal/users/${s.id}`,
    `/api/v1/users/%2e%2e/%2e%2e/internal/users/${s.id}`,
    `/api/v1/users/me/..%2f..%2f..%2finternal/users/${s.id}`,
  ]) {
    const status = await rawGet(path, bearer(s.access_token));
    assert.notEqual(status, 200, path);
  }
});

// GET with the path sent byte for byte; resolves to the status.
function rawGet(path, headers) {
  const url = new URL(BASE);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: url.hostname, port: url.port, path, method: 'GET', headers,
    }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
    req.on('error', reject);
    req.end();
  });
}

test('a welcome e-mail follows registration', async () => {
  const account = await register();
  const mails = await eventually(async () => {
    const items = await emailsTo(account.email);
    return items.some((m) => m.subject === 'Welcome to ShopSphere') ? items : null;
  }, 20000, 200);
  assert.ok(mails.length >= 1);
});

test('password reset: 202 always, single-use token by e-mail, confirm', async () => {
  const s = await signedIn();
  const known = await call(`${API}/auth/password-reset`, { method: 'POST', body: { email: s.email } });
  const unknown = await call(`${API}/auth/password-reset`, {
    method: 'POST', body: { email: `nobody-${rand()}@example.com` },
  });
  assert.equal(known.status, 202, known.text);
  assert.equal(unknown.status, 202);
  assert.deepEqual(known.body, unknown.body);

  const mail = await eventually(async () => {
    const items = await emailsTo(s.email);
    return items.find((m) => m.subject === 'Reset your ShopSphere password');
  }, 20000, 200);
  const token = /reset_token: (\S+)/.exec(mail.text)[1];

  const weak = await call(`${API}/auth/password-reset/confirm`, {
    method: 'POST', body: { token, new_password: 'short' },
  });
  assertEnvelope(weak, 422, 'VALIDATION_ERROR');
  const common = await call(`${API}/auth/password-reset/confirm`, {
    method: 'POST', body: { token, new_password: 'password123' },
  });
  assertEnvelope(common, 422, 'VALIDATION_ERROR');
  const wrongToken = await call(`${API}/auth/password-reset/confirm`, {
    method: 'POST', body: { token: `${token}x`, new_password: 'A-New-Password-77' },
  });
  assertEnvelope(wrongToken, 422, 'VALIDATION_ERROR');

  const ok = await call(`${API}/auth/password-reset/confirm`, {
    method: 'POST', body: { token, new_password: 'A-New-Password-77' },
  });
  assert.equal(ok.status, 200, ok.text);
  const reuse = await call(`${API}/auth/password-reset/confirm`, {
    method: 'POST', body: { token, new_password: 'Another-Password-88' },
  });
  assertEnvelope(reuse, 422, 'VALIDATION_ERROR');

  assertEnvelope(await login(s.email, PASSWORD), 401, 'AUTHENTICATION_ERROR');
  assert.equal((await login(s.email, 'A-New-Password-77')).status, 200);
  // Sessions from before the reset are over.
  const old = await call(`${API}/users/me`, { headers: bearer(s.access_token) });
  assertEnvelope(old, 401, 'AUTHENTICATION_ERROR');
});

test('registration validation: 409 on a taken email, any case', async () => {
  const account = await register();
  const dup = await call(`${API}/users`, {
    method: 'POST',
    body: newAccount({ email: account.email.toUpperCase() }),
  });
  assertEnvelope(dup, 409, 'CONFLICT');
  const dupName = await call(`${API}/users`, {
    method: 'POST', body: newAccount({ username: account.username.toUpperCase() }),
  });
  assertEnvelope(dupName, 409, 'CONFLICT');
  // The mixed-case address logs in in any case too.
  assert.equal((await login(account.email.toUpperCase())).status, 200);
});

test('registration validation: 422 for invalid fields', async () => {
  const cases = [
    [{ email: 'not-an-email' }, 'email'],
    [{ email: `a@${'x'.repeat(300)}.com` }, 'email'],
    [{ password: 'short1' }, 'password'],
    [{ password: 'password123' }, 'password'],
    [{ password: '1234567890' }, 'password'],
    [{ username: 'ab' }, 'username'],
    [{ username: 'has space' }, 'username'],
    [{ username: '.dot' }, 'username'],
    [{ username: 'x'.repeat(31) }, 'username'],
    [{ first_name: 'x'.repeat(101) }, 'first_name'],
    [{ first_name: '' }, 'first_name'],
    [{ last_name: 'a\u0007b' }, 'last_name'],
    [{ phone: '12' }, 'phone'],
    [{ phone: 'call me maybe' }, 'phone'],
    [{ role: 'admin' }, 'role'],
    [{ is_admin: true }, 'is_admin'],
  ];
  for (const [change, field] of cases) {
    const res = await call(`${API}/users`, { method: 'POST', body: newAccount(change) });
    assertEnvelope(res, 422, 'VALIDATION_ERROR');
    assert.equal(res.body.error.details, field, `${JSON.stringify(change)}: ${res.text}`);
  }
  for (const field of ['email', 'password', 'username']) {
    const body = newAccount();
    delete body[field];
    const res = await call(`${API}/users`, { method: 'POST', body });
    assertEnvelope(res, 422, 'VALIDATION_ERROR');
    assert.equal(res.body.error.details, field);
  }
});

test('malformed bodies are 400 and change nothing', async () => {
  const account = newAccount();
  const raw = async (body, type = 'application/json') => call(`${API}/users`, {
    method: 'POST', raw: body, headers: { 'content-type': type },
  });
  assertEnvelope(await raw('{"email": '), 400, 'VALIDATION_ERROR');
  assertEnvelope(await raw('[1, 2]'), 400, 'VALIDATION_ERROR');
  assertEnvelope(await raw('"just a string"'), 400, 'VALIDATION_ERROR');
  assertEnvelope(await raw(''), 400, 'VALIDATION_ERROR');
  const invalidUtf8 = Buffer.concat([
    Buffer.from(`{"email":"${account.email}","password":"${PASSWORD}","username":"${account.username}","first_name":"`),
    Buffer.from([0xff, 0xfe]),
    Buffer.from('"}'),
  ]);
  assertEnvelope(await raw(invalidUtf8), 400, 'VALIDATION_ERROR');
  for (const change of [{ email: 5 }, { password: ['x'] }, { username: {} }, { first_name: true }]) {
    const res = await call(`${API}/users`, { method: 'POST', body: newAccount(change) });
    assertEnvelope(res, 400, 'VALIDATION_ERROR');
  }
  // None of it created the account.
  assertEnvelope(await login(account.email), 401, 'AUTHENTICATION_ERROR');

  for (const path of ['/auth/login', '/auth/refresh', '/auth/password-reset', '/auth/password-reset/confirm']) {
    const res = await call(`${API}${path}`, {
      method: 'POST', raw: '{oops', headers: { 'content-type': 'application/json' },
    });
    assertEnvelope(res, 400, 'VALIDATION_ERROR');
    const arr = await call(`${API}${path}`, { method: 'POST', body: [] });
    assertEnvelope(arr, 400, 'VALIDATION_ERROR');
  }
  const missing = await call(`${API}/auth/login`, { method: 'POST', body: { email: 'a@b.co' } });
  assertEnvelope(missing, 422, 'VALIDATION_ERROR');
  const wrongType = await call(`${API}/auth/login`, { method: 'POST', body: { email: 1, password: 2 } });
  assertEnvelope(wrongType, 400, 'VALIDATION_ERROR');
  const extra = await call(`${API}/auth/login`, {
    method: 'POST', body: { email: 'a@b.co', password: 'x', remember: true },
  });
  assertEnvelope(extra, 422, 'VALIDATION_ERROR');
});

test('SQL meta-characters are stored verbatim and harmlessly', async () => {
  const nasty = "Robert'); DROP TABLE users;--";
  const s = await signedIn({ first_name: nasty, last_name: '%_\\ "quoted" $1' });
  const me = await call(`${API}/users/me`, { headers: bearer(s.access_token) });
  assert.equal(me.status, 200);
  assert.equal(me.body.first_name, nasty);
  assert.equal(me.body.last_name, '%_\\ "quoted" $1');
  const admin = await adminToken();
  const search = await call(`${API}/admin/users?q=${encodeURIComponent("%' OR '1'='1")}`, {
    headers: bearer(admin),
  });
  assert.equal(search.status, 200);
  assert.deepEqual(search.body.items, []);
  const addr = await call(`${API}/users/me/addresses`, {
    method: 'POST', headers: bearer(s.access_token),
    body: { line1: "1'; DELETE FROM addresses;--", city: 'Zürich', postal_code: '8001', country: 'CH' },
  });
  assert.equal(addr.status, 201, addr.text);
  assert.equal(addr.body.line1, "1'; DELETE FROM addresses;--");
  assert.equal(addr.body.city, 'Zürich');
  // Everyone else is still there.
  assert.equal((await call(`${API}/users/me`, { headers: bearer(s.access_token) })).status, 200);
});

test('key rotation: both keys published, old tokens verify, new ones carry the new kid', async () => {
  const s = await signedIn();
  const oldKid = decodePart(s.access_token.split('.')[0]).kid;
  const rotated = await call(`${serviceUrl('auth')}/internal/keys/rotate`, {
    method: 'POST', headers: INTERNAL,
  });
  assert.equal(rotated.status, 201, rotated.text);
  const newKid = rotated.body.kid;
  assert.notEqual(newKid, oldKid);
  const kids = (await call(`${BASE}/.well-known/jwks.json`)).body.keys.map((k) => k.kid);
  assert.ok(kids.includes(newKid) && kids.includes(oldKid), JSON.stringify(kids));

  // A token signed with the previous key still works everywhere.
  assert.equal((await call(`${API}/users/me`, { headers: bearer(s.access_token) })).status, 200);
  const again = await login(s.email);
  assert.equal(again.status, 200, again.text);
  assert.equal(decodePart(again.body.access_token.split('.')[0]).kid, newKid);
  // Verifiers meet an unknown kid and refetch the JWKS (rate-limited).
  await eventually(async () => (await call(`${API}/users/me`, {
    headers: bearer(again.body.access_token),
  })).status === 200, 10000, 500);
  const rotateAnonymously = await call(`${serviceUrl('auth')}/internal/keys/rotate`, { method: 'POST' });
  assertEnvelope(rotateAnonymously, 403, 'AUTHORIZATION_ERROR');
});
