#include "harness/brokers/redis_broker.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

namespace leakbench::brokers {
namespace {

using clock = std::chrono::steady_clock;

// Server time in ms, so that every client agrees on etas and heartbeats whatever its clock.
constexpr std::string_view k_now = R"(local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
)";

// KEYS: queue, delayed, in-flight list to settle from. ARGV: body, delay ms, body to settle.
// Returns 0, changing nothing, if the body to settle is not in flight.
const std::string k_push = std::string(k_now) + R"(
if ARGV[3] ~= '' and redis.call('LREM', KEYS[3], 1, ARGV[3]) == 0 then
  return 0
end
local delay = tonumber(ARGV[2])
if delay <= 0 then redis.call('RPUSH', KEYS[1], ARGV[1])
else redis.call('ZADD', KEYS[2], now + delay, ARGV[1]) end
return 1)";

// KEYS: delayed, queue. Moves due messages; returns ms until the next eta, or -1.
const std::string k_promote = std::string(k_now) + R"(
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 100)
for _, m in ipairs(due) do
  redis.call('RPUSH', KEYS[2], m)
  redis.call('ZREM', KEYS[1], m)
end
local nxt = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #nxt == 0 then return -1 end
return math.max(0, tonumber(nxt[2]) - now))";

// KEYS: in-flight list, dead-letter list. ARGV: body, dead-letter entry. 0 if not in flight.
constexpr std::string_view k_dead = R"(
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 0 then
  return 0
end
redis.call('RPUSH', KEYS[2], ARGV[2])
return 1)";

// KEYS: in-flight list, queue. ARGV: body. Puts one in-flight copy back at the queue's head.
constexpr std::string_view k_requeue = R"(
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 0 then return 0 end
redis.call('LPUSH', KEYS[2], ARGV[1])
return 1)";

// KEYS: heartbeats. ARGV: worker id.
const std::string k_beat =
    std::string(k_now) + "redis.call('ZADD', KEYS[1], now, ARGV[1]) return now";

std::string random_hex() {
  std::random_device rd;
  std::mt19937_64 rng((std::uint64_t{rd()} << 32) ^ rd());
  return fmt::format("{:016x}", rng());
}

std::string seconds_arg(std::chrono::milliseconds ms) {
  return fmt::format("{:.3f}", static_cast<double>(ms.count()) / 1000.0);
}

}  // namespace

class redis_broker::lease {
 public:
  lease(redis_broker& owner, std::unique_ptr<redis_connection> c)
      : owner_(owner), c_(std::move(c)) {}
  ~lease() {
    std::lock_guard lock(owner_.pool_mutex_);
    owner_.idle_.push_back(std::move(c_));  // a broken one reconnects on its next command
  }
  lease(const lease&) = delete;
  lease& operator=(const lease&) = delete;
  redis_connection* operator->() { return c_.get(); }
  redis_connection& operator*() { return *c_; }

 private:
  redis_broker& owner_;
  std::unique_ptr<redis_connection> c_;
};

redis_broker::lease redis_broker::connection() {
  {
    std::lock_guard lock(pool_mutex_);
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return lease(*this, std::move(c));
    }
  }
  return lease(*this, std::make_unique<redis_connection>(url_, opts_.timeouts));
}

redis_broker::redis_broker(redis_url url, redis_options opts)
    : url_(std::move(url)),
      opts_(std::move(opts)),
      prefix_(opts_.prefix.empty() ? "leakbench:" + random_hex() : opts_.prefix),
      worker_id_(random_hex()) {
  connection()->command({"PING"});  // unreachable: one clear error before anything else
  beat();
  recover_dead_workers();
  heartbeat_ = std::thread([this] {
    std::unique_lock lock(beat_mutex_);
    while (!beat_cv_.wait_for(lock, opts_.heartbeat, [this] { return stopping_; })) {
      lock.unlock();
      try {
        beat();
      } catch (const broker_error&) {
        // The server is away; consumers report it. Beat again next time.
      }
      lock.lock();
    }
  });
}

