// reviews.test.mjs - reviews and ratings through the gateway (DESIGN §5
// "Reviews", docs/reviews.md): only buyers review (learned from order
// events), one review per product, moderation by the moderator role with
// automatic flags and reasons, the rating aggregate in the list and on the
// product, helpful votes, sorts, pagination, and edits by the author.
// Every test makes its own products, buyers and reviews.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { API, assertEnvelope, call, eventually, adminToken, newCategory } from './lib.mjs';

const RUN = randomUUID().slice(0, 8);
let admin;
let moderator;
let moderatorAccount;
let categoryId;
let seq = 0;

const auth = (token) => ({ authorization: `Bearer ${token}` });

const ADDRESS = {
  first_name: 'Ada', last_name: 'Lovelace', line1: '1 Market St', city: 'San Francisco',
  state: 'CA', postal_code: '94105', country: 'US', phone: '+14155550100',
};

async function login(email, password) {
  const r = await call(`${API}/auth/login`, { method: 'POST', body: { email, password } });
  assert.equal(r.status, 200, `login ${email}: ${r.text}`);
  return r.body.access_token;
}

async function newUser(first = 'Rita', last = 'Reviewer') {
  const n = `${RUN}-${++seq}`;
  const email = `rev-${n}@example.com`;
  const password = `Stars-${n}-five!`;
  const r = await call(`${API}/users`, {
    method: 'POST',
    body: { email, password, username: `rev_${n}`.replace(/-/g, '_'), first_name: first, last_name: last },
  });
  assert.equal(r.status, 201, `register: ${r.text}`);
  return { id: r.body.id, email, password, token: await login(email, password) };
}

async function newProduct() {
  const n = `${RUN}-${++seq}`;
  const r = await call(`${API}/products`, {
    method: 'POST', headers: auth(admin),
    body: { sku: `REV-${n}`, name: `Review test ${n}`, description: 'test', category_id: categoryId,
      price: '9.99', currency: 'USD', stock: 100, status: 'active' },
  });
  assert.equal(r.status, 201, `create product: ${r.text}`);
  return r.body.id;
}

// A confirmed order of the products: the review service learns the purchase
// from order.confirmed.
async function buy(user, ...productIds) {
  const c = await call(`${API}/carts`, { method: 'POST', headers: auth(user.token), body: {} });
  assert.equal(c.status, 201, c.text);
  for (const id of productIds) {
    const r = await call(`${API}/carts/${c.body.id}/items`, {
      method: 'POST', headers: auth(user.token), body: { product_id: id, quantity: 1 },
    });
    assert.equal(r.status, 201, r.text);
  }
  const o = await call(`${API}/orders`, {
    method: 'POST', headers: { ...auth(user.token), 'idempotency-key': randomUUID() },
    body: { cart_id: c.body.id, shipping_address: ADDRESS, shipping_method: 'standard',
      payment_method: { type: 'card', token: 'tok_visa' } },
  });
  assert.equal(o.status, 201, o.text);
  assert.equal(o.body.status, 'confirmed');
  return o.body;
}

const postReview = (user, productId, body) =>
  call(`${API}/products/${productId}/reviews`, { method: 'POST', headers: auth(user.token), body });

// Writes a review as soon as the purchase has reached the review service.
async function reviewAsBuyer(user, productId, body) {
  return eventually(async () => {
    const r = await postReview(user, productId, body);
    return r.status === 403 ? null : r;
  }, 30000, 200);
}

const approve = (id, token = moderator) =>
  call(`${API}/admin/reviews/${id}/approve`, { method: 'POST', headers: auth(token) });

const list = (productId, query = '') => call(`${API}/products/${productId}/reviews${query}`);

// Reads the product as the admin (signed-in answers are never edge-cached).
async function product(id) {
  const r = await call(`${API}/products/${id}`, { headers: auth(admin) });
  assert.equal(r.status, 200, r.text);
  return r.body;
}

// Walks the moderation queue for one review.
async function findInQueue(status, id) {
  let cursor = null;
  for (;;) {
    const q = await call(`${API}/admin/reviews?status=${status}&limit=100${cursor ? `&cursor=${cursor}` : ''}`,
      { headers: auth(moderator) });
    assert.equal(q.status, 200, q.text);
    const hit = q.body.items.find((r) => r.id === id);
    if (hit) return hit;
    if (!q.body.next_cursor) return null;
    cursor = q.body.next_cursor;
  }
}

