-- Records that this process's breaker for a key opened (stamped with the
-- server's time), or withdraws its report when the breaker closed.
--
-- KEYS[1] open reports: sorted set of process → report time (µs, server)
-- ARGV[1] this process
-- ARGV[2] 1 if the breaker opened, 0 if it closed
-- ARGV[3] window in microseconds: how long an unrefreshed report lives
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
if ARGV[2] == '1' then
  redis.call('ZADD', KEYS[1], string.format('%.0f', now), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[3]) / 1000))
else
  redis.call('ZREM', KEYS[1], ARGV[1])
end
return 1
