#include "harness/runtime/attempt.hpp"

#include <cassert>
#include <exception>

namespace leakbench::runtime {

// What the tasks of one attempt share.
struct attempt_context::shared {
  shared(std::uint64_t i, message m) : id(i), msg(std::move(m)) {}

  const std::uint64_t id;
  const message msg;
  std::mutex mutex;
  std::vector<std::weak_ptr<gc_object>> tracked;
  std::map<std::uint64_t, std::function<void()>> cancel_hooks;
  std::uint64_t next_hook = 1;
  std::atomic<bool> cancelled{false};
  std::atomic<bool> interrupted{false};
  std::atomic<std::uint64_t> logged{0};
  std::optional<disposition> outcome;
  std::size_t live_coroutines = 0;
  objects_sink hand_over_to;  // set while hand_over() waits for a coroutine to end
};

attempt_context::attempt_context(std::uint64_t id, message msg)
    : attempt_(std::make_shared<shared>(id, std::move(msg))) {}

attempt_context::attempt_context(std::shared_ptr<shared> attempt) : attempt_(std::move(attempt)) {}

attempt_context::~attempt_context() = default;

std::shared_ptr<attempt_context> attempt_context::new_task() {
  return std::shared_ptr<attempt_context>(new attempt_context(attempt_));
}

std::uint64_t attempt_context::id() const { return attempt_->id; }
const message& attempt_context::msg() const { return attempt_->msg; }

raised attempt_context::raise(std::shared_ptr<error> err) {
  if (!handled_.empty() && handled_.back() != err) {
    const std::shared_ptr<error>& current = handled_.back();
    // CPython's _PyErr_SetObject: if err is already on the handled exception's context chain,
    // cut the link to it, or err.__context__ would close a cycle; Floyd's tortoise stops on a
    // cycle that was already there.
    error* o = current.get();
    const error* slow = o;
    bool advance_slow = false;
    while (const auto& next = o->context()) {
      if (next == err) {
        o->set_context(nullptr);
        break;
      }
      o = next.get();
      if (o == slow) break;
      if (advance_slow) slow = slow->context().get();
      advance_slow = !advance_slow;
    }
    err->set_context(current);
  }
  raised r(std::move(err));
  unwinding_ = r.token();
  reraised_from_ = nullptr;
  return r;
}

std::shared_ptr<error> attempt_context::handled() const {
  return handled_.empty() ? nullptr : handled_.back();
}

void attempt_context::log(std::string_view line) {
  attempt_->logged.fetch_add(line.size(), std::memory_order_relaxed);
}

std::uint64_t attempt_context::logged_bytes() const { return attempt_->logged.load(); }

void attempt_context::unwound(const std::shared_ptr<frame_record>& frame) {
  if (reraised_from_ == frame.get()) {  // its handler gave it its entry already
    reraised_from_ = nullptr;
    return;
  }
  if (auto state = unwinding_.lock()) state->err->add_frame(frame);
}

void attempt_context::cancel() {
  std::map<std::uint64_t, std::function<void()>> hooks;
  {
    std::lock_guard lock(attempt_->mutex);
    attempt_->cancelled.store(true, std::memory_order_release);
    hooks.swap(attempt_->cancel_hooks);
  }
  for (auto& [key, fn] : hooks) fn();
}

bool attempt_context::cancelled() const {
  return attempt_->cancelled.load(std::memory_order_acquire);
}

std::uint64_t attempt_context::on_cancel(std::function<void()> fn) {
  std::lock_guard lock(attempt_->mutex);
  if (attempt_->cancelled.load(std::memory_order_relaxed)) return 0;
  const std::uint64_t key = attempt_->next_hook++;
  attempt_->cancel_hooks.emplace(key, std::move(fn));
  return key;
}

void attempt_context::forget_cancel(std::uint64_t key) {
  std::lock_guard lock(attempt_->mutex);
  attempt_->cancel_hooks.erase(key);
}

void attempt_context::interrupt() { attempt_->interrupted.store(true, std::memory_order_release); }

bool attempt_context::interrupted() const {
  return attempt_->interrupted.load(std::memory_order_acquire);
}

void attempt_context::retry(message next, std::chrono::milliseconds delay) {
  attempt_->outcome = {disposition::kind::retry, std::move(next), delay, {}};
}

void attempt_context::give_up(std::string reason) {
  attempt_->outcome = {disposition::kind::dead_letter, std::nullopt, {}, std::move(reason)};
}

const std::optional<disposition>& attempt_context::outcome() const { return attempt_->outcome; }

std::vector<std::weak_ptr<gc_object>> attempt_context::take_tracked() {
  std::lock_guard lock(attempt_->mutex);
  return std::exchange(attempt_->tracked, {});
}

void attempt_context::hand_over(objects_sink to) {
  std::vector<std::weak_ptr<gc_object>> objects;
  {
    std::lock_guard lock(attempt_->mutex);
    if (attempt_->live_coroutines > 0) {
      attempt_->hand_over_to = std::move(to);
      return;
    }
    objects = std::exchange(attempt_->tracked, {});
  }
  to(std::move(objects));
}

void attempt_context::coroutine_started() {
  std::lock_guard lock(attempt_->mutex);
  ++attempt_->live_coroutines;
}

void attempt_context::coroutine_finished() {
  objects_sink to;
  std::vector<std::weak_ptr<gc_object>> objects;
  {
    std::lock_guard lock(attempt_->mutex);
    assert(attempt_->live_coroutines > 0 && "coroutine_finished() without coroutine_started()");
    if (--attempt_->live_coroutines > 0 || !attempt_->hand_over_to) return;
    to = std::exchange(attempt_->hand_over_to, nullptr);
    objects = std::exchange(attempt_->tracked, {});
  }
  to(std::move(objects));
}

void attempt_context::track(std::shared_ptr<gc_object> p) {
  std::lock_guard lock(attempt_->mutex);
  attempt_->tracked.push_back(std::move(p));
}

frame::frame(attempt_context& ctx, std::string function)
    : ctx_(ctx),
      record_(ctx.make<frame_record>(std::move(function))),
      uncaught_(std::uncaught_exceptions()) {}

frame::frame(attempt_context& ctx, std::shared_ptr<frame_record> resumed)
    : ctx_(ctx), record_(std::move(resumed)), uncaught_(std::uncaught_exceptions()) {}

frame::~frame() {
  if (std::uncaught_exceptions() > uncaught_) ctx_.unwound(record_);
}

void frame::reraise(std::shared_ptr<error> err) {
  raised r(std::move(err));
  ctx_.unwinding_ = r.token();
  ctx_.reraised_from_ = record_.get();
  throw r;
}

handler::handler(frame& f, const raised& r, std::string as)
    : frame_(f),
      raised_(r),
      err_(r.exception()),
      as_(std::move(as)),
      uncaught_(std::uncaught_exceptions()) {
  attempt_context& ctx = f.context();
  // The entry for the catching frame: Python adds it as the exception reaches the frame. A bare
  // re-raise from an inner handler of the same frame has it already.
  const auto unwinding = ctx.unwinding_.lock();
  const bool has_entry =
      ctx.reraised_from_ == f.record().get() && unwinding && unwinding->err == err_;
  if (!has_entry) err_->add_frame(f.record());
  ctx.unwinding_.reset();  // caught: later unwinding in this task is not this exception's
  ctx.reraised_from_ = nullptr;
  ctx.handled_.push_back(err_);
  if (!as_.empty()) f.local(as_, err_);
}

handler::~handler() {
  attempt_context& ctx = frame_.context();
  assert(!ctx.handled_.empty() && ctx.handled_.back() == err_ && "handlers end innermost first");
  ctx.handled_.pop_back();
  if (!as_.empty()) frame_.del(as_);  // Python: `finally: del e`
  // Left by an exception while nothing new was raised (or a handled one was caught inside):
  // a bare `throw;`. It goes on with the traceback it has, this frame's entry included. (A
  // non-model C++ exception leaving the block looks the same; model code raises none.)
  if (std::uncaught_exceptions() > uncaught_ && ctx.unwinding_.expired()) {
    ctx.unwinding_ = raised_.token();
    ctx.reraised_from_ = frame_.record().get();
  }
}

}  // namespace leakbench::runtime
