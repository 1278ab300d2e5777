#pragma once

// The Redis broker's Lua scripts: each step that must be atomic on the server.
#include <string>
#include <string_view>

namespace leakbench::brokers::scripts {

// Server time in ms, so that every client agrees on etas and heartbeats whatever its clock.
inline constexpr std::string_view k_now = R"(local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
)";

// KEYS: queue, delayed, in-flight list to settle from, enqueue tokens. ARGV: body, delay ms,
// body to settle, token, how long tokens are kept (ms). Returns 0, changing nothing, if the
// body to settle is not in flight; 1 if pushed, or if an earlier try with the token was.
inline const std::string k_push = std::string(k_now) + R"(
if ARGV[3] ~= '' and redis.call('LREM', KEYS[3], 1, ARGV[3]) == 0 then
  return 0
end
if ARGV[4] ~= '' then
  if redis.call('ZSCORE', KEYS[4], ARGV[4]) then return 1 end
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - tonumber(ARGV[5]))
  redis.call('ZADD', KEYS[4], now, ARGV[4])
end
local delay = tonumber(ARGV[2])
if delay <= 0 then redis.call('RPUSH', KEYS[1], ARGV[1])
else redis.call('ZADD', KEYS[2], now + delay, ARGV[1]) end
return 1)";

// KEYS: delayed, queue, a consumer slot's in-flight list. Moves due messages, and whatever a
// lost move left in the slot's list (empty until its consumer gets a message) back to the
// queue's head; returns ms until the next eta, or -1.
inline const std::string k_promote = std::string(k_now) + R"(
while redis.call('LMOVE', KEYS[3], KEYS[2], 'RIGHT', 'LEFT') do end
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 100)
for _, m in ipairs(due) do
  redis.call('RPUSH', KEYS[2], m)
  redis.call('ZREM', KEYS[1], m)
end
local nxt = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #nxt == 0 then return -1 end
return math.max(0, tonumber(nxt[2]) - now))";

// KEYS: in-flight list, dead-letter list. ARGV: body, dead-letter entry. 0 if not in flight.
inline constexpr std::string_view k_dead = R"(
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 0 then
  return 0
end
redis.call('RPUSH', KEYS[2], ARGV[2])
return 1)";

// KEYS: in-flight list, queue. ARGV: body. Puts one in-flight copy back at the queue's head.
inline constexpr std::string_view k_requeue = R"(
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 0 then return 0 end
redis.call('LPUSH', KEYS[2], ARGV[1])
return 1)";

// KEYS: heartbeats. ARGV: worker id.
inline const std::string k_beat =
    std::string(k_now) + "redis.call('ZADD', KEYS[1], now, ARGV[1]) return now";

// Server time in ms.
inline const std::string k_time = std::string(k_now) + "return now";

}  // namespace leakbench::brokers::scripts
