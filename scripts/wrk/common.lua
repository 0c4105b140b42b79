-- Shared by palisade-bench's wrk scripts, each of which loads it with
-- dofile. wrk runs a script once in its main Lua state and once in each
-- thread's; setup and done run in the main one, init, request and
-- response in the threads'.
--
-- Settings come from the environment (set by palisade-bench):
--   BENCH_IDS      file of post IDs, one a line
--   BENCH_CONTENT  a Markdown body, already encoded as a JSON string
--   BENCH_TOKEN    bearer token of the bench user
--   BENCH_USER, BENCH_PASSWORD  the bench user's credentials
--   BENCH_RUN      a tag that makes this run's post titles unique

local threads = {}
local next_tid = 0

tid = 0 -- this thread's number (1, 2, ...), set by setup

function setup(thread)
   next_tid = next_tid + 1
   thread:set("tid", next_tid)
   table.insert(threads, thread)
end

function env(name)
   local v = os.getenv(name)
   if v == nil or v == "" then
      error(name .. " is not set (run this script through palisade-bench)")
   end
   return v
end

function read_file(path)
   local f = assert(io.open(path, "rb"))
   local s = f:read("*a")
   f:close()
   return s
end

function read_lines(path)
   local lines = {}
   for line in io.lines(path) do
      if line ~= "" then
         lines[#lines + 1] = line
      end
   end
   assert(#lines > 0, path .. " is empty")
   return lines
end

-- Each thread its own random sequence.
function seed_random()
   math.randomseed(os.time() * 1000 + tid)
   for _ = 1, 10 do
      math.random()
   end
end

-- count_statuses makes wrk count responses per status and print one
-- "status CODE COUNT" line per status at the end, which palisade-bench
-- reads (to count the 201s of POST /posts, and the 503s of a login storm).
function count_statuses()
   function response(status, headers, body)
      local k = "s" .. status
      _G[k] = (_G[k] or 0) + 1
   end

   function done(summary, latency, requests)
      local total = {}
      for _, t in ipairs(threads) do
         for code = 100, 599 do
            local n = t:get("s" .. code)
            if n then
               total[code] = (total[code] or 0) + n
            end
         end
      end
      for code = 100, 599 do
         if total[code] then
            io.write(string.format("status %d %d\n", code, total[code]))
         end
      end
   end
end

-- A POST /posts request with a title no other request of the run uses.
local post_content, post_auth, post_tag = nil, nil, nil
local post_n = 0

function post_request()
   if post_content == nil then
      post_content = read_file(env("BENCH_CONTENT"))
      post_auth = "Bearer " .. env("BENCH_TOKEN")
      post_tag = '{"title":"wrk ' .. env("BENCH_RUN") .. ' ' .. tid .. '-'
   end
   post_n = post_n + 1
   -- A new table each time: wrk.format adds Host and Content-Length to it.
   local headers = { ["Authorization"] = post_auth, ["Content-Type"] = "application/json" }
   return wrk.format("POST", "/posts", headers, post_tag .. post_n .. '","content":' .. post_content .. '}')
end
