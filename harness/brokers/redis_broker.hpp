#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness/brokers/broker.hpp"
#include "harness/brokers/redis_connection.hpp"

namespace leakbench::brokers {

/// Options of the Redis broker.
struct redis_options {
  redis_timeouts timeouts;
  /// Key prefix; empty: a fresh random one, so that two runs on one server never collide.
  std::string prefix;
  std::chrono::milliseconds heartbeat{1000};    ///< how often this broker says it is alive
  std::chrono::milliseconds dead_after{10000};  ///< silence after which a worker counts as dead
  std::size_t max_message_bytes = runtime::k_default_max_message_bytes;
  bool remove_keys_on_close = true;  ///< leakbench's runs leave nothing behind
  /// How long closing keeps trying to remove the keys of a server that does not answer
  /// (stalled, restarting) before it says which prefix it left.
  std::chrono::milliseconds cleanup_grace{8000};
};

/// What remove_dead_prefixes() found for one leakbench key prefix.
struct prefix_cleanup {
  std::string prefix;
  std::size_t keys = 0;  ///< keys under it (removed, if dead)
  std::optional<std::chrono::milliseconds>
      silent_for;  ///< since its last heartbeat; none: no heartbeat
  bool removed = false;
};

/// The Redis broker on hiredis. A consumed message moves atomically (BLMOVE) from its queue to
/// an in-flight list of this broker's, one per consumer slot, and leaves it when settled, so a
/// crash never loses it and a lost BLMOVE can be checked there; delayed messages wait in a
/// sorted set by eta and a Lua script moves the due ones; a consumer blocks in BLMOVE until a
/// message arrives or the next eta, never polling. Each broker heartbeats; at start-up,
/// messages in the in-flight lists of dead brokers (same prefix) are requeued.
class redis_broker final : public broker {
 public:
  /// Connects (throws broker_error with one line naming the cause if the server cannot be
  /// used), recovers what dead workers left in flight and starts the heartbeat. A set-up that
  /// fails part-way removes its heartbeat, or says which prefix it left.
  redis_broker(redis_url url, redis_options opts = {});
  /// Stops the heartbeat; requeues this broker's in-flight messages, or with
  /// remove_keys_on_close removes every key of the prefix.
  ~redis_broker() override;

  void enqueue(const message& m, std::chrono::milliseconds delay = {}) override;
  void enqueue_raw(std::string_view queue, std::string body) override;
  std::optional<delivery> consume(std::string_view queue,
                                  std::chrono::milliseconds timeout) override;
  void ack(const delivery& d) override;
  void retry(const delivery& d, const message& next, std::chrono::milliseconds delay) override;
  void dead_letter(const delivery& d, std::string reason) override;
  std::vector<brokers::dead_letter> dead_letters(std::string_view queue) override;
  bool join(std::string_view queue, std::chrono::milliseconds timeout) override;
  void close() override;
  /// Sets a wake generation, then sends CLIENT UNBLOCK to every consumer connection blocked (or
  /// about to block) in BLMOVE, until none is left or 2 s passed.
  void wake_consumers() override;

  /// Requeues the in-flight messages of brokers whose heartbeat is older than dead_after.
  std::size_t recover_dead_workers();
  /// Deletes every key under this broker's prefix.
  void remove_keys();
  /// Removes the keys of every `leakbench:<hex>` prefix on the server whose newest heartbeat
  /// is older than `dead_after` (or that has none): what a killed leakbench leaves behind.
  /// Heartbeats are leakbench's (`<prefix>:heartbeats`) and those of Dramatiq workers using
  /// the prefix as their namespace (`<prefix>:__heartbeats__`). Live prefixes are kept.
  static std::vector<prefix_cleanup> remove_dead_prefixes(const redis_url& url,
                                                          const redis_options& opts = {});
  const std::string& prefix() const { return prefix_; }
  const std::string& worker_id() const { return worker_id_; }

 private:
  /// A pooled connection, returned to the pool on destruction.
  class lease {
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
  lease connection();
  /// Runs `step(redis_connection&)` on a pooled connection, once more if that connection is
  /// lost (retry_once): only for steps that are safe to repeat.
  template <class Step>
  auto repeatable(Step&& step) {
    auto c = connection();
    return retry_once(*c, step);
  }
  std::string key(std::string_view kind, std::string_view name = {}) const;
  /// The in-flight list of one consumer slot: a delivery's alone until it is settled.
  std::string inflight_key(std::string_view queue, std::uint64_t slot) const;
  std::uint64_t take_slot();
  void free_slot(std::uint64_t slot);
  /// One BLMOVE (LMOVE if `block` is under 1 ms) from `ready` to `inflight`; nil if woken.
  redis_value move(redis_connection& c, const std::string& ready, const std::string& inflight,
                   std::chrono::milliseconds block, std::uint64_t wakes);
  /// What makes a push safe to repeat: the body it settles must still be in flight, or its
  /// token must not have been pushed yet.
  struct push_check {
    std::string_view settle_from;  ///< in-flight list to settle `settle_body` out of
    std::string_view settle_body;
    std::string_view token;  ///< a plain enqueue's token (next_token())
  };
  /// Enqueues `body`; false (nothing done) if the body to settle is not in flight.
  bool push(redis_connection& c, std::string_view queue, std::string_view body,
            std::chrono::milliseconds delay, const push_check& check);
  std::string next_token();
  /// Runs a settling step (true: settled; false: not in flight), once more on a fresh
  /// connection if the connection was lost (finding it gone then is success); if it is lost
  /// again, the delivery is remembered and requeued by the next consume that reaches the server.
  using settle_op = std::function<bool(redis_connection&)>;
  void settle(const delivery& d, const settle_op& op);
  std::size_t requeue_unsettled(redis_connection& c);
  void beat();
  void say_left(const char* why) const;
  /// Moves `worker`'s in-flight messages back to their queues and forgets the worker.
  std::size_t requeue_inflight_of(redis_connection& c, const std::string& worker);

  const redis_url url_;
  const redis_options opts_;
  const std::string prefix_;
  const std::string worker_id_;
  std::mutex pool_mutex_;
  std::vector<std::unique_ptr<redis_connection>> idle_;
  std::atomic<bool> closed_{false};
  std::mutex registered_mutex_;
  std::set<std::string> registered_;  // in-flight lists in the registry
  std::mutex slots_mutex_;
  std::set<std::uint64_t> free_slots_;  // slots whose in-flight list is empty
  std::uint64_t slots_ = 0;             // slots made so far
  std::atomic<std::uint64_t> wakes_{0};
  std::atomic<std::uint64_t> enqueues_{0};  // numbers the enqueue tokens
  std::mutex blocked_mutex_;
  std::set<long long> blocked_;  // CLIENT IDs of consumers in (or entering) BLMOVE
  std::mutex unsettled_mutex_;
  std::vector<delivery> unsettled_;  // in our in-flight lists, their settling lost
  std::mutex beat_mutex_;
  std::condition_variable beat_cv_;
  bool stopping_ = false;
  std::thread heartbeat_;
};

}  // namespace leakbench::brokers
