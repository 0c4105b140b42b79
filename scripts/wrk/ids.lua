-- GET /posts/{id} with an ID picked at random from BENCH_IDS.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")

local ids = read_lines(env("BENCH_IDS"))

function init(args)
   seed_random()
end

function request()
   return wrk.format("GET", "/posts/" .. ids[math.random(#ids)])
end
