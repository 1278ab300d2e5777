#include "harness/runtime/future.hpp"

#include <cassert>

#include "harness/runtime/attempt.hpp"

namespace leakbench::runtime {

void future_state::set_result(value v) {
  {
    std::lock_guard lock(mutex_);
    assert(!done_ && "a future's outcome is set once");
    result_ = std::move(v);
    done_ = true;
  }
  done_cv_.notify_all();
}

void future_state::set_exception(std::shared_ptr<error> e) {
  require_owning(e);
  {
    std::lock_guard lock(mutex_);
    assert(!done_ && "a future's outcome is set once");
    exception_ = std::move(e);
    done_ = true;
  }
  done_cv_.notify_all();
}

bool future_state::wait_for(std::chrono::nanoseconds timeout) const {
  std::unique_lock lock(mutex_);
  return done_cv_.wait_for(lock, timeout, [this] { return done_; });
}

bool future_state::done() const {
  std::lock_guard lock(mutex_);
  return done_;
}

value future_state::result(attempt_context& ctx) const {
  std::shared_ptr<error> e;
  {
    std::lock_guard lock(mutex_);
    assert(done_ && "result() before the future is done");
    if (!exception_) return result_;
    e = exception_;
  }
  throw ctx.raise(std::move(e));
}

std::shared_ptr<error> future_state::exception() const {
  std::lock_guard lock(mutex_);
  return exception_;
}

void future_state::referents(const std::function<void(const referent&)>& visit) const {
  std::lock_guard lock(mutex_);
  if (exception_) visit({{step::kind::attribute, "_exception"}, exception_.get()});
  if (result_) visit(result_.as_referent({step::kind::attribute, "_result"}));
}

void future_state::clear() {
  std::lock_guard lock(mutex_);
  exception_.reset();
  result_ = {};
}

}  // namespace leakbench::runtime
