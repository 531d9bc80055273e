-- A mixed load for the soak (bench/soak.sh): mostly redirects of random seeded slugs, some
-- creations, list pages (first and by cursor), visit lists and statistics. Every API request
-- carries the key in KURZ_KEY (production mode requires one).
local urls = tonumber(os.getenv("URLS") or "1000")
local key = os.getenv("KURZ_KEY") or ""
local from = os.getenv("FROM") or "2026-01-01"
local to = os.getenv("TO") or "2026-12-31"
local counter = 0
math.randomseed(os.time())

local function slug()
  return string.format("b%07d", math.random(0, urls - 1))
end

local function cursor(id)
  -- base64url("k1:<id>") without padding, as the API writes cursors.
  local raw = "k1:" .. id
  local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
  local out, bits, value = {}, 0, 0
  for i = 1, #raw do
    value = value * 256 + raw:byte(i)
    bits = bits + 8
    while bits >= 6 do
      bits = bits - 6
      local index = math.floor(value / 2 ^ bits) % 64
      out[#out + 1] = alphabet:sub(index + 1, index + 1)
      value = value % 2 ^ bits -- keep only the bits not written yet (Lua numbers are doubles)
    end
  end
  if bits > 0 then
    local index = (value * 2 ^ (6 - bits)) % 64
    out[#out + 1] = alphabet:sub(index + 1, index + 1)
  end
  return table.concat(out)
end

local api = { ["Authorization"] = "Bearer " .. key }
local json = { ["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json" }

request = function()
  local roll = math.random(1, 100)
  if roll <= 80 then
    return wrk.format("GET", "/" .. slug())
  elseif roll <= 85 then
    counter = counter + 1
    local body = string.format('{"url":"https://example.com/soak/%d/%d"}', math.random(1, 1000000000), counter)
    return wrk.format("POST", "/api/urls", json, body)
  elseif roll <= 90 then
    return wrk.format("GET", "/api/urls?limit=50&cursor=" .. cursor(math.random(1, urls)), api)
  elseif roll <= 94 then
    return wrk.format("GET", "/api/urls/" .. slug() .. "/visits?limit=50", api)
  elseif roll <= 97 then
    return wrk.format("GET", "/api/visits?limit=50", api)
  else
    return wrk.format("GET", "/api/urls/" .. slug() .. "/stats?from=" .. from .. "&to=" .. to, api)
  end
end
