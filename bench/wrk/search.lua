-- search.lua - GET /api/v1/search over a rotation of keyword queries on the
-- demo catalog (words, several words, a typo, a prefix, a brand with a
-- filter): every answer carries items, total and all five facets.
local paths = {
  "/api/v1/search?q=tee",
  "/api/v1/search?q=waterproof%20jacket",
  "/api/v1/search?q=running%20shoe",
  "/api/v1/search?q=northwind",
  "/api/v1/search?q=black%20jean",
  "/api/v1/search?q=shrit",
  "/api/v1/search?q=sneak",
  "/api/v1/search?q=jacket&brand=Northwind",
  "/api/v1/search?q=organic%20cotton&sort=price_asc",
  "/api/v1/search?q=leather&min_price=20&max_price=200",
}
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
