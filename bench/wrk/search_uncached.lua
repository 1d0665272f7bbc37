-- search_uncached.lua - the queries of search.lua, but every request misses
-- the search service's answer cache (docs/search.md: answers are kept per
-- query string for up to 10 s in 512 slots): each query is sent with a
-- page size from 11 to 30 and an offset from 0 to 24, so one thread cycles
-- through 5,000 distinct query strings and a slot is taken by about ten
-- others before its key comes back. Each wrk thread walks its own part of
-- that cycle, so the threads never ask the same string at the same moment.
-- Each request runs the SQL: words, ranking, total and all five facets.
local queries = {
  "q=tee",
  "q=waterproof%20jacket",
  "q=running%20shoe",
  "q=northwind",
  "q=black%20jean",
  "q=shrit",
  "q=sneak",
  "q=jacket&brand=Northwind",
  "q=organic%20cotton&sort=price_asc",
  "q=leather&min_price=20&max_price=200",
}
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

local i = -1
request = function()
  i = i + 1
  -- tid is set by setup() before the thread starts
  local n = i + 2500 * (tid or 0)
  local q = queries[n % #queries + 1]
  local k = math.floor(n / #queries)
  local limit = 11 + k % 20
  local offset = math.floor(k / 20) % 25
  return wrk.format("GET", "/api/v1/search?" .. q .. "&limit=" .. limit ..
    "&offset=" .. offset)
end
