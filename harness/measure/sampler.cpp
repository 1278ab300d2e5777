#include "harness/measure/sampler.hpp"

#include <optional>
#include <stdexcept>

#include "harness/measure/heap.hpp"

namespace leakbench::measure {

sample read_sample(const rss_reader& rss, std::chrono::steady_clock::time_point start) {
  const heap_snapshot heap = live_heap();
  return {std::chrono::steady_clock::now() - start, rss.current(), heap.by_new.bytes,
          heap.by_malloc};
}

sampler::sampler() : sampler(options{}) {}

sampler::sampler(options opts) : opts_(opts), interval_(opts.interval) {
  if (opts_.capacity < 2) throw std::invalid_argument("sampler capacity must be at least 2");
  if (opts_.interval <= std::chrono::nanoseconds::zero()) {
    throw std::invalid_argument("sampler interval must be positive");
  }
}

sampler::~sampler() { stop(); }

void sampler::start() {
  stop();
  std::lock_guard lock(mutex_);
  samples_.clear();
  samples_.reserve(opts_.capacity);  // no allocation while recording
  interval_ = opts_.interval;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void sampler::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::vector<sample> sampler::samples() const {
  std::lock_guard lock(mutex_);
  return samples_;
}

std::chrono::nanoseconds sampler::interval() const {
  std::lock_guard lock(mutex_);
  return interval_;
}

void sampler::run() {
  using clock = std::chrono::steady_clock;
  std::optional<rss_reader> rss;
  try {
    rss.emplace(opts_.pid);
  } catch (const std::exception&) {
    return;  // the process is gone already
  }
  const auto start = clock::now();
  auto next = start;  // the first sample is due at once
  std::unique_lock lock(mutex_);
  // The first sample is taken even if stop() came before this thread ran: a series covers its
  // start however short the run.
  for (bool first = true; first || !stopping_; first = false) {
    lock.unlock();
    sample s;
    try {
      s = opts_.pid == 0 ? read_sample(*rss, start) : sample{clock::now() - start, rss->current()};
    } catch (const std::exception&) {
      return;  // the sampled process ended
    }
    const auto now = start + s.time;
    lock.lock();
    if (samples_.size() == opts_.capacity) {
      // Keep samples 0, 2, 4, ...: still evenly spaced, at twice the interval.
      std::size_t kept = 0;
      for (std::size_t i = 0; i < samples_.size(); i += 2) samples_[kept++] = samples_[i];
      samples_.resize(kept);
      interval_ *= 2;
    }
    // Sample k belongs at start + k * interval_; after a decimation this one may be off-grid.
    const auto due = start + interval_ * static_cast<std::int64_t>(samples_.size());
    if (now >= due) samples_.push_back(s);
    next = start + interval_ * static_cast<std::int64_t>(samples_.size());
    wake_.wait_until(lock, next, [this] { return stopping_; });
  }
}

}  // namespace leakbench::measure
