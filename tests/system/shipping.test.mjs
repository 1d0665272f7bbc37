// shipping.test.mjs - rates from the tables (zones, weight tiers, free
// standard shipping), admin edits of the tables, shipments booked with the
// sandbox courier and tracked to delivered by signed webhooks, refused
// forgeries, and who may see a shipment.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { API, assertEnvelope, call, eventually, serviceUrl } from './lib.mjs';

const RUN = `${Date.now().toString(36)}${crypto.randomBytes(3).toString('hex')}`;
const INTERNAL = { 'X-Internal-Token': process.env.SHOPSPHERE_INTERNAL_SECRET ?? '' };
const SHIPPING = serviceUrl('shipping');
const COURIER = serviceUrl('sandbox-courier');

const HOME = {
  first_name: 'Ada', last_name: 'Lovelace', line1: '1 Main Street', city: 'Springfield',
  state: 'IL', postal_code: '62701', country: 'US', phone: '+15555550100',
};
const ABROAD = { line1: '1-1 Chiyoda', city: 'Tokyo', postal_code: '100-0001', country: 'JP' };

const bearer = (token) => ({ authorization: `Bearer ${token}` });

async function login(email, password) {
  const r = await call(`${API}/auth/login`, { method: 'POST', body: { email, password } });
  assert.equal(r.status, 200, `login ${email}: ${r.text}`);
  return r.body.access_token;
}

async function registerCustomer(tag) {
  const email = `ship-${tag}-${RUN}@example.com`;
  const password = `Parcel-${RUN}-Route!66`;
  const r = await call(`${API}/users`, {
    method: 'POST',
    body: { email, password, username: `ship_${tag}_${RUN}`, first_name: 'Ship', last_name: tag },
  });
  assert.equal(r.status, 201, `register: ${r.text}`);
  return { id: r.body.id, token: await login(email, password) };
}

let admin;
let alice;
let bob;
let light; // 800 g, 10.00 USD
let pricey; // 300 g, 30.00 USD

async function createProduct(categoryId, tag, price, weight) {
  const r = await call(`${API}/products`, {
    method: 'POST', headers: bearer(admin),
    body: {
      sku: `SHIP-${tag}-${RUN}`, name: `Parcel test ${tag} ${RUN}`, category_id: categoryId,
      price, currency: 'USD', stock: 1000, status: 'active',
      attributes: { weight_grams: weight },
    },
  });
  assert.equal(r.status, 201, `product: ${r.text}`);
  return r.body.id;
}

before(async () => {
  // The demo admin is created at start-up; wait until it can log in.
  admin = await eventually(async () => {
    const r = await call(`${API}/auth/login`, {
      method: 'POST',
      body: { email: process.env.SHOPSPHERE_ADMIN_EMAIL, password: process.env.SHOPSPHERE_ADMIN_PASSWORD },
    });
    return r.status === 200 ? r.body.access_token : null;
  }, 60000, 2000); // slow polling: failed logins are throttled per account
  const cat = await call(`${API}/categories`, {
    method: 'POST', headers: bearer(admin), body: { name: `Shipping ${RUN}`, slug: `shipping-${RUN}` },
  });
  assert.equal(cat.status, 201, `category: ${cat.text}`);
  light = await createProduct(cat.body.id, 'light', '10.00', 800);
  pricey = await createProduct(cat.body.id, 'pricey', '30.00', 300);
  alice = await registerCustomer('alice');
  bob = await registerCustomer('bob');
});

async function zones() {
  const r = await call(`${API}/shipping/zones`, { headers: bearer(admin) });
  assert.equal(r.status, 200, r.text);
  return r.body.items;
}

// What the tables say a parcel costs: the lightest tier holding the weight.
function expectFromTable(zone, method, weight) {
  const tiers = zone.rates.filter((t) => t.method === method && t.max_weight_grams >= weight)
    .sort((a, b) => a.max_weight_grams - b.max_weight_grams);
  return tiers[0];
}

const rates = (address, items) =>
  call(`${API}/shipping/rates`, { method: 'POST', body: { address, items } });

