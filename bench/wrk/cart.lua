-- cart.lua - a signed-in shopper's cart create + add item, through the
-- gateway (DESIGN §8 "cart create + add item"). Each connection alternates:
-- POST /api/v1/carts, then POST /api/v1/carts/{id}/items with the cart the
-- answer named. BENCH_ACCESS_TOKEN signs the requests in; BENCH_PRODUCT_ID is
-- the product added. One op is the pair, so ops/s is half of req/s
-- (scripts/bench.sh divides); p50/p99 are those of one request.
local token = os.getenv("BENCH_ACCESS_TOKEN") or ""
local product = os.getenv("BENCH_PRODUCT_ID") or ""
local carts = {} -- carts created on this thread, waiting for their item
local headers = {
  ["Content-Type"] = "application/json",
  ["Authorization"] = "Bearer " .. token,
}
local item = '{"product_id":"' .. product .. '","quantity":1}'

function request()
  local id = table.remove(carts)
  if id then
    return wrk.format("POST", "/api/v1/carts/" .. id .. "/items", headers, item)
  end
  return wrk.format("POST", "/api/v1/carts", headers, "{}")
end

function response(status, headers, body)
  -- A new cart answers with no items; the item's answer lists one.
  if status == 201 and body:find('"items":%[%]') then
    local id = body:match('"id":"([0-9a-f-]+)"')
    if id then table.insert(carts, id) end
  end
end