redis_broker::~redis_broker() {
  {
    std::lock_guard lock(beat_mutex_);
    stopping_ = true;
  }
  beat_cv_.notify_all();
  heartbeat_.join();
  // A server that stalls or restarts gets `cleanup_grace` (8 s) to answer again, tried every
  // half second; a dead one costs that much once, and the prefix left is named.
  const auto give_up = clock::now() + opts_.cleanup_grace;
  for (;;) {
    try {
      if (opts_.remove_keys_on_close) {
        remove_keys();
      } else {
        // A clean exit: hand our in-flight messages back instead of waiting to be declared dead.
        requeue_inflight_of(worker_id_);
      }
      return;
    } catch (const connection_lost& e) {
      if (clock::now() + std::chrono::milliseconds(500) < give_up) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        continue;
      }
      say_left(e.what());
      return;
    } catch (const broker_error& e) {
      say_left(e.what());
      return;
    }
  }
}

void redis_broker::say_left(const char* why) const {
  std::fprintf(stderr,
               "leakbench: redis: left the keys of %s:* on %s (%s); remove them later with "
               "leakbench --redis_cleanup=%s\n",
               prefix_.c_str(), url_.describe().c_str(), why, url_.describe().c_str());
}

std::string redis_broker::key(std::string_view kind, std::string_view name) const {
  return name.empty() ? fmt::format("{}:{}", prefix_, kind)
                      : fmt::format("{}:{}:{}", prefix_, kind, name);
}

std::string redis_broker::inflight_key(std::string_view queue) const {
  return fmt::format("{}:inflight:{}:{}", prefix_, worker_id_, queue);
}

void redis_broker::beat() {
  connection()->command({"EVAL", k_beat, "1", key("heartbeats"), worker_id_});
}

bool redis_broker::push(redis_connection& c, std::string_view queue, std::string_view body,
                        std::string_view settle_from, std::string_view settle_body,
                        std::chrono::milliseconds delay) {
  if (body.size() > opts_.max_message_bytes) {
    throw runtime::message_error(fmt::format("message of {} bytes exceeds the limit of {} bytes",
                                             body.size(), opts_.max_message_bytes));
  }
  return c.command({"EVAL", k_push, "3", key("queue", queue), key("delayed", queue),
                    settle_from.empty() ? key("queue", queue) : std::string(settle_from), body,
                    std::to_string(delay.count()), settle_body})
             .integer == 1;
}

void redis_broker::settle(const delivery& d, const settle_op& op) {
  const auto not_in_flight = [&] {
    return broker_error(fmt::format("delivery on queue '{}' is not in flight", d.queue));
  };
  try {
    if (!op(*connection())) throw not_in_flight();
    return;
  } catch (const connection_lost&) {
    // A pooled connection that died idle (killed, server restarted): once more, fresh. If the
    // first try did run, the second finds the message settled already, which is success.
  }
  try {
    op(*connection());
  } catch (const connection_lost&) {
    std::lock_guard lock(unsettled_mutex_);
    unsettled_.push_back(d);  // still in our in-flight list: requeued once the server answers
    throw;
  }
}

std::size_t redis_broker::requeue_unsettled(redis_connection& c) {
  std::vector<delivery> pending;
  {
    std::lock_guard lock(unsettled_mutex_);
    pending.swap(unsettled_);
  }
  std::size_t moved = 0;
  for (std::size_t i = 0; i < pending.size(); ++i) {
    try {
      moved += static_cast<std::size_t>(
          c.command({"EVAL", k_requeue, "2", inflight_key(pending[i].queue),
                     key("queue", pending[i].queue), pending[i].body})
              .integer);
    } catch (const broker_error&) {
      std::lock_guard lock(unsettled_mutex_);
      unsettled_.insert(unsettled_.end(), pending.begin() + static_cast<std::ptrdiff_t>(i),
                        pending.end());
      throw;
    }
  }
  return moved;
}

void redis_broker::enqueue(const message& m, std::chrono::milliseconds delay) {
  push(*connection(), m.queue, encode(m), {}, {}, delay);
}

void redis_broker::enqueue_raw(std::string_view queue, std::string body) {
  push(*connection(), queue, body, {}, {}, {});
}

