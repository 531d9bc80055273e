-- POST /api/urls with a new target each time; kurz generates the slug. KURZ_KEY: the API
-- key to send (production mode requires one; an admin key is not rate limited).
local counter = 0
local key = os.getenv("KURZ_KEY")
math.randomseed(os.time())

request = function()
  counter = counter + 1
  local body = string.format('{"url":"https://example.com/bench/%d/%d"}', math.random(1, 1000000000), counter)
  local headers = { ["Content-Type"] = "application/json" }
  if key then
    headers["Authorization"] = "Bearer " .. key
  end
  return wrk.format("POST", "/api/urls", headers, body)
end