before(async () => {
  admin = await adminToken();
  categoryId = await newCategory(admin, `Reviews ${RUN}`, `reviews-${RUN}`);
  // A moderator: a registered account the admin gives the role.
  const m = await newUser('Mo', 'Derator');
  const promote = await call(`${API}/admin/users/${m.id}`, {
    method: 'PATCH', headers: auth(admin), body: { role: 'moderator' },
  });
  assert.equal(promote.status, 200, promote.text);
  moderator = await login(m.email, m.password);
  moderatorAccount = m;
});

test('only a buyer reviews; pending until a moderator approves; then counted and shown; one per product', async () => {
  const p = await newProduct();
  const stranger = await newUser();
  const buyer = await newUser('Alice', 'Buyer');
  await buy(buyer, p);

  const denied = await postReview(stranger, p, { rating: 5, title: 'Great', body: 'Never bought it' });
  assertEnvelope(denied, 403, 'AUTHORIZATION_ERROR');
  const anonymous = await call(`${API}/products/${p}/reviews`, {
    method: 'POST', body: { rating: 5, title: 'x', body: 'y' },
  });
  assertEnvelope(anonymous, 401, 'AUTHENTICATION_ERROR');

  const r = await reviewAsBuyer(buyer, p, { rating: 4, title: 'Solid kettle', body: 'Boils fast and pours cleanly.' });
  assert.equal(r.status, 201, r.text);
  const review = r.body;
  assert.equal(review.status, 'pending');
  assert.equal(review.product_id, p);
  assert.equal(review.user_id, buyer.id);
  assert.equal(review.author_name, 'Alice B.');
  assert.equal(review.rating, 4);
  assert.equal(review.verified_purchase, true);
  assert.equal(review.helpful_count, 0);
  assert.deepEqual(review.flags, []);
  assert.match(review.created_at, /^\d{4}-\d\d-\d\dT/);

  // Pending: not in the list, not in the rating; the author still sees it.
  let l = await list(p);
  assert.equal(l.status, 200, l.text);
  assert.deepEqual(l.body.items, []);
  assert.equal(l.body.rating_average, null);
  assert.equal(l.body.rating_count, 0);
  assert.deepEqual(l.body.rating_histogram, { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 });
  assert.equal(l.body.next_cursor, null);
  assert.equal((await call(`${API}/reviews/${review.id}`, { headers: auth(buyer.token) })).status, 200);
  assertEnvelope(await call(`${API}/reviews/${review.id}`), 404, 'NOT_FOUND');

  // A customer cannot moderate.
  assertEnvelope(await call(`${API}/admin/reviews`, { headers: auth(buyer.token) }), 403, 'AUTHORIZATION_ERROR');
  assertEnvelope(await approve(review.id, buyer.token), 403, 'AUTHORIZATION_ERROR');
  assertEnvelope(await call(`${API}/admin/reviews/${review.id}/reject`, {
    method: 'POST', headers: auth(stranger.token), body: { reason: 'no' },
  }), 403, 'AUTHORIZATION_ERROR');

  // The moderator sees it in the queue and approves it.
  const queued = await findInQueue('pending', review.id);
  assert.ok(queued, 'the review waits in the pending queue');
  const ok = await approve(review.id);
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.body.status, 'approved');
  assertEnvelope(await approve(review.id), 409, 'CONFLICT');
  assert.equal(await findInQueue('pending', review.id), null);
  assert.ok(await findInQueue('approved', review.id));

  l = await list(p);
  assert.deepEqual(l.body.items.map((i) => i.id), [review.id]);
  assert.equal(l.body.items[0].status, 'approved');
  assert.equal(l.body.rating_average, '4.0');
  assert.equal(l.body.rating_count, 1);
  assert.deepEqual(l.body.rating_histogram, { 1: 0, 2: 0, 3: 0, 4: 1, 5: 0 });
  assert.equal((await call(`${API}/reviews/${review.id}`)).status, 200);

  // The product's read model follows by review.approved.
  const seen = await eventually(async () => {
    const prod = await product(p);
    return prod.rating_count === 1 ? prod : null;
  }, 30000, 200);
  assert.equal(seen.rating_average, '4.0');
  // And anonymous catalog readers see it within a few seconds.
  await eventually(async () => (await call(`${API}/products/${p}`)).body.rating_count === 1, 30000, 250);

  // A second review of the same product by the same buyer: 409.
  const again = await postReview(buyer, p, { rating: 1, title: 'Again', body: 'Second thoughts' });
  assertEnvelope(again, 409, 'CONFLICT');
});

