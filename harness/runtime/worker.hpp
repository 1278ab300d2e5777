#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "harness/brokers/broker.hpp"
#include "harness/runtime/actor.hpp"
#include "harness/runtime/gc.hpp"
#include "harness/runtime/middleware.hpp"

namespace leakbench::runtime {

/// How a worker runs.
struct worker_options {
  std::string queue = "default";
  std::size_t threads = 1;
  /// How long one consume waits for a message before asking again. stop() wakes waiting
  /// consumers at once (broker::wake_consumers), so this only bounds the wait on a broker that
  /// cannot be woken (a stalled server): long, so that an idle worker does not poll.
  std::chrono::milliseconds consume_timeout{10000};
  /// After a broker failure, how long a thread waits before consuming again (reconnecting).
  std::chrono::milliseconds reconnect_backoff{100};
  std::chrono::milliseconds interrupt_check{10};  ///< Dramatiq's interrupt_check_interval
  gc_policy gc;
  std::size_t max_message_bytes = k_default_max_message_bytes;
  /// Stepped: a thread consumes only with a permit from allow(), so between steps every
  /// thread is parked holding nothing (how leakbench gets quiescent samples).
  bool stepped = false;
};

/// What one finished attempt looked like, for observers.
struct attempt_report {
  std::uint64_t attempt = 0;
  std::string message_id;
  std::string actor;
  std::uint32_t retries = 0;  ///< failed attempts before this one
  bool failed = false;
  disposition::kind outcome = disposition::kind::ack;
  bool settled = true;  ///< false if the broker failed to settle it (it stays in flight)
};

/// Dramatiq's worker: threads that consume messages, run actors through the middleware chain
/// and settle each message per the middleware's decision.
class worker {
 public:
  worker(brokers::broker& b, const actor_registry& actors, worker_options opts = {});
  ~worker();  ///< stop()
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  /// Adds a middleware; before start() only.
  void add(std::shared_ptr<middleware> m);
  /// Boots the middleware, then the threads.
  void start();
  /// Interrupts running attempts, joins the threads, shuts the middleware down, then collects
  /// so that nothing a leaky run retained outlives the worker.
  void stop();

  /// Called on the worker thread once an attempt is fully over: settled, the loop drained,
  /// its objects handed to the collector, the delivery freed. After it the thread allocates
  /// nothing until it consumes again: in stepped mode, a quiescent point for measurement.
  void on_attempt_finished(std::function<void(const attempt_report&)> fn);
  /// Stepped mode: lets `n` more messages be consumed.
  void allow(std::size_t n);
  /// Stepped mode: waits until every permit is used and every thread is parked waiting for
  /// the next, holding nothing (its report and delivery freed): the quiescent point for a
  /// sample. False if `timeout` passed first.
  bool wait_parked(std::chrono::milliseconds timeout);

  collector& gc() { return *collector_; }
  brokers::broker& get_broker() { return broker_; }
  const worker_options& options() const { return options_; }
  /// Attempts finished so far.
  std::uint64_t attempts() const { return finished_.load(); }
  /// Garbage the collector reclaimed at the last stop().
  const gc_stats& shutdown_collection() const { return shutdown_stats_; }
  /// Broker failures seen by the worker threads so far, and the last one's message.
  std::uint64_t broker_failures() const { return broker_failures_.load(); }
  std::string last_broker_error() const;

 private:
  void run_thread();
  bool take_permit();
  std::optional<attempt_report> process(const brokers::delivery& d);
  value call_actor(const std::shared_ptr<attempt_context>& ctx, const actor_registry::actor& a);
  void settle(const brokers::delivery& d, const std::shared_ptr<attempt_context>& ctx);
  void broker_failed(const brokers::broker_error& e);

  brokers::broker& broker_;
  const actor_registry& actors_;
  const worker_options options_;
  std::vector<std::shared_ptr<middleware>> middleware_;
  coroutine_runner* runner_ = nullptr;
  std::shared_ptr<collector> collector_;
  std::function<void(const attempt_report&)> on_finished_;
  std::atomic<bool> running_{false};
  std::atomic<std::uint64_t> next_attempt_{1};
  std::atomic<std::uint64_t> finished_{0};
  std::mutex in_flight_mutex_;
  std::vector<std::shared_ptr<attempt_context>> in_flight_;  // attempts being processed
  std::vector<std::thread> threads_;
  gc_stats shutdown_stats_;
  std::mutex permit_mutex_;
  std::condition_variable permit_cv_;
  std::size_t permits_ = 0;
  std::size_t parked_ = 0;  // threads waiting in take_permit()
  std::condition_variable parked_cv_;
  std::atomic<std::uint64_t> broker_failures_{0};
  mutable std::mutex error_mutex_;
  std::string last_broker_error_;
};

}  // namespace leakbench::runtime
