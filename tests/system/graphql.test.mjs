// graphql.test.mjs - GraphQL at the gateway (POST /graphql; docs/graphql.md):
// a product page's data in one request, introspection, limits, errors in
// GraphQL's shape, bounded upstream calls for a list, and the cart and
// checkout mutations on the REST services' rules.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { API, BASE, call, eventually } from './lib.mjs';

const RUN = randomUUID().slice(0, 8);
let admin;
let categoryId;
const products = [];

const auth = (token) => (token ? { authorization: `Bearer ${token}` } : {});
const gql = (query, variables, token) =>
  call(`${BASE}/graphql`, { method: 'POST', headers: auth(token), body: { query, variables } });

before(async () => {
  admin = await eventually(async () => {
    const r = await call(`${API}/auth/login`, {
      method: 'POST', body: { email: process.env.SHOPSPHERE_ADMIN_EMAIL, password: process.env.SHOPSPHERE_ADMIN_PASSWORD },
    });
    return r.status === 200 ? r.body.access_token : null;
  }, 30000, 500);
  const c = await call(`${API}/categories`, { method: 'POST', headers: auth(admin), body: { name: `GraphQL ${RUN}` } });
  assert.equal(c.status, 201, c.text);
  categoryId = c.body.id;
  for (let i = 0; i < 3; i++) {
    const p = await call(`${API}/products`, {
      method: 'POST', headers: auth(admin),
      body: { sku: `GQL-${RUN}-${i}`, name: `Graph lamp ${RUN} ${i}`, description: 'lamp', category_id: categoryId,
        price: `1${i}.50`, currency: 'USD', stock: 10, status: 'active', attributes: { brand: 'Lumen', color: 'red' } },
    });
    assert.equal(p.status, 201, p.text);
    products.push(p.body);
  }
});

async function buyer() {
  const email = `gql-${RUN}-${randomUUID().slice(0, 6)}@example.com`;
  const password = `Secret-${RUN}-pass!`;
  const u = await call(`${API}/users`, {
    method: 'POST',
    body: { email, password, username: email.split('@')[0].replace(/-/g, '_'), first_name: 'Graph', last_name: 'Buyer', phone: '+15555550100' },
  });
  assert.equal(u.status, 201, u.text);
  const l = await call(`${API}/auth/login`, { method: 'POST', body: { email, password } });
  return l.body.access_token;
}

test('a product page in one request: product, category, rating, reviews and recommendations', async () => {
  const query = `query Page($id: ID!) {
    product(id: $id) {
      id name price currency attributes { brand color }
      category { id name }
      rating_average rating_count
      reviews(sort: newest, limit: 5) { rating_count rating_average rating_histogram items { rating title } }
      recommendations(kind: similar, limit: 4) { id name }
    }
  }`;
  // The recommendation service learns of a new product by its event: until
  // then its lists for it are null.
  const r = await eventually(async () => {
    const a = await gql(query, { id: products[0].id });
    return a.status === 200 && Array.isArray(a.body.data?.product?.recommendations) ? a : null;
  }, 30000, 300);
  assert.equal(r.body.errors, undefined, JSON.stringify(r.body.errors));
  const p = r.body.data.product;
  assert.equal(p.id, products[0].id);
  assert.equal(p.attributes.brand, 'Lumen');
  assert.equal(p.category.id, categoryId);
  assert.equal(p.reviews.rating_count, 0);
  assert.equal(p.reviews.rating_average, null);
  assert.deepEqual(Object.keys(p.reviews.rating_histogram).sort(), ['1', '2', '3', '4', '5']);
  assert.equal(p.rating_count, 0);
  assert.equal(p.rating_average, null);
  assert.ok(!p.recommendations.some((x) => x.id === p.id), 'never the product itself');
  assert.match(r.body.extensions.trace_id, /^[0-9a-f]{32}$/);
});

test('a list of products with ratings and categories costs a bounded number of upstream calls', async () => {
  const r = await gql(`{ products(category_id: "${categoryId}", limit: 20) {
    items { id name rating_average rating_count category { name } } } }`);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.errors, undefined, JSON.stringify(r.body.errors));
  assert.equal(r.body.data.products.items.length, 3);
  // One for the page, one for the categories, however many products.
  assert.ok(r.body.extensions.upstream_calls <= 2, `upstream calls: ${r.body.extensions.upstream_calls}`);
});

test('introspection answers what standard tools ask', async () => {
  const r = await gql(`query IntrospectionQuery { __schema { queryType { name } mutationType { name }
    types { kind name fields(includeDeprecated: true) { name args { name type { kind name ofType { kind name } } }
      type { kind name ofType { kind name ofType { kind name } } } } inputFields { name } enumValues { name } }
    directives { name locations } } }`);
  assert.equal(r.status, 200, r.text);
  const schema = r.body.data.__schema;
  assert.equal(schema.queryType.name, 'Query');
  assert.equal(schema.mutationType.name, 'Mutation');
  const product = schema.types.find((t) => t.name === 'Product');
  assert.ok(product.fields.some((f) => f.name === 'reviews'));
  assert.ok(schema.types.some((t) => t.name === 'CheckoutInput' && t.kind === 'INPUT_OBJECT'));
  const page = await call(`${BASE}/graphql`, { headers: { accept: 'text/html' } });
  assert.equal(page.status, 200);
  assert.match(page.text, /GraphQL/);
});

