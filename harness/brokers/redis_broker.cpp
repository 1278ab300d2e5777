#include "harness/brokers/redis_broker.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>

#include "harness/brokers/redis_scripts.hpp"

namespace leakbench::brokers {
namespace {

using scripts::k_beat;
using scripts::k_dead;
using scripts::k_push;
using scripts::k_time;

using clock = std::chrono::steady_clock;

std::string random_hex() {
  std::random_device rd;
  std::mt19937_64 rng((std::uint64_t{rd()} << 32) ^ rd());
  return fmt::format("{:016x}", rng());
}

}  // namespace

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
  // Unreachable, refused: one clear error before anything else.
  repeatable([](redis_connection& c) { c.command({"PING"}); });
  try {
    beat();
    recover_dead_workers();
  } catch (const broker_error&) {
    // This worker's heartbeat is all that set-up writes (recovery only moves messages back to
    // their queues): take it back, or say which prefix is left, as closing does.
    try {
      repeatable([&](redis_connection& c) { c.command({"ZREM", key("heartbeats"), worker_id_}); });
    } catch (const broker_error& e) {
      say_left(e.what());
    }
    throw;
  }
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
        repeatable([&](redis_connection& c) { requeue_inflight_of(c, worker_id_); });
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

std::string redis_broker::inflight_key(std::string_view queue, std::uint64_t slot) const {
  return fmt::format("{}:inflight:{}:{}:{}", prefix_, worker_id_, slot, queue);
}

void redis_broker::beat() {
  repeatable([&](redis_connection& c) {
    c.command({"EVAL", k_beat, "1", key("heartbeats"), worker_id_});
  });
}

bool redis_broker::push(redis_connection& c, std::string_view queue, std::string_view body,
                        std::chrono::milliseconds delay, const push_check& check) {
  if (body.size() > opts_.max_message_bytes) {
    throw runtime::message_error(fmt::format("message of {} bytes exceeds the limit of {} bytes",
                                             body.size(), opts_.max_message_bytes));
  }
  // A retry reaches the server within a connect and an I/O timeout of the lost try, which, if
  // it ran at all, ran before the server closed that connection: twice that is plenty.
  const auto keep_tokens = 2 * (opts_.timeouts.connect + opts_.timeouts.io);
  return c.command(
              {"EVAL", k_push, "4", key("queue", queue), key("delayed", queue),
               check.settle_from.empty() ? key("queue", queue) : std::string(check.settle_from),
               key("enqueued"), body, std::to_string(delay.count()), check.settle_body, check.token,
               std::to_string(keep_tokens.count())})
             .integer == 1;
}

std::string redis_broker::next_token() { return fmt::format("{}:{}", worker_id_, ++enqueues_); }

void redis_broker::settle(const delivery& d, const settle_op& op) {
  int tries = 0;
  bool settled = false;
  try {
    // A pooled connection that died idle (killed, server restarted): once more, fresh.
    settled = repeatable([&](redis_connection& c) {
      ++tries;
      return op(c);
    });
  } catch (const connection_lost&) {
    std::lock_guard lock(unsettled_mutex_);
    unsettled_.push_back(d);  // still in its in-flight list: requeued once the server answers
    throw;
  }
  // A retry that finds the message gone: the lost first try did settle it. A first try that
  // does not (settled twice) leaves the slot alone: it is not this call's to give back.
  if (!settled && tries == 1) {
    throw broker_error(fmt::format("delivery on queue '{}' is not in flight", d.queue));
  }
  free_slot(d.tag);
}

void redis_broker::enqueue(const message& m, std::chrono::milliseconds delay) {
  const std::string body = encode(m), token = next_token();
  // The token makes it safe to repeat: a retry finds it if the lost try did push.
  repeatable([&](redis_connection& c) { push(c, m.queue, body, delay, {.token = token}); });
}

void redis_broker::enqueue_raw(std::string_view queue, std::string body) {
  const std::string token = next_token();
  repeatable([&](redis_connection& c) { push(c, queue, body, {}, {.token = token}); });
}

void redis_broker::ack(const delivery& d) {
  settle(d, [&](redis_connection& c) {
    return c.command({"LREM", inflight_key(d.queue, d.tag), "1", d.body}).integer == 1;
  });
}

void redis_broker::retry(const delivery& d, const message& next, std::chrono::milliseconds delay) {
  const std::string body = encode(next);
  const std::string from = inflight_key(d.queue, d.tag);
  settle(d, [&](redis_connection& c) {
    return push(c, next.queue, body, delay, {.settle_from = from, .settle_body = d.body});
  });
}

void redis_broker::dead_letter(const delivery& d, std::string reason) {
  const std::string entry = nlohmann::json{{"body", d.body}, {"reason", std::move(reason)}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);  // a body may not be UTF-8
  settle(d, [&](redis_connection& c) {
    return c.command({"EVAL", k_dead, "2", inflight_key(d.queue, d.tag), key("dead", d.queue),
                      d.body, entry})
               .integer == 1;
  });
}

std::vector<brokers::dead_letter> redis_broker::dead_letters(std::string_view queue) {
  std::vector<brokers::dead_letter> out;
  const auto entries = repeatable([&](redis_connection& c) {
    return c.command({"LRANGE", key("dead", queue), "0", "-1"}).elements;
  });
  for (const auto& e : entries) {
    const auto j = nlohmann::json::parse(e.str);
    out.push_back({j.at("body").get<std::string>(), j.at("reason").get<std::string>()});
  }
  return out;
}

bool redis_broker::join(std::string_view queue, std::chrono::milliseconds timeout) {
  // A test and driver utility, not a consumer: a short poll is fine here.
  const auto deadline = clock::now() + timeout;
  for (;;) {
    const long long n = repeatable([&](redis_connection& c) {
      long long left = c.command({"LLEN", key("queue", queue)}).integer +
                       c.command({"ZCARD", key("delayed", queue)}).integer;
      const auto registry = c.command({"HGETALL", key("inflight")});
      for (std::size_t i = 0; i + 1 < registry.elements.size(); i += 2) {
        if (registry.elements[i + 1].str == queue)
          left += c.command({"LLEN", registry.elements[i].str}).integer;
      }
      return left;
    });
    if (n == 0) return true;
    if (clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::size_t redis_broker::requeue_inflight_of(redis_connection& c, const std::string& worker) {
  const std::string theirs = key("inflight", worker) + ":";
  const auto registry = c.command({"HGETALL", key("inflight")});
  std::size_t moved = 0;
  for (std::size_t i = 0; i + 1 < registry.elements.size(); i += 2) {
    const std::string& list = registry.elements[i].str;
    if (!list.starts_with(theirs)) continue;
    const std::string queue = key("queue", registry.elements[i + 1].str);
    // One atomic move per message: a crash halfway loses nothing, and a lost reply only
    // leaves the rest to a retry.
    while (c.command({"LMOVE", list, queue, "RIGHT", "LEFT"}).type != redis_value::kind::nil)
      ++moved;
    c.command({"HDEL", key("inflight"), list});
  }
  c.command({"ZREM", key("heartbeats"), worker});
  return moved;
}

std::size_t redis_broker::recover_dead_workers() {
  return repeatable([&](redis_connection& c) {
    const long long now = c.command({"EVAL", k_time, "0"}).integer;
    const auto dead = c.command({"ZRANGEBYSCORE", key("heartbeats"), "-inf",
                                 std::to_string(now - opts_.dead_after.count())});
    std::size_t moved = 0;
    for (const auto& worker : dead.elements) moved += requeue_inflight_of(c, worker.str);
    return moved;
  });
}

void redis_broker::remove_keys() {
  repeatable([&](redis_connection& c) { unlink_matching(c, prefix_ + ":*"); });
}

}  // namespace leakbench::brokers
