-- users_me.lua - GET /api/v1/users/me with the access token in
-- BENCH_ACCESS_TOKEN: every request verifies the RS256 token (JWKS cached),
-- checks the Redis revocation keys and reads one row.
wrk.method = "GET"
wrk.path = "/api/v1/users/me"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_ACCESS_TOKEN")
