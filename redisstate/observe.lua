-- Registers this process as a caller of a breaker key, if it called it,
-- and returns the
-- fleet's view of it: how many processes called it, and how many of them
-- reported their breaker open, within the window. Reports and callers
-- older than the window are dropped here, so a process that died with its
-- breaker open stops counting after one window.
--
-- KEYS[1] open reports: sorted set of process → report time (µs, server)
-- KEYS[2] callers: sorted set of process → last call time (µs, server)
-- ARGV[1] this process
-- ARGV[2] window in microseconds
-- ARGV[3] 1 if this process sent requests to the key since it last
--         observed it (it is a caller), else 0
--
-- Returns {callers, opens, newest, self}: newest is the age in µs of the
-- newest open report (-1 if none), self is 1 if this process's own report
-- is among them.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[2])
local since = string.format('(%.0f', now - window)

if ARGV[3] == '1' then
  redis.call('ZADD', KEYS[2], string.format('%.0f', now), ARGV[1])
  redis.call('PEXPIRE', KEYS[2], math.ceil(window / 1000))
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', since)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', since)

local callers = redis.call('ZCARD', KEYS[2])
local opens = redis.call('ZCARD', KEYS[1])
local newest = -1
if opens > 0 then
  local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  newest = now - tonumber(top[2])
end
local self = 0
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  self = 1
end
return {callers, opens, newest, self}
