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

/// One processing attempt of one message, seen from one task: what Python keeps per call in
/// its frames and thread state. The worker thread's task is the first; each coroutine the loop
/// runs for the attempt is another (new_task). Tasks share the attempt (its objects, its
/// cancellation, its outcome) and each has its own exception state, as each CPython coroutine
/// has its own gi_exc_state: the exceptions it is handling, and the one unwinding its frames.
// A task is used by one thread at a time (the worker thread, or the loop thread); the shared
// attempt is locked.
class attempt_context : public std::enable_shared_from_this<attempt_context> {
 public:
  attempt_context(std::uint64_t id, message msg);
  ~attempt_context();
  attempt_context(const attempt_context&) = delete;
  attempt_context& operator=(const attempt_context&) = delete;

  /// Another task of the same attempt, starting with no exception handled or unwinding.
  std::shared_ptr<attempt_context> new_task();

  std::uint64_t id() const;
  const message& msg() const;

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
  /// `raise err` in this task: `throw ctx.raise(err);`. While an exception is being handled,
  /// it becomes err's `__context__` (cycles through the context chain are cut, as CPython
  /// does); the frames `err` leaves from here on join its traceback.
  raised raise(std::shared_ptr<error> err);
  /// The exception this task's innermost running handler handles (sys.exc_info()), or null.
  std::shared_ptr<error> handled() const;
  /// Writes one log line (a logger that keeps nothing): bytes logged so far, for observers.
  void log(std::string_view line);
  std::uint64_t logged_bytes() const;

  /// Asks the attempt to stop: pending cancellable waits end with CancelledError.
  // Call it on the thread that runs the waits (the loop thread); the flag itself is atomic.
  void cancel();
  bool cancelled() const;
  /// Registers how to cancel a pending wait; returns 0 (and registers nothing) if already
  /// cancelled, else a key for forget_cancel().
  std::uint64_t on_cancel(std::function<void()> fn);
  void forget_cancel(std::uint64_t key);

  /// Set by the worker's interrupt (shutdown, time limit); checked by waiting runners.
  void interrupt();
  bool interrupted() const;

  /// Middleware's decision: enqueue `next` again after `delay`.
  void retry(message next, std::chrono::milliseconds delay);
  /// Middleware's decision: dead-letter the message.
  void give_up(std::string reason);
  /// What middleware decided, if anything; the worker applies it.
  const std::optional<disposition>& outcome() const;

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
  friend class frame;
  friend class handler;
  struct shared;
  explicit attempt_context(std::shared_ptr<shared> attempt);
  void track(std::shared_ptr<gc_object> p);
  /// A frame of this task is left by an exception (C++ unwinding): it joins the traceback of
  /// the exception unwinding this task, unless a bare re-raise is leaving the frame whose
  /// handler already recorded it.
  void unwound(const std::shared_ptr<frame_record>& frame);

  std::shared_ptr<shared> attempt_;
  // This task's exception state (CPython: the coroutine's gi_exc_state, and the exception the
  // eval loop is unwinding). Weak: propagation owns nothing; the C++ exception object does.
  std::vector<std::shared_ptr<error>> handled_;  // innermost handler last
  std::weak_ptr<detail::in_flight> unwinding_;
  const frame_record* reraised_from_ = nullptr;
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
  /// Binds a payload block, keeping its size for naming what holds it.
  payload local(std::string name, payload bound) {
    record_->set_local(std::move(name), bound);
    return bound;
  }
  /// Binds a value already type-erased, as a coroutine's result.
  void local(std::string name, ref bound) { record_->set_local(std::move(name), std::move(bound)); }
  /// `del name`.
  void del(std::string_view name) { record_->del_local(name); }
  /// Python's RERAISE (a `with` block re-raising what `__exit__` did not suppress, or a bare
  /// `raise` of an exception this frame caught): `err` goes on propagating from this frame,
  /// whose traceback entry it already has.
  [[noreturn]] void reraise(std::shared_ptr<error> err);
  const std::shared_ptr<frame_record>& record() const { return record_; }
  attempt_context& context() const { return ctx_; }

 private:
  attempt_context& ctx_;
  std::shared_ptr<frame_record> record_;
  int uncaught_;
};

/// An `except` block running in frame `f`:
/// `catch (const rt::raised& r) { rt::handler h(f, r, "e"); ... }`. While it lives, its
/// exception is the one being handled (the implicit `__context__` of anything raised), bound to
/// `as` if named. It ends the propagation and gives the traceback its entry for `f`. Destroyed,
/// it unbinds `as`, as Python deletes the name; a bare `throw;` out of the block re-raises the
/// exception without a second entry for `f`.
class handler {
 public:
  handler(frame& f, const raised& r, std::string as = {});
  ~handler();
  handler(const handler&) = delete;
  handler& operator=(const handler&) = delete;

  const std::shared_ptr<error>& exception() const { return err_; }

 private:
  frame& frame_;
  const raised& raised_;  // the catch clause's: alive while the block runs and while it is left
  std::shared_ptr<error> err_;
  std::string as_;
  int uncaught_;
};

}  // namespace leakbench::runtime
