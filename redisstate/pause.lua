-- Closes a gate for `pause` microseconds of server time, unless it is
-- already closed for longer. The key expires when the gate opens.
--
-- KEYS[1] the gate: the end of a pause, in microseconds of server time
-- ARGV[1] pause in microseconds
--
-- Returns how many microseconds the gate stays closed.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local ends = now + tonumber(ARGV[1])
local cur = tonumber(redis.call('GET', KEYS[1]) or 0)
if ends > cur then
  redis.call('SET', KEYS[1], string.format('%.0f', ends), 'PXAT', math.ceil(ends / 1000))
  cur = ends
end
return cur - now
