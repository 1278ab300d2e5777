#include "bench/dramatiq_queue.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <random>

namespace leakbench::bench {
namespace {

// Server time in ms as the score, as leakbench's own broker writes `<prefix>:heartbeats`.
constexpr const char* k_beat =
    "local t = redis.call('TIME') "
    "redis.call('ZADD', KEYS[1], t[1] * 1000 + math.floor(t[2] / 1000), ARGV[1])";

// What Dramatiq's dispatch.lua does for "enqueue": one script, so one step.
constexpr const char* k_enqueue =
    "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) redis.call('RPUSH', KEYS[2], ARGV[1])";

std::mt19937_64& random_engine() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return engine;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string uuid4() {
  std::uint64_t hi = random_engine()(), lo = random_engine()();
  hi = (hi & ~0xF000ULL) | 0x4000ULL;              // version 4
  lo = (lo & ~(0xC0ULL << 56)) | (0x80ULL << 56);  // variant 10
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xFFFF,
                     hi & 0xFFFF, lo >> 48, lo & 0xFFFFFFFFFFFFULL);
}

std::string fresh_namespace() { return fmt::format("leakbench:{:016x}", random_engine()()); }

dramatiq_queue::dramatiq_queue(const brokers::redis_url& url, std::string ns, std::string queue)
    : url_(url), ns_(std::move(ns)), queue_(std::move(queue)), connection_(url, {}) {
  beat(connection_);  // unreachable: thrown here, before any thread
  heartbeat_ = std::thread([this] {
    try {
      brokers::redis_connection c(url_, {});
      std::unique_lock lock(beat_mutex_);
      while (!beat_cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; })) {
        lock.unlock();
        try {
          beat(c);
        } catch (const brokers::broker_error&) {  // the run notices on its own connection
        }
        lock.lock();
      }
    } catch (const brokers::broker_error&) {
    }
  });
}

dramatiq_queue::~dramatiq_queue() {
  {
    std::lock_guard lock(beat_mutex_);
    stopping_ = true;
  }
  beat_cv_.notify_all();
  heartbeat_.join();
  try {
    remove_keys();
  } catch (const brokers::broker_error& e) {
    std::fprintf(stderr, "leakbench: left the keys of %s on %s: %s\n", ns_.c_str(),
                 url_.describe().c_str(), e.what());
  }
}

void dramatiq_queue::beat(brokers::redis_connection& c) {
  c.command({"EVAL", k_beat, "1", ns_ + ":heartbeats", "leakbench"});
}

std::string dramatiq_queue::enqueue(const std::string& actor, const nlohmann::json& kwargs) {
  const std::string id = uuid4();
  const nlohmann::json message = {{"queue_name", queue_},
                                  {"actor_name", actor},
                                  {"args", nlohmann::json::array()},
                                  {"kwargs", kwargs},
                                  {"options", {{"redis_message_id", id}}},
                                  {"message_id", uuid4()},
                                  {"message_timestamp", now_ms()}};
  const std::string queue_key = ns_ + ":" + queue_;
  connection_.command({"EVAL", k_enqueue, "2", queue_key + ".msgs", queue_key, id, message.dump()});
  return id;
}

bool dramatiq_queue::pending(const std::string& id) {
  return connection_.command({"HEXISTS", ns_ + ":" + queue_ + ".msgs", id}).integer == 1;
}

bool dramatiq_queue::dead_lettered(const std::string& id) {
  return connection_.command({"ZSCORE", ns_ + ":" + queue_ + ".XQ", id}).type !=
         brokers::redis_value::kind::nil;
}

void dramatiq_queue::remove_keys() {
  std::string cursor = "0";
  do {
    const auto reply = connection_.command({"SCAN", cursor, "MATCH", ns_ + ":*", "COUNT", "1000"});
    cursor = reply.elements.at(0).str;
    std::vector<std::string_view> del{"DEL"};
    for (const auto& k : reply.elements.at(1).elements) del.push_back(k.str);
    if (del.size() > 1) connection_.command(del);
  } while (cursor != "0");
}

}  // namespace leakbench::bench