test('a domestic and an international address get the rates of their zones', async () => {
  const table = await zones();
  const domestic = table.find((z) => z.countries.some((c) => c.country === 'US' && c.region === ''));
  const world = table.find((z) => z.countries.some((c) => c.country === '*'));
  assert.ok(domestic && world, 'the seed maps US and the rest of the world');

  const items = [{ product_id: light, quantity: 2 }]; // 1600 g, 20.00 USD
  const home = await rates(HOME, items);
  assert.equal(home.status, 200, home.text);
  assert.equal(home.body.zone, domestic.code);
  assert.equal(home.body.weight_grams, 1600);
  const away = await rates(ABROAD, items);
  assert.equal(away.status, 200, away.text);
  assert.equal(away.body.zone, world.code);

  for (const [res, zone] of [[home, domestic], [away, world]]) {
    const methods = res.body.items.map((i) => i.method);
    assert.deepEqual(methods, ['standard', 'express']);
    for (const line of res.body.items) {
      const tier = expectFromTable(zone, line.method, 1600);
      assert.equal(line.amount, tier.amount, `${zone.code} ${line.method}`);
      assert.equal(line.currency, 'USD');
      assert.equal(line.estimated_days, tier.estimated_days);
      assert.match(line.amount, /^\d+\.\d\d$/);
    }
  }
  assert.notEqual(home.body.items[0].amount, away.body.items[0].amount);
  assert.notEqual(home.body.items[1].amount, away.body.items[1].amount);

  // The internal quote the order service uses reads the same tables.
  const q = await call(`${SHIPPING}/internal/shipping/quote`, {
    method: 'POST', headers: INTERNAL,
    body: { address: ABROAD, items, subtotal: '20.00', currency: 'USD' },
  });
  assert.equal(q.status, 200, q.text);
  assert.deepEqual(q.body.items.map((i) => i.amount), away.body.items.map((i) => i.amount));
});

test('standard shipping is free over the zone threshold, express never', async () => {
  const table = await zones();
  const domestic = table.find((z) => z.countries.some((c) => c.country === 'US' && c.region === ''));
  assert.ok(domestic.free_standard_threshold, 'the domestic zone has a threshold');
  const threshold = Number(domestic.free_standard_threshold);
  // Just under the threshold: pays. 30.00 a unit.
  const under = Math.max(1, Math.ceil(threshold / 30) - 1);
  const paid = await rates(HOME, [{ product_id: pricey, quantity: under }]);
  assert.equal(paid.status, 200, paid.text);
  if (under * 30 < threshold) assert.notEqual(paid.body.items[0].amount, '0.00');

  const over = Math.ceil(threshold / 30) + 1;
  const free = await rates(HOME, [{ product_id: pricey, quantity: over }]);
  assert.equal(free.status, 200, free.text);
  const [standard, express] = free.body.items;
  assert.equal(standard.method, 'standard');
  assert.equal(standard.amount, '0.00');
  assert.equal(standard.free_shipping, true);
  assert.notEqual(express.amount, '0.00');

  // The internal quote takes the subtotal as given.
  const q = await call(`${SHIPPING}/internal/shipping/quote`, {
    method: 'POST', headers: INTERNAL,
    body: { address: HOME, items: [{ product_id: light, quantity: 1 }],
      subtotal: domestic.free_standard_threshold, currency: 'USD' },
  });
  assert.equal(q.status, 200, q.text);
  assert.equal(q.body.items[0].amount, '0.00');
  // The international zone has no threshold: never free.
  const world = await rates(ABROAD, [{ product_id: pricey, quantity: over }]);
  assert.notEqual(world.body.items[0].amount, '0.00');
});

