-- Takes up to `want` tokens of a GCRA quota that are available now, or
-- reserves one at the instant it becomes available if that is at most
-- `maxwait` away, unless the key's gate is closed. Atomic (one script) and
-- on the server's clock (TIME), so every process shares one schedule
-- whatever its own clock says.
--
-- KEYS[1] the quota's theoretical arrival time (TAT), in microseconds of
--         server time; absent means the full burst is available
-- KEYS[2] the gate: the end of a pause, in microseconds of server time
-- KEYS[3] the quota's users: sorted set of process -> last call (µs)
-- ARGV[1] emission interval in microseconds (the quota's period / rate);
--         0 for an unlimited rate
-- ARGV[2] burst, in tokens
-- ARGV[3] want: tokens to take when available now (a lease)
-- ARGV[4] maxwait in microseconds
-- ARGV[5] this process
-- ARGV[6] how long a process counts as a user after its last call, µs
--
-- Returns {granted, wait, paused, users}: granted tokens, to be used after
-- `wait` microseconds; or, when granted is 0, `wait` is how long until a
-- token would be available, or `paused` how much of a pause is left; and
-- how many processes used the quota lately, this one included.
--
-- Microseconds since 1970 stay below 2^53, so the doubles Lua computes in
-- are exact integers.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])

local span = tonumber(ARGV[6])
redis.call('ZADD', KEYS[3], string.format('%.0f', now), ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', string.format('(%.0f', now - span))
redis.call('PEXPIRE', KEYS[3], math.ceil(span / 1000))
local users = redis.call('ZCARD', KEYS[3])

local gate = tonumber(redis.call('GET', KEYS[2]) or 0)
if gate > now then
  return {0, 0, gate - now, users}
end

local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local maxwait = tonumber(ARGV[4])
if interval == 0 then
  return {want, 0, 0, users} -- an unlimited rate: only the gate applies
end

local tat = tonumber(redis.call('GET', KEYS[1]) or 0)
if tat < now then
  tat = now
end
-- slack: how far ahead of the schedule a request may come (the burst
-- tolerance left), in microseconds.
local slack = now + burst * interval - tat
local granted = math.floor(slack / interval)
local wait = 0
if granted >= 1 then
  if granted > want then
    granted = want
  end
else
  wait = interval - slack
  if wait > maxwait then
    return {0, wait, 0, users}
  end
  granted = 1
end
tat = tat + granted * interval
-- Once the TAT has passed the full burst is back, which an absent key
-- also means: the key expires then.
redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PXAT', math.ceil(tat / 1000))
return {granted, wait, 0, users}
