#pragma once

#include <chrono>
#include <memory>
#include <mutex>

#include "harness/runtime/event_loop.hpp"
#include "harness/runtime/middleware.hpp"

namespace leakbench::middleware {

/// Options of the AsyncIO middleware.
struct asyncio_options {
  /// How long a cancelled coroutine may take to finish before the waiter gives up on it.
  std::chrono::milliseconds cancel_grace{1000};
};

/// Dramatiq's AsyncIO middleware: boots an event-loop thread with the worker and runs
/// coroutine actors on it. Its two variants differ only in run_coroutine's `future` local.
class asyncio : public runtime::middleware, public runtime::coroutine_runner {
 public:
  explicit asyncio(asyncio_options opts = {}) : opts_(opts) {}

  void before_worker_boot(runtime::worker& w) override;
  void after_worker_shutdown(runtime::worker& w) override;
  runtime::coroutine_runner* runner() override { return this; }
  void drain() override;

  /// The loop, kept alive by the caller's copy; null before boot and after shutdown.
  std::shared_ptr<runtime::event_loop> loop();

 protected:
  /// Python's `future.result(timeout=interrupt_check_interval)` loop: waits for the future,
  /// cancels the coroutine if the attempt is interrupted, then returns the value or raises.
  runtime::value wait(runtime::attempt_context& ctx, const runtime::future_state& future);
  /// Submits `fn` to the loop.
  std::shared_ptr<runtime::future_state> submit(
      const std::shared_ptr<runtime::attempt_context>& ctx, const runtime::coroutine_fn& fn);

 private:
  const asyncio_options opts_;
  std::chrono::milliseconds interrupt_check_{10};
  std::mutex mutex_;
  std::shared_ptr<runtime::event_loop> loop_;
};

}  // namespace leakbench::middleware