test('admins edit zones and rates, and quotes follow the new tables', async () => {
  const code = `t-${RUN}`;
  const zone = await call(`${API}/shipping/zones/${code}`, {
    method: 'PUT', headers: bearer(admin),
    body: { name: `Test ${RUN}`, currency: 'USD', free_standard_threshold: '15.00',
      countries: [{ country: 'AQ' }] },
  });
  assert.equal(zone.status, 200, zone.text);
  const put = await call(`${API}/shipping/zones/${code}/rates`, {
    method: 'PUT', headers: bearer(admin),
    body: { rates: [
      { method: 'standard', max_weight_grams: 1000, amount: '3.10', estimated_days: 30 },
      { method: 'standard', max_weight_grams: 2000, amount: '4.20', estimated_days: 31 },
      { method: 'express', max_weight_grams: 2000, amount: '9.30', estimated_days: 9 },
    ] },
  });
  assert.equal(put.status, 200, put.text);
  assert.equal(put.body.rates.length, 3);
  const polar = { line1: 'McMurdo Station', city: 'Ross Island', postal_code: 'BFPO 1', country: 'aq' };
  const r = await rates(polar, [{ product_id: light, quantity: 1 }]); // 800 g, 10.00
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.zone, code);
  assert.deepEqual(r.body.items.map((i) => [i.method, i.amount, i.estimated_days]),
    [['standard', '3.10', 30], ['express', '9.30', 9]]);
  const heavier = await rates(polar, [{ product_id: light, quantity: 2 }]); // 1600 g, 20.00
  assert.deepEqual(heavier.body.items.map((i) => i.amount), ['0.00', '9.30']);
  // Too heavy for every tier.
  const heavy = await rates(polar, [{ product_id: light, quantity: 3 }]);
  assertEnvelope(heavy, 422, 'VALIDATION_ERROR');

  // Bad tables are refused and change nothing.
  const bad = await call(`${API}/shipping/zones/${code}/rates`, {
    method: 'PUT', headers: bearer(admin),
    body: { rates: [{ method: 'teleport', max_weight_grams: 1, amount: '1.00', estimated_days: 1 }] },
  });
  assertEnvelope(bad, 422, 'VALIDATION_ERROR');
  assert.equal(bad.body.error.details, 'rates[0].method');
  const badAmount = await call(`${API}/shipping/zones/${code}/rates`, {
    method: 'PUT', headers: bearer(admin),
    body: { rates: [{ method: 'standard', max_weight_grams: 1, amount: '1.001', estimated_days: 1 }] },
  });
  assertEnvelope(badAmount, 422, 'VALIDATION_ERROR');
  const still = await rates(polar, [{ product_id: light, quantity: 1 }]);
  assert.equal(still.body.items[0].amount, '3.10');
  assertEnvelope(await call(`${API}/shipping/zones/no-such-${RUN}/rates`, {
    method: 'PUT', headers: bearer(admin),
    body: { rates: [{ method: 'standard', max_weight_grams: 1, amount: '1.00', estimated_days: 1 }] },
  }), 404, 'NOT_FOUND');

  // Only admins.
  assertEnvelope(await call(`${API}/shipping/zones`, { headers: bearer(alice.token) }),
    403, 'AUTHORIZATION_ERROR');
  assertEnvelope(await call(`${API}/shipping/zones/${code}`, {
    method: 'PUT', body: { name: 'x', currency: 'USD', countries: [{ country: 'AQ' }] },
  }), 401, 'AUTHENTICATION_ERROR');
});

test('an incomplete address or bad items are refused, naming the field', async () => {
  const items = [{ product_id: light, quantity: 1 }];
  const cases = [
    [{ ...HOME, line1: undefined }, 'address.line1'],
    [{ ...HOME, city: '' }, 'address.city'],
    [{ ...HOME, postal_code: '   ' }, 'address.postal_code'],
    [{ ...HOME, country: 'XX' }, 'address.country'],
    [{ ...HOME, country: 'USA' }, 'address.country'],
  ];
  for (const [address, field] of cases) {
    const r = await rates(address, items);
    assertEnvelope(r, 422, 'VALIDATION_ERROR');
    assert.equal(r.body.error.details, field, r.text);
  }
  const noItems = await rates(HOME, []);
  assertEnvelope(noItems, 422, 'VALIDATION_ERROR');
  const zero = await rates(HOME, [{ product_id: light, quantity: 0 }]);
  assertEnvelope(zero, 422, 'VALIDATION_ERROR');
  assert.equal(zero.body.error.details, 'items[0].quantity');
  const unknown = await rates(HOME, [{ product_id: crypto.randomUUID(), quantity: 1 }]);
  assertEnvelope(unknown, 422, 'VALIDATION_ERROR');
  assert.equal(unknown.body.error.details, 'items[0].product_id');
  assertEnvelope(await call(`${API}/shipping/rates`, { method: 'POST', raw: '{"address":',
    headers: { 'content-type': 'application/json' } }), 400, 'VALIDATION_ERROR');
  assertEnvelope(await call(`${API}/shipping/rates`, { method: 'POST',
    body: { address: 'home', items } }), 400, 'VALIDATION_ERROR');
});

// --- shipments -------------------------------------------------------------

async function createShipment(user, extra = {}) {
  const body = {
    order_id: crypto.randomUUID(), user_id: user.id, address: HOME, method: 'express',
    items: [{ product_id: light, quantity: 1 }, { product_id: pricey, quantity: 2 }], ...extra,
  };
  const r = await call(`${SHIPPING}/internal/shipments`, { method: 'POST', headers: INTERNAL, body });
  assert.equal(r.status, 201, r.text);
  return { shipment: r.body, body };
}

const getShipment = (id, token) =>
  call(`${API}/shipments/${id}`, { headers: token ? bearer(token) : {} });

