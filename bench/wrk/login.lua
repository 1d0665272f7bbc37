-- login.lua - POST /api/v1/auth/login with one account's credentials, taken
-- from BENCH_LOGIN_EMAIL / BENCH_LOGIN_PASSWORD (scripts/bench.sh
-- identity_rows registers the account first).
wrk.method = "POST"
wrk.path = "/api/v1/auth/login"
wrk.headers["Content-Type"] = "application/json"
wrk.body = string.format('{"email":"%s","password":"%s"}',
  os.getenv("BENCH_LOGIN_EMAIL"), os.getenv("BENCH_LOGIN_PASSWORD"))
