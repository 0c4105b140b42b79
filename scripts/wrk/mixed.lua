-- A read-heavy mix: 45% GET /posts, 45% GET /posts/{id} (random ID from
-- BENCH_IDS), 10% POST /posts (signed in, unique titles). Statuses are
-- counted, so the 201s can be checked against the database.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")
count_statuses()

local ids = read_lines(env("BENCH_IDS"))

function init(args)
   seed_random()
end

function request()
   local r = math.random()
   if r < 0.10 then
      return post_request()
   elseif r < 0.55 then
      return wrk.format("GET", "/posts")
   end
   return wrk.format("GET", "/posts/" .. ids[math.random(#ids)])
end
