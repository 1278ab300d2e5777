#include "harness/middleware/asyncio.hpp"

#include "harness/runtime/worker.hpp"

namespace leakbench::middleware {

void asyncio::before_worker_boot(runtime::worker& w) {
  std::lock_guard lock(mutex_);
  interrupt_check_ = w.options().interrupt_check;
  if (!loop_) loop_ = std::make_shared<runtime::event_loop>();
}

void asyncio::after_worker_shutdown(runtime::worker&) {
  std::shared_ptr<runtime::event_loop> loop;
  {
    std::lock_guard lock(mutex_);
    loop.swap(loop_);
  }
  if (loop) loop->shutdown();
}

std::shared_ptr<runtime::event_loop> asyncio::loop() {
  std::lock_guard lock(mutex_);
  return loop_;
}

void asyncio::drain() {
  if (auto l = loop()) l->drain();
}

std::shared_ptr<runtime::future_state> asyncio::submit(
    const std::shared_ptr<runtime::attempt_context>& ctx, const runtime::coroutine_fn& fn) {
  const auto l = loop();
  if (!l)
    throw ctx->raise(ctx->make_error("RuntimeError", "the AsyncIO middleware has not booted"));
  return l->submit(ctx, fn);
}

runtime::value asyncio::wait(runtime::attempt_context& ctx, const runtime::future_state& future) {
  bool cancel_sent = false;
  auto cancelled_at = std::chrono::steady_clock::now();
  while (!future.wait_for(interrupt_check_)) {
    if (!ctx.interrupted()) continue;
    if (!cancel_sent) {
      cancel_sent = true;
      cancelled_at = std::chrono::steady_clock::now();
      if (auto l = loop()) l->cancel(ctx.shared_from_this());
    } else if (std::chrono::steady_clock::now() - cancelled_at > opts_.cancel_grace) {
      // The coroutine ignores cancellation: stop waiting for it, as Dramatiq re-raises the
      // interrupt. The loop keeps the coroutine; shutdown destroys it.
      throw ctx.raise(ctx.make_error("Interrupted", "coroutine did not stop after cancel"));
    }
  }
  return future.result(ctx);
}

}  // namespace leakbench::middleware
