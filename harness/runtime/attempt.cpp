#include "harness/runtime/attempt.hpp"

#include <cassert>
#include <exception>

namespace leakbench::runtime {

raised attempt_context::raise(std::shared_ptr<error> err) {
  raised r(std::move(err));
  std::lock_guard lock(mutex_);
  propagating_ = r.token();
  return r;
}

void attempt_context::on_unwind(const std::shared_ptr<frame_record>& frame) {
  std::shared_ptr<detail::in_flight> state;
  {
    std::lock_guard lock(mutex_);
    state = propagating_.lock();
  }
  if (state) state->err->add_frame(frame);
}

void attempt_context::cancel() {
  std::map<std::uint64_t, std::function<void()>> hooks;
  {
    std::lock_guard lock(mutex_);
    cancelled_.store(true, std::memory_order_release);
    hooks.swap(cancel_hooks_);
  }
  for (auto& [key, fn] : hooks) fn();
}

std::uint64_t attempt_context::on_cancel(std::function<void()> fn) {
  std::lock_guard lock(mutex_);
  if (cancelled_.load(std::memory_order_relaxed)) return 0;
  const std::uint64_t key = next_hook_++;
  cancel_hooks_.emplace(key, std::move(fn));
  return key;
}

void attempt_context::forget_cancel(std::uint64_t key) {
  std::lock_guard lock(mutex_);
  cancel_hooks_.erase(key);
}

std::vector<std::weak_ptr<gc_object>> attempt_context::take_tracked() {
  std::lock_guard lock(mutex_);
  return std::exchange(tracked_, {});
}

void attempt_context::hand_over(objects_sink to) {
  std::vector<std::weak_ptr<gc_object>> objects;
  {
    std::lock_guard lock(mutex_);
    if (live_coroutines_ > 0) {
      hand_over_to_ = std::move(to);
      return;
    }
    objects = std::exchange(tracked_, {});
  }
  to(std::move(objects));
}

void attempt_context::coroutine_started() {
  std::lock_guard lock(mutex_);
  ++live_coroutines_;
}

void attempt_context::coroutine_finished() {
  objects_sink to;
  std::vector<std::weak_ptr<gc_object>> objects;
  {
    std::lock_guard lock(mutex_);
    assert(live_coroutines_ > 0 && "coroutine_finished() without coroutine_started()");
    if (--live_coroutines_ > 0 || !hand_over_to_) return;
    to = std::exchange(hand_over_to_, nullptr);
    objects = std::exchange(tracked_, {});
  }
  to(std::move(objects));
}

void attempt_context::track(std::shared_ptr<gc_object> p) {
  std::lock_guard lock(mutex_);
  tracked_.push_back(std::move(p));
}

frame::frame(attempt_context& ctx, std::string function)
    : ctx_(ctx),
      record_(ctx.make<frame_record>(std::move(function))),
      uncaught_(std::uncaught_exceptions()) {}

frame::frame(attempt_context& ctx, std::shared_ptr<frame_record> resumed)
    : ctx_(ctx), record_(std::move(resumed)), uncaught_(std::uncaught_exceptions()) {}

frame::~frame() {
  if (std::uncaught_exceptions() > uncaught_) ctx_.on_unwind(record_);
}

}  // namespace leakbench::runtime