test('queries past the depth or cost limit are refused before anything runs', async () => {
  const deep = await gql(`{ products { items { category { id } reviews { items { rating } } recommendations {
    recommendations { recommendations { recommendations { recommendations { id } } } } } } } }`);
  assert.equal(deep.status, 400);
  assert.equal(deep.body.data, undefined);
  assert.match(deep.body.errors[0].extensions.code, /QUERY_TOO_(DEEP|COSTLY)/);
  const costly = await gql(`{ products(limit: 100) { items { recommendations(limit: 100) { id name } } } }`);
  assert.equal(costly.status, 400);
  assert.equal(costly.body.errors[0].extensions.code, 'QUERY_TOO_COSTLY');
  assert.match(costly.body.errors[0].message, /costs more than/);
});

test('a malformed query answers in GraphQL\'s error shape and changes nothing', async () => {
  const token = await buyer();
  const r = await gql('mutation { create_cart { id ', undefined, token);
  assert.equal(r.status, 400);
  assert.equal(r.body.data, undefined);
  const [e] = r.body.errors;
  assert.equal(e.extensions.code, 'GRAPHQL_PARSE_FAILED');
  assert.match(e.extensions.trace_id, /^[0-9a-f]{32}$/);
  assert.deepEqual(Object.keys(e.locations[0]).sort(), ['column', 'line']);
  const unknown = await gql('{ product(id: "x") { id color_code } }');
  assert.equal(unknown.status, 400);
  assert.match(unknown.body.errors[0].message, /cannot query field 'color_code' on type 'Product'/);
  const notJson = await call(`${BASE}/graphql`, { method: 'POST', raw: '{"query": ', headers: { 'content-type': 'application/json' } });
  assert.equal(notJson.status, 400);
  assert.ok(notJson.body.errors.length === 1);
  const badVar = await gql('query($n: Int!) { products(limit: $n) { items { id } } }', { n: 'many' });
  assert.equal(badVar.status, 400);
  assert.match(badVar.body.errors[0].message, /expected Int/);
});

test('REST rules hold: no token, no profile; a REST error becomes a field error', async () => {
  const r = await gql('{ me { id email } }');
  assert.equal(r.status, 200);
  assert.equal(r.body.data.me, null);
  assert.equal(r.body.errors[0].extensions.code, 'AUTHENTICATION_ERROR');
  assert.deepEqual(r.body.errors[0].path, ['me']);
  const missing = await gql(`{ product(id: "${randomUUID()}") { id } }`);
  assert.equal(missing.body.data.product, null);
});

test('cart and checkout mutations: one order per idempotency key', async () => {
  const token = await buyer();
  const cart = await gql('mutation { create_cart { id item_count } }', undefined, token);
  assert.equal(cart.body.errors, undefined, JSON.stringify(cart.body.errors));
  const cartId = cart.body.data.create_cart.id;
  const add = await gql(`mutation($c: ID!, $p: ID!) { add_cart_item(cart_id: $c, product_id: $p, quantity: 2) {
    item_count subtotal items { product_id quantity } } }`, { c: cartId, p: products[1].id }, token);
  assert.equal(add.body.errors, undefined, JSON.stringify(add.body.errors));
  assert.equal(add.body.data.add_cart_item.item_count, 2);
  const tooMany = await gql(`mutation($c: ID!, $p: ID!) { add_cart_item(cart_id: $c, product_id: $p, quantity: -1) { id } }`,
    { c: cartId, p: products[1].id }, token);
  assert.equal(tooMany.body.data, null);
  assert.equal(tooMany.body.errors[0].extensions.code, 'VALIDATION_ERROR');

  const key = randomUUID();
  const checkout = `mutation($input: CheckoutInput!, $key: String!) { checkout(input: $input, idempotency_key: $key) {
    id status total currency items { product_id quantity } } }`;
  const input = {
    cart_id: cartId, shipping_method: 'standard', payment_method: { type: 'card', token: 'tok_visa' },
    shipping_address: { first_name: 'Graph', last_name: 'Buyer', line1: '1 Main St', city: 'Springfield',
      state: 'IL', postal_code: '62701', country: 'US' },
  };
  const first = await gql(checkout, { input, key }, token);
  assert.equal(first.body.errors, undefined, JSON.stringify(first.body.errors));
  assert.equal(first.body.data.checkout.status, 'confirmed');
  const again = await gql(checkout, { input, key }, token);
  assert.equal(again.body.data.checkout.id, first.body.data.checkout.id);
  const mine = await gql(`{ me { orders { items { id status } } } }`, undefined, token);
  assert.deepEqual(mine.body.data.me.orders.items.map((o) => o.id), [first.body.data.checkout.id]);
});
