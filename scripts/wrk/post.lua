-- POST /posts, signed in, every title unique; statuses are counted so
-- that palisade-bench can check that every 201 left a post in the database.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")
count_statuses()

request = post_request