test('bad input is refused with the field named', async () => {
  const p = await newProduct();
  const buyer = await newUser();
  await buy(buyer, p);
  const good = { rating: 3, title: 'Fine', body: 'It works as described.' };
  // The body is checked before anything else: these answers do not wait for
  // the purchase to reach the review service.
  for (const rating of [4.5, '5', 0, 6, -1, null, true, 1e30]) {
    const r = await postReview(buyer, p, { ...good, rating });
    assert.ok([400, 422].includes(r.status), `rating ${rating}: ${r.status}`);
    assertEnvelope(r, r.status, 'VALIDATION_ERROR');
    assert.equal(r.body.error.details, 'rating');
  }
  const { rating: _r, ...noRating } = good;
  assert.equal((await postReview(buyer, p, noRating)).body.error.details, 'rating');
  const long = await postReview(buyer, p, { ...good, title: 'x'.repeat(121) });
  assertEnvelope(long, 422, 'VALIDATION_ERROR');
  assert.equal(long.body.error.details, 'title');
  const huge = await postReview(buyer, p, { ...good, body: 'y'.repeat(5001) });
  assertEnvelope(huge, 422, 'VALIDATION_ERROR');
  assert.equal(huge.body.error.details, 'body');
  const blank = await postReview(buyer, p, { ...good, title: '   ' });
  assertEnvelope(blank, 422, 'VALIDATION_ERROR');
  const unknown = await postReview(buyer, p, { ...good, status: 'approved' });
  assertEnvelope(unknown, 422, 'VALIDATION_ERROR');
  assert.equal(unknown.body.error.details, 'status');
  const badUtf8 = await call(`${API}/products/${p}/reviews`, {
    method: 'POST', headers: { ...auth(buyer.token), 'content-type': 'application/json' },
    raw: Buffer.concat([Buffer.from('{"rating":3,"title":"'), Buffer.from([0xc3, 0x28]), Buffer.from('","body":"x"}')]),
  });
  assertEnvelope(badUtf8, 400, 'VALIDATION_ERROR');
  assertEnvelope(await postReview(buyer, 'not-a-uuid', good), 404, 'NOT_FOUND');
  for (const q of ['?sort=oldest', '?limit=0', '?limit=101', '?cursor=nope', "?cursor=1.'%20OR%201=1--"]) {
    const r = await list(p, q);
    assertEnvelope(r, 422, 'VALIDATION_ERROR');
  }
  assertEnvelope(await call(`${API}/admin/reviews?status=gone`, { headers: auth(moderator) }), 422, 'VALIDATION_ERROR');

  // SQL meta-characters and 5000 characters of text are just text.
  const sneaky = "Robert'); DROP TABLE reviews; --";
  const r = await reviewAsBuyer(buyer, p, { rating: 3, title: sneaky, body: 'é'.repeat(5000) });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.title, sneaky);
  assert.equal(r.body.body.length, 5000);
});