test('a shipment is booked with the courier and tracked to delivered by webhooks', async () => {
  const { shipment, body } = await createShipment(alice);
  assert.equal(shipment.order_id, body.order_id);
  assert.equal(shipment.user_id, alice.id);
  assert.equal(shipment.carrier, 'sandbox');
  assert.equal(shipment.method, 'express');
  assert.equal(shipment.status, 'label_created');
  assert.equal(shipment.weight_grams, 800 + 2 * 300);
  assert.match(shipment.tracking_number, /^SBX[0-9A-F]{12}$/);
  assert.match(shipment.label_url, /^http:\/\/.+\/v1\/labels\/SBX/);
  assert.deepEqual(shipment.events.map((e) => e.status), ['pending', 'label_created']);

  // Idempotent on order_id.
  const again = await call(`${SHIPPING}/internal/shipments`, { method: 'POST', headers: INTERNAL, body });
  assert.equal(again.status, 200, again.text);
  assert.equal(again.body.id, shipment.id);
  assert.equal(again.body.tracking_number, shipment.tracking_number);

  const label = await call(shipment.label_url);
  assert.equal(label.status, 200);
  assert.match(label.text, new RegExp(shipment.tracking_number));

  // Speed the sandbox courier up for this parcel.
  const speed = await call(`${COURIER}/v1/shipments/${shipment.tracking_number}/speed`, {
    method: 'POST', body: { step_ms: 300 },
  });
  assert.equal(speed.status, 200, speed.text);

  const delivered = await eventually(async () => {
    const r = await getShipment(shipment.id, alice.token);
    return r.status === 200 && r.body.status === 'delivered' ? r.body : null;
  }, 45000, 250);
  assert.deepEqual(delivered.events.map((e) => e.status),
    ['pending', 'label_created', 'in_transit', 'out_for_delivery', 'delivered']);
  for (const e of delivered.events) {
    assert.match(e.occurred_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(typeof e.description, 'string');
  }
  assert.equal(delivered.events.at(-1).location, HOME.city);

  const list = await call(`${API}/shipments?order_id=${body.order_id}`, { headers: bearer(alice.token) });
  assert.equal(list.status, 200, list.text);
  assert.equal(list.body.items.length, 1);
  assert.equal(list.body.items[0].id, shipment.id);
  assert.equal(list.body.next_cursor, null);
  const mine = await call(`${API}/shipments?limit=100`, { headers: bearer(alice.token) });
  assert.ok(mine.body.items.some((s) => s.id === shipment.id));
});

test('an undeliverable parcel ends in exception', async () => {
  const { shipment } = await createShipment(alice, {
    address: { ...HOME, line1: '13 Undeliverable Lane' }, method: 'standard',
  });
  await call(`${COURIER}/v1/shipments/${shipment.tracking_number}/speed`, {
    method: 'POST', body: { step_ms: 200 },
  });
  const done = await eventually(async () => {
    const r = await getShipment(shipment.id, alice.token);
    return r.body?.status === 'exception' ? r.body : null;
  }, 45000, 250);
  assert.equal(done.events.at(-1).status, 'exception');
});

function sign(secret, timestamp, payload) {
  const mac = crypto.createHmac('sha256', secret).update(`${timestamp}.${payload}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

const webhook = (payload, signature) => call(`${API}/shipping/webhooks/sandbox`, {
  method: 'POST', raw: payload,
  headers: { 'content-type': 'application/json', ...(signature ? { 'Sandbox-Courier-Signature': signature } : {}) },
});

test('forged, stale and replayed webhooks change nothing', async () => {
  const { shipment } = await createShipment(bob);
  // Park the courier's own progression of this parcel for an hour.
  const park = await call(`${COURIER}/v1/shipments/${shipment.tracking_number}/speed`, {
    method: 'POST', body: { step_ms: 3600000 },
  });
  assert.equal(park.status, 200, park.text);
  const now = Math.floor(Date.now() / 1000);
  const event = (id, status) => JSON.stringify({
    id, type: 'tracking.updated', created: now,
    data: { tracking_number: shipment.tracking_number, status, description: 'forged',
      location: 'nowhere', occurred_at: new Date().toISOString() },
  });
  const forged = event(`evt_forged_${RUN}`, 'delivered');
  assertEnvelope(await webhook(forged), 401, 'AUTHENTICATION_ERROR');
  assertEnvelope(await webhook(forged, sign('not-the-secret', now, forged)), 401, 'AUTHENTICATION_ERROR');
  assertEnvelope(await webhook(forged, `t=${now},v1=${'0'.repeat(64)}`), 401, 'AUTHENTICATION_ERROR');
  assertEnvelope(await webhook(forged, 'nonsense'), 401, 'AUTHENTICATION_ERROR');
  assertEnvelope(await call(`${API}/shipping/webhooks/nobody`, { method: 'POST', raw: forged }),
    404, 'NOT_FOUND');

  const secret = process.env.SHOPSPHERE_COURIER_WEBHOOK_SECRET;
  assert.ok(secret, 'the test profile has a courier webhook secret');
  // A genuine signature an hour old is a replay.
  assertEnvelope(await webhook(forged, sign(secret, now - 3600, forged)), 401, 'AUTHENTICATION_ERROR');
  // Signed for another body.
  const other = event(`evt_other_${RUN}`, 'delivered');
  assertEnvelope(await webhook(forged, sign(secret, now, other)), 401, 'AUTHENTICATION_ERROR');
  let r = await getShipment(shipment.id, bob.token);
  assert.equal(r.body.status, 'label_created');
  assert.equal(r.body.events.length, 2);

  // A genuine one applies once; its redelivery is acknowledged and ignored.
  const real = event(`evt_real_${RUN}`, 'in_transit');
  const first = await webhook(real, sign(secret, now, real));
  assert.equal(first.status, 200, first.text);
  assert.equal(first.body.outcome, 'applied');
  const second = await webhook(real, sign(secret, now, real));
  assert.equal(second.status, 200, second.text);
  assert.equal(second.body.outcome, 'duplicate');
  r = await getShipment(shipment.id, bob.token);
  assert.equal(r.body.status, 'in_transit');
  assert.equal(r.body.events.filter((e) => e.status === 'in_transit').length, 1);

  // Signed but unreadable, or for a tracking number nobody has.
  const junk = JSON.stringify({ id: `evt_junk_${RUN}`, type: 'tracking.updated', data: { status: 'x' } });
  assertEnvelope(await webhook(junk, sign(secret, now, junk)), 400, 'VALIDATION_ERROR');
  const stray = JSON.stringify({ id: `evt_stray_${RUN}`, type: 'tracking.updated', created: now,
    data: { tracking_number: `SBXNOPE${RUN}`, status: 'delivered', description: 'x',
      occurred_at: new Date().toISOString() } });
  assertEnvelope(await webhook(stray, sign(secret, now, stray)), 404, 'NOT_FOUND');
});

test('unknown shipments and other customers\' shipments are 404', async () => {
  const { shipment, body } = await createShipment(alice);
  assertEnvelope(await getShipment(crypto.randomUUID(), alice.token), 404, 'NOT_FOUND');
  assertEnvelope(await getShipment('not-a-uuid', alice.token), 404, 'NOT_FOUND');
  assertEnvelope(await getShipment(shipment.id, bob.token), 404, 'NOT_FOUND');
  const list = await call(`${API}/shipments?order_id=${body.order_id}`, { headers: bearer(bob.token) });
  assert.equal(list.status, 200, list.text);
  assert.deepEqual(list.body.items, []);
  assertEnvelope(await getShipment(shipment.id), 401, 'AUTHENTICATION_ERROR');
  const asAdmin = await getShipment(shipment.id, admin);
  assert.equal(asAdmin.status, 200, asAdmin.text);
  assert.equal(asAdmin.body.id, shipment.id);
  assertEnvelope(await call(`${API}/shipments?order_id=nope`, { headers: bearer(alice.token) }),
    422, 'VALIDATION_ERROR');
});

test('the internal routes need the internal token and valid input', async () => {
  const body = { order_id: crypto.randomUUID(), user_id: alice.id, address: HOME, method: 'standard',
    items: [{ product_id: light, quantity: 1 }] };
  assertEnvelope(await call(`${SHIPPING}/internal/shipments`, { method: 'POST', body }),
    403, 'AUTHORIZATION_ERROR');
  const bad = await call(`${SHIPPING}/internal/shipments`, {
    method: 'POST', headers: INTERNAL, body: { ...body, method: 'teleport' },
  });
  assertEnvelope(bad, 422, 'VALIDATION_ERROR');
  assert.equal(bad.body.error.details, 'method');
  const noCountry = await call(`${SHIPPING}/internal/shipments`, {
    method: 'POST', headers: INTERNAL, body: { ...body, address: { ...HOME, country: undefined } },
  });
  assertEnvelope(noCountry, 422, 'VALIDATION_ERROR');
  assert.equal(noCountry.body.error.details, 'address.country');
  // Nothing was created for that order.
  const look = await call(`${API}/shipments?order_id=${body.order_id}`, { headers: bearer(admin) });
  assert.deepEqual(look.body.items, []);
});
