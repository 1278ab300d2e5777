#include "harness/runtime/event_loop.hpp"

#include <cassert>

namespace leakbench::runtime {
// A submitted coroutine's state, owned by its frame: destroyed when the frame is, whether the
// coroutine finished or the loop's shutdown destroyed it unfinished.
struct event_loop::job {
  event_loop& loop;
  std::shared_ptr<attempt_context> ctx;
  std::shared_ptr<future_state> future;
  coroutine_fn fn;

  job(event_loop& l, std::shared_ptr<attempt_context> c, std::shared_ptr<future_state> f,
      coroutine_fn body)
      : loop(l), ctx(std::move(c)), future(std::move(f)), fn(std::move(body)) {
    ctx->coroutine_started();
  }
  job(const job&) = delete;
  job& operator=(const job&) = delete;
  ~job() {
    if (!future->done()) {  // destroyed unfinished: the loop shut down
      future->set_exception(ctx->make_error("EventLoopClosed", "event loop shut down"));
    }
    future.reset();
    fn = nullptr;
    loop.finished(ctx.get());
    // Last: every object the coroutine created exists by now, and none will change.
    ctx->coroutine_finished();
  }
};

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
      // The coroutine is a task of its own: its exception state is not the waiting thread's.
      auto task = ctx->new_task();
      running_.push_back(task);
      asio::co_spawn(*io_,
                     run(std::make_unique<job>(*this, std::move(task), future, std::move(fn))),
                     asio::detached);
      return future;
    }
  }
  future->set_exception(ctx->make_error("EventLoopClosed", "event loop is shut down"));
  return future;
}

asio::awaitable<void> event_loop::run(std::unique_ptr<job> j) {
  attempt_context& ctx = *j->ctx;
  future_state& future = *j->future;
  try {
    future.set_result(co_await j->fn(ctx));
  } catch (const raised& r) {
    future.set_exception(r.exception());
  } catch (const std::exception& e) {
    // A C++ exception the actor did not model: it still fails the attempt, with no data.
    future.set_exception(ctx.make_error("RuntimeError", e.what()));
  } catch (...) {
    future.set_exception(ctx.make_error("RuntimeError", "unknown C++ exception"));
  }
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
  // A ticket, not a heap-allocated flag: the handler may still be alive when drain() returns,
  // and a quiescent sample must not see it. If shutdown() stops the loop before the handler
  // runs, the handler is destroyed unrun and `stopped_` ends the wait instead.
  std::unique_lock lock(mutex_);
  if (closed_) return;  // shutdown already ran (or is running) everything down
  const std::uint64_t ticket = ++drains_posted_;
  asio::post(*io_, [this, ticket] {
    {
      std::lock_guard inner(mutex_);
      drains_reached_ = ticket;  // one loop thread runs handlers in order: tickets ascend
    }
    idle_.notify_all();
  });
  idle_.wait(lock, [&] { return drains_reached_ >= ticket || stopped_; });
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
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;  // handlers not run by now never will: release drain()'s waiters
  }
  idle_.notify_all();
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
