-- A product page's data in one GraphQL request (docs/graphql.md): the
-- product, its category, rating, reviews and similar products.
-- GRAPHQL_PRODUCT_ID names the product (scripts/bench.sh sets it).
local id = os.getenv("GRAPHQL_PRODUCT_ID") or ""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"query":"query Page($id: ID!) { product(id: $id) { id name price currency ' ..
  'attributes { brand color size } category { id name } rating_average rating_count ' ..
  'reviews(limit: 5) { rating_count items { rating title } } ' ..
  'recommendations(kind: similar, limit: 4) { id name price } } }",' ..
  '"variables":{"id":"' .. id .. '"}}'
