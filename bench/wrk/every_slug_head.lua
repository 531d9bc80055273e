-- HEAD /bNNNNNNN for every seeded slug in turn (URLS of them, as kurz dev seed names them), to
-- fill the redirect cache before a measured run: wrk's threads take every n-th slug each, from
-- their own offset, and start over at the end.
local urls = tonumber(os.getenv("URLS") or "1000")
local threads = {}

function setup(thread)
  thread:set("offset", #threads)
  table.insert(threads, thread)
end

function init(args)
  step = tonumber(os.getenv("WRK_THREADS") or "2")
  next_slug = offset
end

request = function()
  local slug = next_slug % urls
  next_slug = next_slug + step
  return wrk.format("HEAD", string.format("/b%07d", slug))
end
