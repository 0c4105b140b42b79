-- POST /auth/login with the bench user's correct password (one argon2id
-- verification each); statuses are counted (503 means the hasher's queue
-- was full).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")
count_statuses()

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"username":"' .. env("BENCH_USER") .. '","password":"' .. env("BENCH_PASSWORD") .. '"}'
