#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "harness/brokers/redis_connection.hpp"

namespace leakbench::bench {

/// A real worker's queue in its Redis namespace, seen from leakbench: enqueueing as Dramatiq's
/// RedisBroker.enqueue does, knowing when a message has been settled, and the namespace's own
/// heartbeat and removal. Not thread-safe, but for the heartbeat's own connection.
class dramatiq_queue {
 public:
  /// Starts heartbeating `ns` (so that --redis_cleanup knows it is alive); throws
  /// brokers::broker_error if the server cannot be reached.
  dramatiq_queue(const brokers::redis_url& url, std::string ns, std::string queue = "default");
  /// Stops the heartbeat and removes every key of the namespace (saying so if it cannot).
  ~dramatiq_queue();
  dramatiq_queue(const dramatiq_queue&) = delete;
  dramatiq_queue& operator=(const dramatiq_queue&) = delete;

  /// Enqueues a message for `actor` with `kwargs`: a fresh uuid4 as options.redis_message_id,
  /// the message stored under it in `<ns>:<queue>.msgs` and the id pushed on `<ns>:<queue>`, in
  /// one transaction. Returns the id.
  std::string enqueue(const std::string& actor, const nlohmann::json& kwargs);
  /// True while `id` has not been acked or dead-lettered (it is still in `<ns>:<queue>.msgs`).
  bool pending(const std::string& id);
  /// True if `id` was dead-lettered (it is in `<ns>:<queue>.XQ`).
  bool dead_lettered(const std::string& id);
  const std::string& ns() const { return ns_; }

 private:
  void beat(brokers::redis_connection& c);
  void remove_keys();

  brokers::redis_url url_;
  std::string ns_;
  std::string queue_;
  brokers::redis_connection connection_;
  std::mutex beat_mutex_;
  std::condition_variable beat_cv_;
  bool stopping_ = false;
  std::thread heartbeat_;
};

/// A fresh random version-4 UUID, as Python's str(uuid4()) writes it.
std::string uuid4();

/// A fresh namespace for one benchmark: `leakbench:<16 hex digits>`.
std::string fresh_namespace();

}  // namespace leakbench::bench
