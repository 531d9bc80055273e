-- HEAD /bNNNNNNN for a random seeded slug (kurz dev seed names them b0000000, b0000001, ...).
local urls = tonumber(os.getenv("URLS") or "1000")
math.randomseed(os.time())

request = function()
  return wrk.format("HEAD", string.format("/b%07d", math.random(0, urls - 1)))
end
