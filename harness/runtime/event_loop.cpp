#include "harness/runtime/event_loop.hpp"

#include <cassert>
#include <future>

namespace leakbench::runtime {
namespace {

// Fails the future if the coroutine frame is destroyed before it finished (loop shutdown).
struct completion_guard {
  attempt_context& ctx;
  future_state& future;
  ~completion_guard() {
    if (!future.done())
      future.set_exception(ctx.make_error("EventLoopClosed", "event loop shut down"));
  }
};

}  // namespace

event_loop::event_loop()
    : io_(std::make_unique<asio::io_context>(1)),
      work_(io_->get_executor()),
      thread_([io = io_.get()] { io->run(); }) {}

event_loop::~event_loop() { shutdown(); }

std::shared_ptr<future_state> event_loop::submit(std::shared_ptr<attempt_context> ctx,
                                                 coroutine_fn fn) {
  auto future = ctx->make<future_state>();
  {
    std::lock_guard lock(mutex_);
    if (!closed_) {
      running_.push_back(ctx);
      asio::co_spawn(*io_, run(ctx, future, std::move(fn)), asio::detached);
      return future;
    }
  }
  future->set_exception(ctx->make_error("EventLoopClosed", "event loop is shut down"));
  return future;
}

asio::awaitable<void> event_loop::run(std::shared_ptr<attempt_context> ctx,
                                      std::shared_ptr<future_state> future, coroutine_fn fn) {
  {
    completion_guard guard{*ctx, *future};
    try {
      future->set_result(co_await fn(*ctx));
    } catch (const raised& r) {
      future->set_exception(r.exception());
    } catch (const std::exception& e) {
      // A C++ exception the actor did not model: it still fails the attempt, with no data.
      future->set_exception(ctx->make_error("RuntimeError", e.what()));
    } catch (...) {
      future->set_exception(ctx->make_error("RuntimeError", "unknown C++ exception"));
    }
  }
  finished(ctx.get());
}

void event_loop::finished(attempt_context* ctx) {
  std::lock_guard lock(mutex_);
  std::erase_if(running_, [ctx](const std::weak_ptr<attempt_context>& w) {
    auto p = w.lock();
    return !p || p.get() == ctx;
  });
  idle_.notify_all();
}

void event_loop::cancel(std::shared_ptr<attempt_context> ctx) {
  std::lock_guard lock(mutex_);
  if (io_) asio::post(*io_, [ctx = std::move(ctx)] { ctx->cancel(); });
}

void event_loop::drain() {
  assert(!on_loop_thread() && "drain() from the loop thread would wait for itself");
  std::promise<void> reached;
  auto done = reached.get_future();
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;  // shutdown already ran (or is running) everything down
    asio::post(*io_, [&reached] { reached.set_value(); });
  }
  done.wait();
}

std::size_t event_loop::pending() const {
  std::lock_guard lock(mutex_);
  return running_.size();
}

void event_loop::shutdown(std::chrono::milliseconds grace) {
  std::vector<std::shared_ptr<attempt_context>> running;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    closed_ = true;
    for (auto& w : running_) {
      if (auto p = w.lock()) running.push_back(std::move(p));
    }
  }
  for (auto& ctx : running) cancel(std::move(ctx));
  {
    std::unique_lock lock(mutex_);
    idle_.wait_for(lock, grace, [this] { return running_.empty(); });
  }
  work_.reset();
  io_->stop();
  thread_.join();
  std::unique_ptr<asio::io_context> io;
  {
    std::lock_guard lock(mutex_);
    io.swap(io_);
  }
  io.reset();  // frames of coroutines that ignored the cancellation: their futures fail here
}

asio::awaitable<void> sleep(attempt_context& ctx, std::chrono::nanoseconds duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor, duration);
  const std::uint64_t key = ctx.on_cancel([&timer] { timer.cancel(); });
  if (key != 0) {
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    ctx.forget_cancel(key);
  }
  if (ctx.cancelled()) throw ctx.raise(ctx.make_error("CancelledError", ""));
}

}  // namespace leakbench::runtime
