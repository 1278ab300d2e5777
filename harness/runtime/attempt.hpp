#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "harness/runtime/error.hpp"
#include "harness/runtime/message.hpp"

namespace leakbench::runtime {

/// What the worker does with the message once the attempt is over.
struct disposition {
  enum class kind { ack, retry, dead_letter };
  kind what = kind::ack;
  std::optional<message> next;         ///< for retry: the message to enqueue again
  std::chrono::milliseconds delay{0};  ///< for retry: the backoff
  std::string reason;                  ///< for dead_letter
};

/// One processing attempt of one message: what Python keeps per call in its frames and
/// thread state. Shared by the worker thread and the loop thread, one at a time.
class attempt_context : public std::enable_shared_from_this<attempt_context> {
 public:
  attempt_context(std::uint64_t id, message msg) : id_(id), message_(std::move(msg)) {}

  std::uint64_t id() const { return id_; }
  const message& msg() const { return message_; }

  /// Creates an object the cycle collector tracks as part of this attempt.
  template <class T, class... Args>
  std::shared_ptr<T> make(Args&&... args) {
    auto p = std::make_shared<T>(std::forward<Args>(args)...);
    track(p);
    return p;
  }
  /// A new model exception of this attempt.
  std::shared_ptr<error> make_error(std::string type, std::string message) {
    return make<error>(std::move(type), std::move(message));
  }
  /// Starts propagating `err`: `throw ctx.raise(err);`.
  raised raise(std::shared_ptr<error> err);
  /// Called by a frame that an exception is leaving (or that catches it).
  void on_unwind(const std::shared_ptr<frame_record>& frame);

  /// Asks the attempt to stop: pending cancellable waits end with CancelledError.
  // Call it on the thread that runs the waits (the loop thread); the flag itself is atomic.
  void cancel();
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }
  /// Registers how to cancel a pending wait; returns 0 (and registers nothing) if already
  /// cancelled, else a key for forget_cancel().
  std::uint64_t on_cancel(std::function<void()> fn);
  void forget_cancel(std::uint64_t key);

  /// Set by the worker's interrupt (shutdown, time limit); checked by waiting runners.
  void interrupt() { interrupted_.store(true, std::memory_order_release); }
  bool interrupted() const { return interrupted_.load(std::memory_order_acquire); }

  /// Middleware's decision: enqueue `next` again after `delay`.
  void retry(message next, std::chrono::milliseconds delay) {
    outcome_ = {disposition::kind::retry, std::move(next), delay, {}};
  }
  /// Middleware's decision: dead-letter the message.
  void give_up(std::string reason) {
    outcome_ = {disposition::kind::dead_letter, std::nullopt, {}, std::move(reason)};
  }
  /// What middleware decided, if anything; the worker applies it.
  const std::optional<disposition>& outcome() const { return outcome_; }

  /// Hands the tracked objects over (to the collector) once the attempt is finished.
  std::vector<std::weak_ptr<gc_object>> take_tracked();

  /// Receives an attempt's tracked objects: the collector's adopt().
  using objects_sink = std::function<void(std::vector<std::weak_ptr<gc_object>>)>;
  /// Hands the tracked objects to `to` once no coroutine of the attempt is alive: at once, or
  /// when the last one's frame is destroyed (on the loop thread, or at loop shutdown). Until
  /// then a collector never sees objects a running coroutine may still change.
  void hand_over(objects_sink to);
  /// A coroutine of this attempt now lives on a loop (event_loop::submit).
  void coroutine_started();
  /// That coroutine's frame is destroyed, with everything it created.
  void coroutine_finished();

 private:
  void track(std::shared_ptr<gc_object> p);

  const std::uint64_t id_;
  const message message_;
  std::mutex mutex_;
  std::vector<std::weak_ptr<gc_object>> tracked_;
  std::weak_ptr<detail::in_flight> propagating_;
  std::map<std::uint64_t, std::function<void()>> cancel_hooks_;
  std::uint64_t next_hook_ = 1;
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> interrupted_{false};
  std::optional<disposition> outcome_;
  std::size_t live_coroutines_ = 0;
  objects_sink hand_over_to_;  // set while hand_over() waits for a coroutine to end
};

/// Declares a function frame: its record owns the locals the function binds, and joins the
/// traceback of a model exception that propagates out of the function.
// C++ unwinding destroys locals; this keeps what Python keeps. Declare it first in the function
// so that it is destroyed last, after every other local.
class frame {
 public:
  frame(attempt_context& ctx, std::string function);
  /// Resumes a frame that outlives its calls, as a generator's does between resumptions.
  frame(attempt_context& ctx, std::shared_ptr<frame_record> resumed);
  ~frame();
  frame(const frame&) = delete;
  frame& operator=(const frame&) = delete;

  /// Binds a local and returns it: `auto data = f.local("data", make_payload(n));`.
  template <class T>
  std::shared_ptr<T> local(std::string name, std::shared_ptr<T> bound) {
    record_->set_local(std::move(name), ref(bound));
    return bound;
  }
  /// Binds a value already type-erased, as a coroutine's result.
  void local(std::string name, ref bound) { record_->set_local(std::move(name), std::move(bound)); }
  /// `del name`.
  void del(std::string_view name) { record_->del_local(name); }
  /// For the frame whose handler catches the exception: Python's traceback starts there.
  void caught() { ctx_.on_unwind(record_); }
  const std::shared_ptr<frame_record>& record() const { return record_; }

 private:
  attempt_context& ctx_;
  std::shared_ptr<frame_record> record_;
  int uncaught_;
};

}  // namespace leakbench::runtime
