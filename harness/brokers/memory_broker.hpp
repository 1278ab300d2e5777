#pragma once

#include <condition_variable>
#include <list>
#include <map>
#include <mutex>
#include <unordered_map>

#include "harness/brokers/broker.hpp"

namespace leakbench::brokers {

/// The embedded default broker: in-process queues, a delay queue ordered by eta, blocking
/// consume without polling (a consumer sleeps until its timeout or the earliest eta).
class memory_broker final : public broker {
 public:
  memory_broker();
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
  void wake_consumers() override;

  /// Puts every in-flight message back on its queue, as if its consumer had died.
  std::size_t requeue_unacked();
  /// Messages in flight now.
  std::size_t in_flight() const;

 private:
  using clock = std::chrono::steady_clock;
  struct queue_state {
    // A list, not a deque: one node per message, freed as it is consumed, so a steady state
    // allocates nothing net per attempt (a deque's 512-byte blocks come and go out of step).
    std::list<std::string> ready;
    std::size_t delayed = 0;
    std::size_t in_flight = 0;
    std::vector<brokers::dead_letter> dead;
  };
  struct delayed_entry {
    std::string queue;
    std::string body;
  };

  void push_locked(std::string queue, std::string body, std::chrono::milliseconds delay);
  void promote_due_locked(clock::time_point now);
  delivery settle_locked(const delivery& d);
  queue_state& queue_locked(std::string_view name);

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::unordered_map<std::string, queue_state> queues_;
  std::multimap<clock::time_point, delayed_entry> delayed_;  // ordered by eta
  std::unordered_map<std::uint64_t, delivery> unacked_;
  std::uint64_t next_tag_ = 1;
  bool closed_ = false;
  std::uint64_t wakes_ = 0;  // consumers waiting since before a wake return
};

}  // namespace leakbench::brokers
