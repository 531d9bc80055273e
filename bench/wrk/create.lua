-- POST /api/urls with a new target each time; kurz generates the slug.
local counter = 0
math.randomseed(os.time())

request = function()
  counter = counter + 1
  local body = string.format('{"url":"https://example.com/bench/%d/%d"}', math.random(1, 1000000000), counter)
  return wrk.format("POST", "/api/urls", { ["Content-Type"] = "application/json" }, body)
end
