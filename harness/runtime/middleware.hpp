#pragma once

#include <memory>

#include "harness/runtime/event_loop.hpp"

namespace leakbench::runtime {

class worker;

/// Runs coroutine actors for a worker thread; the AsyncIO middleware provides one.
class coroutine_runner {
 public:
  virtual ~coroutine_runner() = default;
  /// Runs `fn` for `ctx` to completion; returns its value or raises its exception.
  virtual value run_coroutine(const std::shared_ptr<attempt_context>& ctx,
                              const coroutine_fn& fn) = 0;
  /// Returns once the loop has released what finished attempts' coroutines owned.
  virtual void drain() = 0;
};

/// A hook into the worker's life and each message's processing, as Dramatiq's middleware.
// Hooks run on worker threads, several at once: implementations must be thread-safe.
class middleware {
 public:
  virtual ~middleware() = default;
  virtual void before_worker_boot(worker&) {}
  virtual void after_worker_shutdown(worker&) {}
  virtual void before_process_message(attempt_context&) {}
  /// After the actor: `exception` is null on success. Middleware decides ctx.outcome().
  virtual void after_process_message(attempt_context&,
                                     const std::shared_ptr<error>& /*exception*/) {}
  /// The coroutine runner this middleware provides, if any.
  virtual coroutine_runner* runner() { return nullptr; }
};

}  // namespace leakbench::runtime
