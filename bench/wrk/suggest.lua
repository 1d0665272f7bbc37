-- suggest.lua - GET /api/v1/search/suggest as a shopper types: prefixes of
-- growing length of words of the demo catalog.
local prefixes = { "n", "no", "nor", "north", "t", "te", "tee", "ja", "jack",
  "run", "runn", "sne", "snea", "bl", "bla", "wat", "water", "harbor%20", "c", "co" }
local i = 0
request = function()
  i = i % #prefixes + 1
  return wrk.format("GET", "/api/v1/search/suggest?q=" .. prefixes[i])
end