std::optional<delivery> redis_broker::consume(std::string_view queue,
                                              std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  const std::uint64_t wakes = wakes_.load();
  const std::string ready = key("queue", queue), delayed = key("delayed", queue);
  const std::string inflight = inflight_key(queue);
  auto c = connection();
  {
    // Registered (once per queue) so that whoever finds this broker dead knows which queue its
    // in-flight messages belong to.
    std::lock_guard lock(registered_mutex_);
    if (registered_.insert(std::string(queue)).second) {
      try {
        c->command({"HSET", key("inflight"), inflight, queue});
      } catch (...) {
        registered_.erase(std::string(queue));
        throw;
      }
    }
  }
  requeue_unsettled(*c);  // lost settles, if any: the server answers again, give them back
  for (;;) {
    if (closed_.load() || wakes_.load() != wakes) return std::nullopt;
    long long next_eta = 0;
    try {
      next_eta = c->command({"EVAL", k_promote, "2", delayed, ready}).integer;
    } catch (const connection_lost&) {
      // A pooled connection that died idle; promoting is idempotent: once more, reconnected.
      next_eta = c->command({"EVAL", k_promote, "2", delayed, ready}).integer;
    }
    auto block = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    if (next_eta >= 0) block = std::min(block, std::chrono::milliseconds(next_eta));
    // BLMOVE's timeout 0 means forever: a non-blocking LMOVE stands in for it.
    redis_value got;
    if (block.count() >= 1) {
      // Registered before the wake generation is checked: a waker that missed the check sees
      // the registration and unblocks it, even if BLMOVE is not on the server yet.
      const long long id = c->client_id();
      {
        std::lock_guard lock(blocked_mutex_);
        blocked_.insert(id);
      }
      struct unregister {
        redis_broker& b;
        long long id;
        ~unregister() {
          std::lock_guard lock(b.blocked_mutex_);
          b.blocked_.erase(id);
        }
      } const registered{*this, id};
      if (wakes_.load() != wakes) return std::nullopt;
      got = c->blocking_command({"BLMOVE", ready, inflight, "LEFT", "RIGHT", seconds_arg(block)},
                                block);
    } else {
      got = c->command({"LMOVE", ready, inflight, "LEFT", "RIGHT"});
    }
    if (got.type == redis_value::kind::string) return delivery{std::string(queue), got.str, 0};
    if (clock::now() >= deadline) return std::nullopt;
  }
}

void redis_broker::ack(const delivery& d) {
  settle(d, [&](redis_connection& c) {
    return c.command({"LREM", inflight_key(d.queue), "1", d.body}).integer == 1;
  });
}

void redis_broker::retry(const delivery& d, const message& next, std::chrono::milliseconds delay) {
  const std::string body = encode(next);
  settle(d, [&](redis_connection& c) {
    return push(c, next.queue, body, inflight_key(d.queue), d.body, delay);
  });
}

void redis_broker::dead_letter(const delivery& d, std::string reason) {
  const std::string entry = nlohmann::json{{"body", d.body}, {"reason", std::move(reason)}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);  // a body may not be UTF-8
  settle(d, [&](redis_connection& c) {
    return c.command(
                {"EVAL", k_dead, "2", inflight_key(d.queue), key("dead", d.queue), d.body, entry})
               .integer == 1;
  });
}

std::vector<brokers::dead_letter> redis_broker::dead_letters(std::string_view queue) {
  std::vector<brokers::dead_letter> out;
  for (const auto& e : connection()->command({"LRANGE", key("dead", queue), "0", "-1"}).elements) {
    const auto j = nlohmann::json::parse(e.str);
    out.push_back({j.at("body").get<std::string>(), j.at("reason").get<std::string>()});
  }
  return out;
}

