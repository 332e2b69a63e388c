/**
 * The one atomic script behind every token take (DESIGN §6). For each bucket i:
 *   KEYS[i]                      hash { tokens, ts }  (ts = last refill, server time in microseconds)
 *   ARGV[3i-2], ARGV[3i-1], ARGV[3i]   ratePerSecond, capacity, cost
 *
 * All-or-nothing: every bucket is refilled and checked first; only if all hold their cost are they written.
 * A refusal writes nothing (the refill is a pure function of ts, so nothing is lost by not saving it) and
 * answers how long until the emptiest bucket holds its cost. Time is Redis's `TIME`, never a consumer clock;
 * if that clock steps back (failover) we refill nothing instead of minting tokens. A missing key is a full
 * bucket, which is also what an idle bucket refills to, so PEXPIRE after the time to refill to capacity
 * drops idle buckets without changing behaviour. Every key is in KEYS, as Dragonfly requires.
 *
 * Returns `{1, 0}` when taken, `{0, retryAfterMs}` when refused.
 */
export const TAKE_TOKENS_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local level = {}
local stamp = {}
local wait = 0
for i = 1, #KEYS do
  local rate = tonumber(ARGV[3 * i - 2])
  local cap = tonumber(ARGV[3 * i - 1])
  local cost = tonumber(ARGV[3 * i])
  local s = redis.call('HMGET', KEYS[i], 'tokens', 'ts')
  local tokens = tonumber(s[1])
  local ts = tonumber(s[2])
  if tokens == nil or ts == nil then
    tokens = cap
    ts = now
  end
  if now > ts then
    tokens = tokens + (now - ts) * rate / 1000000
    ts = now
  end
  if tokens > cap then tokens = cap end
  level[i] = tokens
  stamp[i] = ts
  if tokens < cost then
    local w = (cost - tokens) * 1000 / rate
    if w > wait then wait = w end
  end
end
if wait > 0 then
  return {0, math.ceil(wait)}
end
for i = 1, #KEYS do
  local rate = tonumber(ARGV[3 * i - 2])
  local cap = tonumber(ARGV[3 * i - 1])
  local cost = tonumber(ARGV[3 * i])
  redis.call('HSET', KEYS[i], 'tokens', string.format('%.17g', level[i] - cost), 'ts', string.format('%.17g', stamp[i]))
  redis.call('PEXPIRE', KEYS[i], math.ceil(cap * 1000 / rate) + 1000)
end
return {1, 0}
`;