test('the author edits and deletes; another user gets 404; an edit goes back to moderation', async () => {
  const p = await newProduct();
  const author = await newUser();
  const other = await newUser();
  await buy(author, p);
  const r = await reviewAsBuyer(author, p, { rating: 5, title: 'Love it', body: 'Best purchase this year.' });
  assert.equal(r.status, 201, r.text);
  const id = r.body.id;
  assert.equal((await approve(id)).status, 200);
  assert.equal((await list(p)).body.rating_count, 1);

  const path = `${API}/reviews/${id}`;
  assertEnvelope(await call(path, { method: 'PATCH', headers: auth(other.token), body: { rating: 1 } }), 404, 'NOT_FOUND');
  assertEnvelope(await call(path, { method: 'DELETE', headers: auth(other.token) }), 404, 'NOT_FOUND');
  assertEnvelope(await call(path, { method: 'PATCH', headers: auth(author.token), body: {} }), 422, 'VALIDATION_ERROR');
  assertEnvelope(await call(path, { method: 'PATCH', headers: auth(author.token), body: { rating: 7 } }), 422, 'VALIDATION_ERROR');

  const edit = await call(path, { method: 'PATCH', headers: auth(author.token), body: { rating: 3, title: 'Good, not great' } });
  assert.equal(edit.status, 200, edit.text);
  assert.equal(edit.body.rating, 3);
  assert.equal(edit.body.title, 'Good, not great');
  assert.equal(edit.body.body, 'Best purchase this year.');
  assert.equal(edit.body.status, 'pending');
  let l = await list(p);
  assert.equal(l.body.rating_count, 0, 'an edited review leaves the rating until approved again');
  assert.deepEqual(l.body.items, []);
  assert.equal((await approve(id)).status, 200);
  l = await list(p);
  assert.equal(l.body.rating_average, '3.0');
  assert.deepEqual(l.body.rating_histogram, { 1: 0, 2: 0, 3: 1, 4: 0, 5: 0 });

  const del = await call(path, { method: 'DELETE', headers: auth(author.token) });
  assert.equal(del.status, 204, del.text);
  assertEnvelope(await call(path, { headers: auth(author.token) }), 404, 'NOT_FOUND');
  l = await list(p);
  assert.equal(l.body.rating_count, 0);
  assert.equal(l.body.rating_average, null);
  await eventually(async () => (await product(p)).rating_count === 0, 30000, 200);
  // Deleted, the buyer may write a new one.
  const fresh = await postReview(author, p, { rating: 2, title: 'Changed my mind', body: 'It broke.' });
  assert.equal(fresh.status, 201, fresh.text);
});

