#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "harness/runtime/asio.hpp"
#include "harness/runtime/attempt.hpp"
#include "harness/runtime/future.hpp"
#include "harness/runtime/value.hpp"

namespace leakbench::runtime {

/// A coroutine actor's body: runs on the loop thread.
using coroutine_fn = std::function<asio::awaitable<value>(attempt_context&)>;

/// Dramatiq's EventLoopThread: an io_context on its own thread running coroutine actors that
/// worker threads submit.
class event_loop {
 public:
  /// Starts the loop thread.
  event_loop();
  /// shutdown() with the default grace.
  ~event_loop();
  event_loop(const event_loop&) = delete;
  event_loop& operator=(const event_loop&) = delete;

  /// Schedules `fn` on the loop for `ctx` (Python: run_coroutine_threadsafe), as a new task of
  /// the attempt; the future receives its value or its exception. After shutdown the future
  /// fails at once.
  std::shared_ptr<future_state> submit(std::shared_ptr<attempt_context> ctx, coroutine_fn fn);
  /// Cancels `ctx`'s pending waits, on the loop thread (Python: future.cancel()).
  void cancel(std::shared_ptr<attempt_context> ctx);
  /// Returns once every handler posted before the call has run, so whatever a finished
  /// attempt's coroutine frames owned has been released on the loop thread; or once the
  /// loop has stopped, if shutdown() stops it first.
  void drain();
  /// Cancels pending coroutines, waits up to `grace` for them to finish, then stops the loop;
  /// coroutines still pending are destroyed and their futures fail with EventLoopClosed.
  void shutdown(std::chrono::milliseconds grace = std::chrono::seconds(2));
  /// Coroutines submitted and not yet finished.
  std::size_t pending() const;
  /// True on the loop thread.
  bool on_loop_thread() const { return std::this_thread::get_id() == thread_.get_id(); }

 private:
  struct job;
  static asio::awaitable<void> run(std::unique_ptr<job> j);
  void finished(attempt_context* ctx);

  // Reset at shutdown: destroying the context destroys the frames of coroutines still pending.
  std::unique_ptr<asio::io_context> io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  mutable std::mutex mutex_;
  std::condition_variable idle_;
  // A list: one node per coroutine, freed as it finishes; a vector's capacity would grow with
  // the most coroutines ever alive at once, whenever that happens (a quiescent sample sees it).
  std::list<std::weak_ptr<attempt_context>> running_;
  bool closed_ = false;
  bool stopped_ = false;  // the loop thread has exited
  std::uint64_t drains_posted_ = 0;
  std::uint64_t drains_reached_ = 0;
  std::thread thread_;
};

/// Waits `duration` on the loop; ends with CancelledError if `ctx` is cancelled meanwhile.
asio::awaitable<void> sleep(attempt_context& ctx, std::chrono::nanoseconds duration);

}  // namespace leakbench::runtime
