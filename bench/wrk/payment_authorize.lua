-- payment_authorize.lua - authorizations through the payment service: each
-- request authorizes a new order (fresh order id, tok_visa) with
-- POST /internal/payments/authorize on the payment service's own port, which
-- calls the sandbox card processor over HTTP (create + confirm).
local threads = 0
local counter = 0
local secret = os.getenv("SHOPSPHERE_INTERNAL_SECRET") or ""

function setup(thread)
  threads = threads + 1
  thread:set("thread_tag", threads) -- a global of that thread's Lua state
end

function init(args)
  thread_tag = thread_tag or 0
  math.randomseed(os.time() + thread_tag * 7919)
end

local function order_id()
  counter = counter + 1
  return string.format("%08x-%04x-7%03x-8%03x-%012x",
    math.random(0, 0x7fffffff), thread_tag, math.random(0, 0xfff),
    math.random(0, 0xfff), counter)
end

function request()
  local body = string.format(
    '{"order_id":"%s","user_id":"0190c7a0-0000-7000-8000-000000000b0c",' ..
    '"amount":"19.99","currency":"USD","token":"tok_visa"}', order_id())
  return wrk.format("POST", "/internal/payments/authorize", {
    ["Content-Type"] = "application/json",
    ["X-Internal-Token"] = secret,
  }, body)
end