bool redis_broker::join(std::string_view queue, std::chrono::milliseconds timeout) {
  // A test and driver utility, not a consumer: a short poll is fine here.
  const auto deadline = clock::now() + timeout;
  for (;;) {
    auto c = connection();
    long long n = c->command({"LLEN", key("queue", queue)}).integer +
                  c->command({"ZCARD", key("delayed", queue)}).integer;
    const auto registry = c->command({"HGETALL", key("inflight")});
    for (std::size_t i = 0; i + 1 < registry.elements.size(); i += 2) {
      if (registry.elements[i + 1].str == queue)
        n += c->command({"LLEN", registry.elements[i].str}).integer;
    }
    if (n == 0) return true;
    if (clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void redis_broker::close() {
  closed_ = true;
  wake_consumers();
}

void redis_broker::wake_consumers() {
  ++wakes_;
  const auto give_up = clock::now() + std::chrono::seconds(2);
  while (clock::now() < give_up) {
    std::vector<long long> ids;
    {
      std::lock_guard lock(blocked_mutex_);
      ids.assign(blocked_.begin(), blocked_.end());
    }
    if (ids.empty()) return;
    try {
      auto c = connection();
      for (long long id : ids) c->command({"CLIENT", "UNBLOCK", std::to_string(id)});
    } catch (const broker_error&) {
      return;  // the server is away: the consumers' own I/O timeouts end their waits
    }
    // An id registered but whose BLMOVE has not reached the server yet: unblock it again.
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

std::size_t redis_broker::requeue_inflight_of(const std::string& worker) {
  auto c = connection();
  const std::string theirs = key("inflight", worker) + ":";
  const auto registry = c->command({"HGETALL", key("inflight")});
  std::size_t moved = 0;
  for (std::size_t i = 0; i + 1 < registry.elements.size(); i += 2) {
    const std::string& list = registry.elements[i].str;
    if (!list.starts_with(theirs)) continue;
    const std::string queue = key("queue", registry.elements[i + 1].str);
    // One atomic move per message: a crash halfway loses nothing.
    while (c->command({"LMOVE", list, queue, "RIGHT", "LEFT"}).type != redis_value::kind::nil)
      ++moved;
    c->command({"HDEL", key("inflight"), list});
  }
  c->command({"ZREM", key("heartbeats"), worker});
  return moved;
}

std::size_t redis_broker::recover_dead_workers() {
  auto c = connection();
  const long long now = c->command({"EVAL", std::string(k_now) + "return now", "0"}).integer;
  const auto dead = c->command(
      {"ZRANGEBYSCORE", key("heartbeats"), "-inf", std::to_string(now - opts_.dead_after.count())});
  std::size_t moved = 0;
  for (const auto& worker : dead.elements) moved += requeue_inflight_of(worker.str);
  return moved;
}

namespace {

/// Deletes every key matching `pattern`; returns how many.
std::size_t unlink_matching(redis_connection& c, const std::string& pattern) {
  std::size_t n = 0;
  std::string cursor = "0";
  do {
    const auto page = c.command({"SCAN", cursor, "MATCH", pattern, "COUNT", "500"});
    cursor = page.elements.at(0).str;
    for (const auto& k : page.elements.at(1).elements) {
      c.command({"UNLINK", k.str});
      ++n;
    }
  } while (cursor != "0");
  return n;
}

}  // namespace

std::vector<prefix_cleanup> redis_broker::remove_dead_prefixes(const redis_url& url,
                                                               const redis_options& opts) {
  redis_connection c(url, opts.timeouts);
  // leakbench's prefixes: "leakbench:" and 16 hex digits (random_hex()).
  std::map<std::string, std::size_t> prefixes;
  std::string cursor = "0";
  do {
    const auto page = c.command({"SCAN", cursor, "MATCH", "leakbench:*", "COUNT", "500"});
    cursor = page.elements.at(0).str;
    for (const auto& k : page.elements.at(1).elements) {
      const std::string_view name = k.str;
      const auto end = name.find(':', std::string_view("leakbench:").size());
      if (end == std::string_view::npos) continue;
      ++prefixes[std::string(name.substr(0, end))];
    }
  } while (cursor != "0");
  const long long now = c.command({"EVAL", std::string(k_now) + "return now", "0"}).integer;
  std::vector<prefix_cleanup> out;
  for (const auto& [prefix, keys] : prefixes) {
    prefix_cleanup r{prefix, keys, std::nullopt, false};
    const auto newest =
        c.command({"ZREVRANGE", prefix + ":heartbeats", "0", "0", "WITHSCORES"}).elements;
    if (newest.size() == 2)
      r.silent_for = std::chrono::milliseconds(now - std::stoll(newest[1].str));
    if (!r.silent_for || *r.silent_for > opts.dead_after) {
      r.keys = unlink_matching(c, prefix + ":*");
      r.removed = true;
    }
    out.push_back(std::move(r));
  }
  return out;
}

void redis_broker::remove_keys() { unlink_matching(*connection(), prefix_ + ":*"); }

}  // namespace leakbench::brokers
