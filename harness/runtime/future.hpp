#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "harness/runtime/error.hpp"
#include "harness/runtime/value.hpp"

namespace leakbench::runtime {

class attempt_context;

/// The concurrent future a coroutine's outcome is handed through (Python's
/// concurrent.futures.Future): set once on the loop thread, read on a worker thread.
// Tracked by the collector: through `exception_` it is one link of the leak's cycle.
class future_state final : public gc_object {
 public:
  void set_result(value v);
  void set_exception(std::shared_ptr<error> e);
  /// Waits up to `timeout`; true once the outcome is set.
  bool wait_for(std::chrono::nanoseconds timeout) const;
  bool done() const;
  /// The value, or raises the stored exception again in `ctx` (Python: `raise self._exception`,
  /// which keeps the exception's traceback and adds the frames it now leaves).
  value result(attempt_context& ctx) const;
  /// The stored exception, if any.
  std::shared_ptr<error> exception() const;

  void referents(const std::function<void(const referent&)>& visit) const override;
  void clear() override;

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable done_cv_;
  bool done_ = false;
  value result_;
  std::shared_ptr<error> exception_;
};

}  // namespace leakbench::runtime