test('helpful votes (one per user), sorts, pagination and the histogram', async () => {
  const p = await newProduct();
  // One at a time: registration hashes a password, and the machine may be
  // loaded; what this test is about comes after.
  const buyers = [];
  for (let i = 0; i < 3; i++) {
    buyers.push(await newUser());
    await buy(buyers[i], p);
  }
  const voter = await newUser();
  const ids = [];
  for (const [i, rating] of [2, 5, 4].entries()) {
    const r = await reviewAsBuyer(buyers[i], p, { rating, title: `Rated ${rating}`, body: `My honest take number ${i} on it.` });
    assert.equal(r.status, 201, r.text);
    assert.equal((await approve(r.body.id)).status, 200);
    ids.push(r.body.id);
  }
  const [two, five, four] = ids;

  // Helpful: one vote per user; not on one's own review.
  const vote = (id, user) => call(`${API}/reviews/${id}/helpful`, { method: 'POST', headers: auth(user.token) });
  let v = await vote(two, voter);
  assert.equal(v.status, 200, v.text);
  assert.equal(v.body.helpful_count, 1);
  assertEnvelope(await vote(two, voter), 409, 'CONFLICT');
  assertEnvelope(await vote(two, buyers[0]), 403, 'AUTHORIZATION_ERROR');
  v = await vote(two, buyers[1]);
  assert.equal(v.body.helpful_count, 2);
  assert.equal((await vote(four, voter)).body.helpful_count, 1);
  assertEnvelope(await call(`${API}/reviews/${two}/helpful`, { method: 'POST' }), 401, 'AUTHENTICATION_ERROR');

  const order = async (sort) => (await list(p, `?sort=${sort}`)).body.items.map((i) => i.id);
  assert.deepEqual(await order('newest'), [four, five, two]);
  assert.deepEqual(await order('rating_desc'), [five, four, two]);
  assert.deepEqual(await order('rating_asc'), [two, four, five]);
  assert.deepEqual(await order('helpful'), [two, four, five]);

  // Pages of one, by every sort, give every review once.
  for (const sort of ['newest', 'helpful', 'rating_desc', 'rating_asc']) {
    const seen = [];
    let cursor = null;
    do {
      const page = await list(p, `?sort=${sort}&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assert.equal(page.status, 200, page.text);
      assert.ok(page.body.items.length <= 1);
      seen.push(...page.body.items.map((i) => i.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    assert.deepEqual(seen, await order(sort), sort);
  }

  const l = await list(p);
  assert.equal(l.body.rating_count, 3);
  assert.equal(l.body.rating_average, '3.7'); // 11 / 3 = 3.67, half-up
  assert.deepEqual(l.body.rating_histogram, { 1: 0, 2: 1, 3: 0, 4: 1, 5: 1 });
  assert.deepEqual(Object.keys(l.body.rating_histogram).sort(), ['1', '2', '3', '4', '5']);
  await eventually(async () => {
    const prod = await product(p);
    return prod.rating_count === 3 && prod.rating_average === '3.7';
  }, 30000, 200);
});

test('automatic flags reach the moderator with reasons; a rejection needs a reason', async () => {
  const p = await newProduct();
  const buyer = await newUser();
  const copycat = await newUser();
  await buy(buyer, p);
  await buy(copycat, p);
  const r = await reviewAsBuyer(buyer, p, {
    rating: 1, title: 'AWFUL', body: 'THIS KETTLE IS TERRIBLE, BUY A BETTER ONE AT WWW.ELSEWHERE.EXAMPLE',
  });
  assert.equal(r.status, 201, r.text);
  const codes = r.body.flags.map((f) => f.code).sort();
  assert.deepEqual(codes, ['link', 'shouting']);
  for (const f of r.body.flags) assert.ok(f.reason.length > 0);

  const copy = await reviewAsBuyer(copycat, p, {
    rating: 1, title: 'Same here', body: 'this kettle is terrible; buy a better one at www.elsewhere.example!',
  });
  assert.equal(copy.status, 201, copy.text);
  assert.ok(copy.body.flags.some((f) => f.code === 'duplicate'), JSON.stringify(copy.body.flags));

  const queued = await findInQueue('pending', r.body.id);
  assert.deepEqual(queued.flags.map((f) => f.code).sort(), ['link', 'shouting']);
  assert.ok(queued.flags.every((f) => typeof f.reason === 'string' && f.reason));

  const reject = (body) => call(`${API}/admin/reviews/${r.body.id}/reject`, {
    method: 'POST', headers: auth(moderator), body,
  });
  assertEnvelope(await reject({}), 422, 'VALIDATION_ERROR');
  assertEnvelope(await reject({ reason: '  ' }), 422, 'VALIDATION_ERROR');
  const done = await reject({ reason: 'links to another shop' });
  assert.equal(done.status, 200, done.text);
  assert.equal(done.body.status, 'rejected');
  assert.equal(done.body.reject_reason, 'links to another shop');
  assertEnvelope(await reject({ reason: 'again' }), 409, 'CONFLICT');
  assert.ok(await findInQueue('rejected', r.body.id));
  // The author sees the decision; the public does not see the review.
  const mine = await call(`${API}/reviews/${r.body.id}`, { headers: auth(buyer.token) });
  assert.equal(mine.body.status, 'rejected');
  assert.deepEqual((await list(p)).body.items, []);
  // Rejected counts as the buyer's review: a second one is still 409.
  assertEnvelope(await postReview(buyer, p, { rating: 2, title: 'x', body: 'y' }), 409, 'CONFLICT');
  assertEnvelope(await call(`${API}/admin/reviews/${randomUUID()}/approve`, {
    method: 'POST', headers: auth(moderator),
  }), 404, 'NOT_FOUND');
});

test('concurrent approvals keep the rating exact', async () => {
  const p = await newProduct();
  const ratings = [5, 4, 4, 3, 1, 5];
  // Buyers and their reviews one at a time (registration is slow on a
  // loaded machine); the approvals below are what races.
  const ids = [];
  for (const [i, rating] of ratings.entries()) {
    const b = await newUser();
    await buy(b, p);
    const r = await reviewAsBuyer(b, p, { rating, title: `Review ${i}`, body: `Independent opinion ${i} ${randomUUID()}` });
    assert.equal(r.status, 201, r.text);
    ids.push(r.body.id);
  }
  // Every review approved at once, each twice: one of each pair wins.
  const answers = await Promise.all([...ids, ...ids].map((id) => approve(id)));
  assert.equal(answers.filter((a) => a.status === 200).length, ids.length);
  assert.equal(answers.filter((a) => a.status === 409).length, ids.length);

  const l = await list(p);
  assert.equal(l.body.rating_count, 6);
  assert.deepEqual(l.body.rating_histogram, { 1: 1, 2: 0, 3: 1, 4: 2, 5: 2 });
  assert.equal(l.body.rating_average, '3.7'); // 22 / 6 = 3.67
  await eventually(async () => {
    const prod = await product(p);
    return prod.rating_count === 6 && prod.rating_average === '3.7';
  }, 30000, 200);
});

// The binary the platform under test runs: the supervisor's own executable.
function binary() {
  const pid = readFileSync(`${process.env.SHOPSPHERE_VAR_DIR}/platform.pid`, 'utf8').trim();
  return readlinkSync(`/proc/${pid}/exe`);
}

test('every moderation decision is in the audit log (audit.recorded)', async () => {
  const p = await newProduct();
  const buyer = await newUser();
  await buy(buyer, p);
  const r = await reviewAsBuyer(buyer, p, { rating: 4, title: 'Audited', body: 'A review to decide on.' });
  assert.equal(r.status, 201, r.text);
  const id = r.body.id;

  // Follow audit.recorded on the exchange. The tail's queue is bound a
  // moment after it starts: decide (reject, approve, reject, ...) until its
  // records show up, then read them.
  const tail = spawn(binary(), ['events', 'tail', '--type', 'audit.recorded', '--timeout', '120'],
    { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  tail.stdout.on('data', (d) => { out += d; });
  const records = () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l))
    .filter((e) => e.data?.target?.id === id);
  try {
    let approved = false;
    await eventually(async () => {
      const res = approved
        ? await call(`${API}/admin/reviews/${id}/reject`, { method: 'POST', headers: auth(moderator), body: { reason: 'probe' } })
        : await approve(id);
      assert.equal(res.status, 200, res.text);
      approved = !approved;
      return eventually(async () => records().length > 0, 3000, 100).catch(() => false);
    }, 60000, 100);
    const rec = records()[0];
    assert.equal(rec.event_type, 'audit.recorded');
    const d = rec.data;
    assert.deepEqual(d.actor, { id: moderatorAccount.id, email: moderatorAccount.email, role: 'moderator' });
    assert.ok(['review.approve', 'review.reject'].includes(d.action), d.action);
    assert.deepEqual(d.target, { type: 'review', id });
    assert.ok(d.before && typeof d.before.status === 'string');
    assert.ok(d.after && typeof d.after.status === 'string');
    assert.notEqual(d.before.status, d.after.status);
    if (d.action === 'review.reject') assert.equal(d.after.reason, 'probe');
    assert.match(d.trace_id, /^[0-9a-f]{32}$/);
    assert.match(d.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  } finally {
    tail.kill('SIGTERM');
  }
});

test('a cancelled order takes the purchase back: the review is marked unverified, a new one is 403', async () => {
  const p = await newProduct();
  const buyer = await newUser();
  const order = await buy(buyer, p);
  const r = await reviewAsBuyer(buyer, p, { rating: 2, title: 'Meh', body: 'Not what I hoped for.' });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.verified_purchase, true);

  const cancel = await call(`${API}/orders/${order.id}/cancel`, { method: 'POST', headers: auth(buyer.token) });
  assert.equal(cancel.status, 200, cancel.text);
  assert.equal(cancel.body.status, 'cancelled');
  // order.cancelled reaches the review service.
  await eventually(async () => {
    const mine = await call(`${API}/reviews/${r.body.id}`, { headers: auth(buyer.token) });
    return mine.status === 200 && mine.body.verified_purchase === false;
  }, 30000, 200);
  // The review stays for the moderator to judge; a new one needs a purchase.
  const del = await call(`${API}/reviews/${r.body.id}`, { method: 'DELETE', headers: auth(buyer.token) });
  assert.equal(del.status, 204, del.text);
  assertEnvelope(await postReview(buyer, p, { rating: 2, title: 'Again', body: 'Trying once more.' }),
    403, 'AUTHORIZATION_ERROR');
});
