#include "harness/runtime/worker.hpp"

#include <fmt/format.h>

namespace leakbench::runtime {

worker::worker(brokers::broker& b, const actor_registry& actors, worker_options opts)
    : broker_(b),
      actors_(actors),
      options_(std::move(opts)),
      collector_(std::make_shared<collector>(options_.gc)) {
  if (options_.threads == 0) throw std::invalid_argument("a worker needs at least one thread");
}

worker::~worker() { stop(); }

void worker::add(std::shared_ptr<middleware> m) {
  if (!threads_.empty()) throw std::logic_error("middleware must be added before start()");
  if (auto* r = m->runner()) runner_ = r;
  middleware_.push_back(std::move(m));
}

void worker::on_attempt_finished(std::function<void(const attempt_report&)> fn) {
  on_finished_ = std::move(fn);
}

void worker::start() {
  if (running_.exchange(true)) return;
  for (auto& m : middleware_) m->before_worker_boot(*this);
  // At most one attempt per thread: never grown later, when a sample could see it.
  in_flight_.reserve(options_.threads);
  for (std::size_t i = 0; i < options_.threads; ++i)
    threads_.emplace_back([this] { run_thread(); });
}

void worker::allow(std::size_t n) {
  {
    std::lock_guard lock(permit_mutex_);
    permits_ += n;
  }
  permit_cv_.notify_all();
}

bool worker::take_permit() {
  std::unique_lock lock(permit_mutex_);
  ++parked_;
  parked_cv_.notify_all();
  permit_cv_.wait(lock, [this] { return permits_ > 0 || !running_.load(); });
  --parked_;
  if (!running_.load()) return false;
  --permits_;
  return true;
}

bool worker::wait_parked(std::chrono::milliseconds timeout) {
  std::unique_lock lock(permit_mutex_);
  return parked_cv_.wait_for(lock, timeout,
                             [this] { return permits_ == 0 && parked_ == threads_.size(); });
}

void worker::stop() {
  if (!running_.exchange(false) && threads_.empty()) return;
  {
    std::lock_guard lock(permit_mutex_);  // no thread may miss the wake-up
  }
  permit_cv_.notify_all();
  broker_.wake_consumers();  // consumers wait long (no polling): end their waits now
  {
    std::lock_guard lock(in_flight_mutex_);
    for (auto& ctx : in_flight_) ctx->interrupt();
  }
  for (auto& t : threads_) t.join();
  threads_.clear();
  for (auto it = middleware_.rbegin(); it != middleware_.rend(); ++it) {
    (*it)->after_worker_shutdown(*this);
  }
  // Always at shutdown: one run's leak never bleeds into the next.
  shutdown_stats_ = collector_->collect();
}

void worker::run_thread() {
  bool permitted = false;  // a permit is kept across consume timeouts until used
  while (running_.load()) {
    if (options_.stepped && !permitted && !(permitted = take_permit())) break;
    std::optional<attempt_report> report;
    {
      std::optional<brokers::delivery> d;
      try {
        d = broker_.consume(options_.queue, options_.consume_timeout);
      } catch (const brokers::broker_error& e) {
        broker_failed(e);
        std::this_thread::sleep_for(options_.reconnect_backoff);  // the broker reconnects
        continue;
      }
      if (!d) continue;
      permitted = false;
      try {
        report = process(*d);
      } catch (const brokers::broker_error& e) {
        broker_failed(e);  // dead-lettering a bad message failed: it stays in flight
      }
    }  // the delivery is freed before observers look
    if (report) {
      ++finished_;
      if (on_finished_) on_finished_(*report);
    }
  }
}

value worker::call_actor(const std::shared_ptr<attempt_context>& ctx,
                         const actor_registry::actor& a) {
  if (const auto* fn = std::get_if<sync_fn>(&a)) return (*fn)(*ctx);
  if (runner_ == nullptr) {
    throw ctx->raise(ctx->make_error(
        "RuntimeError",
        fmt::format("actor '{}' is a coroutine: add the AsyncIO middleware", ctx->msg().actor)));
  }
  return runner_->run_coroutine(ctx, std::get<coroutine_fn>(a));
}

std::optional<attempt_report> worker::process(const brokers::delivery& d) {
  message msg;
  const actor_registry::actor* actor = nullptr;
  try {
    msg = decode(d.body, options_.max_message_bytes);
    actor = actors_.find(msg.actor);
    if (actor == nullptr) throw message_error(fmt::format("unknown actor '{}'", msg.actor));
  } catch (const message_error& e) {
    broker_.dead_letter(d, e.what());  // a bad message must not stop the worker
    return std::nullopt;
  }

  auto ctx = std::make_shared<attempt_context>(next_attempt_++, std::move(msg));
  {
    std::lock_guard lock(in_flight_mutex_);
    in_flight_.push_back(ctx);
  }
  // Leaves the list as the attempt ends, so that the list holds only attempts in progress
  // and no finished one's storage outlives it (a quiescent sample would see it).
  struct in_flight_entry {
    worker& w;
    const attempt_context* ctx;
    ~in_flight_entry() {
      std::lock_guard lock(w.in_flight_mutex_);
      std::erase_if(w.in_flight_, [this](const auto& p) { return p.get() == ctx; });
    }
  } const entry{*this, ctx.get()};
  if (!running_.load()) ctx->interrupt();

  attempt_report report{ctx->id(), ctx->msg().id, ctx->msg().actor, ctx->msg().options.retries};
  {
    std::shared_ptr<error> exception;
    {
      frame f(*ctx, "process_message");  // Python's traceback starts at the catching frame
      f.local("message", std::make_shared<message>(ctx->msg()));
      try {
        for (auto& m : middleware_) m->before_process_message(*ctx);
        call_actor(ctx, *actor);  // the result is discarded: there is no result backend
      } catch (const raised& r) {
        const handler h(f, r, "e");  // Python: `except BaseException as e:`
        exception = h.exception();
      } catch (const std::exception& e) {
        exception = ctx->make_error("RuntimeError", e.what());
      }
    }
    for (auto it = middleware_.rbegin(); it != middleware_.rend(); ++it) {
      (*it)->after_process_message(*ctx, exception);
    }
    if (exception && !ctx->outcome()) ctx->give_up(exception->describe());
    report.failed = exception != nullptr;
  }  // the worker's own reference to the exception ends here, as Python's `except ... as e`
  try {
    settle(d, ctx);
  } catch (const brokers::broker_error& e) {
    broker_failed(e);  // still in flight in the broker: redelivered after recovery
    report.settled = false;
  }
  report.outcome = ctx->outcome() ? ctx->outcome()->what : disposition::kind::ack;
  // The loop thread may still be releasing the coroutine's frames: wait, then hand what is
  // left of the attempt to the collector; after an interrupt, not before its abandoned
  // coroutine has really ended (the sink keeps the collector alive until then).
  if (runner_ != nullptr) runner_->drain();
  ctx->hand_over([gc = collector_](auto objects) { gc->adopt(std::move(objects)); });
  return report;
}

void worker::broker_failed(const brokers::broker_error& e) {
  {
    std::lock_guard lock(error_mutex_);
    last_broker_error_ = e.what();
  }
  ++broker_failures_;
}

std::string worker::last_broker_error() const {
  std::lock_guard lock(error_mutex_);
  return last_broker_error_;
}

void worker::settle(const brokers::delivery& d, const std::shared_ptr<attempt_context>& ctx) {
  const auto& outcome = ctx->outcome();
  if (!outcome || outcome->what == disposition::kind::ack) {
    broker_.ack(d);
  } else if (outcome->what == disposition::kind::retry) {
    broker_.retry(d, *outcome->next, outcome->delay);
  } else {
    broker_.dead_letter(d, outcome->reason);
  }
}

}  // namespace leakbench::runtime
