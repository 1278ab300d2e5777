#include "harness/brokers/memory_broker.hpp"

#include <fmt/format.h>

namespace leakbench::brokers {

// Buckets for the in-flight map up front: rehashing when more messages than ever are in flight
// at once would show up in a quiescent heap sample, at a moment set by thread timing.
memory_broker::memory_broker() { unacked_.reserve(64); }

memory_broker::queue_state& memory_broker::queue_locked(std::string_view name) {
  auto it = queues_.find(std::string(name));
  if (it == queues_.end()) it = queues_.emplace(std::string(name), queue_state{}).first;
  return it->second;
}

void memory_broker::push_locked(std::string queue, std::string body,
                                std::chrono::milliseconds delay) {
  queue_state& q = queue_locked(queue);
  if (delay <= std::chrono::milliseconds::zero()) {
    q.ready.push_back(std::move(body));
  } else {
    ++q.delayed;
    delayed_.emplace(clock::now() + delay, delayed_entry{std::move(queue), std::move(body)});
  }
}

void memory_broker::enqueue(const message& m, std::chrono::milliseconds delay) {
  std::string body = encode(m);
  {
    std::lock_guard lock(mutex_);
    push_locked(m.queue, std::move(body), delay);
  }
  changed_.notify_all();
}

void memory_broker::enqueue_raw(std::string_view queue, std::string body) {
  {
    std::lock_guard lock(mutex_);
    push_locked(std::string(queue), std::move(body), {});
  }
  changed_.notify_all();
}

void memory_broker::promote_due_locked(clock::time_point now) {
  while (!delayed_.empty() && delayed_.begin()->first <= now) {
    auto node = delayed_.extract(delayed_.begin());
    queue_state& q = queue_locked(node.mapped().queue);
    --q.delayed;
    q.ready.push_back(std::move(node.mapped().body));
  }
}

std::optional<delivery> memory_broker::consume(std::string_view queue,
                                               std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  std::unique_lock lock(mutex_);
  const std::uint64_t wakes = wakes_;
  for (;;) {
    if (closed_ || wakes_ != wakes) return std::nullopt;
    const auto now = clock::now();
    promote_due_locked(now);
    queue_state& q = queue_locked(queue);
    if (!q.ready.empty()) {
      delivery d{std::string(queue), std::move(q.ready.front()), next_tag_++};
      q.ready.pop_front();
      ++q.in_flight;
      unacked_.emplace(d.tag, d);
      return d;
    }
    if (now >= deadline) return std::nullopt;
    // Sleep until the timeout or the earliest eta, whichever comes first: no polling.
    auto wake = deadline;
    if (!delayed_.empty() && delayed_.begin()->first < wake) wake = delayed_.begin()->first;
    changed_.wait_until(lock, wake);
  }
}

delivery memory_broker::settle_locked(const delivery& d) {
  auto it = unacked_.find(d.tag);
  if (it == unacked_.end()) {
    throw broker_error(fmt::format("delivery {} on queue '{}' is not in flight", d.tag, d.queue));
  }
  delivery settled = std::move(it->second);
  unacked_.erase(it);
  --queue_locked(settled.queue).in_flight;
  return settled;
}

void memory_broker::ack(const delivery& d) {
  {
    std::lock_guard lock(mutex_);
    settle_locked(d);
  }
  changed_.notify_all();
}

void memory_broker::retry(const delivery& d, const message& next, std::chrono::milliseconds delay) {
  std::string body = encode(next);
  {
    std::lock_guard lock(mutex_);
    settle_locked(d);
    push_locked(next.queue, std::move(body), delay);
  }
  changed_.notify_all();
}

void memory_broker::dead_letter(const delivery& d, std::string reason) {
  {
    std::lock_guard lock(mutex_);
    delivery settled = settle_locked(d);
    queue_locked(settled.queue).dead.push_back({std::move(settled.body), std::move(reason)});
  }
  changed_.notify_all();
}

std::vector<brokers::dead_letter> memory_broker::dead_letters(std::string_view queue) {
  std::lock_guard lock(mutex_);
  return queue_locked(queue).dead;
}

bool memory_broker::join(std::string_view queue, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] {
    const queue_state& q = queue_locked(queue);
    return q.ready.empty() && q.delayed == 0 && q.in_flight == 0;
  });
}

void memory_broker::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  changed_.notify_all();
}

void memory_broker::wake_consumers() {
  {
    std::lock_guard lock(mutex_);
    ++wakes_;
  }
  changed_.notify_all();
}

std::size_t memory_broker::requeue_unacked() {
  std::size_t n = 0;
  {
    std::lock_guard lock(mutex_);
    for (auto& [tag, d] : unacked_) {
      queue_state& q = queue_locked(d.queue);
      --q.in_flight;
      q.ready.push_front(std::move(d.body));
      ++n;
    }
    unacked_.clear();
  }
  changed_.notify_all();
  return n;
}

std::size_t memory_broker::in_flight() const {
  std::lock_guard lock(mutex_);
  return unacked_.size();
}

}  // namespace leakbench::brokers
