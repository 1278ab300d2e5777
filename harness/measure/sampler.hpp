#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "harness/measure/rss.hpp"

namespace leakbench::measure {

/// One reading of the process's memory.
struct sample {
  std::chrono::nanoseconds time{};  ///< since the sampler started
  std::int64_t rss = 0;             ///< resident bytes
  std::int64_t heap = 0;            ///< live bytes through operator new (exact)
  std::int64_t malloc_heap = 0;     ///< live bytes through malloc (all allocations)
};

/// Reads RSS and both heap counters now, timed from `start`.
sample read_sample(const rss_reader& rss, std::chrono::steady_clock::time_point start);

/// Records samples on a background thread at a fixed interval, in bounded memory.
// When the buffer is full, every other sample is dropped and the interval doubles, so a run of
// any length keeps an evenly spaced series of at most `capacity` samples covering all of it.
class sampler {
 public:
  struct options {
    std::chrono::nanoseconds interval = std::chrono::milliseconds(10);
    std::size_t capacity = 1 << 16;  ///< at least 2
    /// Another process to sample (its RSS only; heap fields stay 0); 0: this one, with both
    /// heap counters. Sampling ends quietly if that process goes away.
    int pid = 0;
  };

  sampler();
  explicit sampler(options opts);
  ~sampler();  ///< stops the thread
  sampler(const sampler&) = delete;
  sampler& operator=(const sampler&) = delete;

  /// Clears previous samples and starts recording; the first sample is taken at once.
  void start();
  /// Stops recording; returns within one interval (the wait is interruptible).
  void stop();
  /// The samples so far, oldest first.
  std::vector<sample> samples() const;
  /// The interval between recorded samples now (doubles at each decimation).
  std::chrono::nanoseconds interval() const;

 private:
  void run();

  options opts_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<sample> samples_;
  std::chrono::nanoseconds interval_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace leakbench::measure
