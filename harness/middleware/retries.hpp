#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>

#include "harness/runtime/middleware.hpp"

namespace leakbench::middleware {

/// Options of the Retries middleware.
struct retries_options {
  std::uint32_t max_retries = 20;
  std::chrono::milliseconds min_backoff{0};  ///< 0 suits benchmarks: retry at once
  std::chrono::milliseconds max_backoff{1000};
  bool jitter = true;  ///< draw each backoff from [b/2, b], as Dramatiq does
};

/// Dramatiq's Retries: a failed message is enqueued again with exponential backoff, its
/// traceback stored in its options, until its retry count passes max_retries; then it is
/// dead-lettered.
class retries final : public runtime::middleware {
 public:
  /// Throws std::invalid_argument if min_backoff > max_backoff or a backoff is negative.
  explicit retries(retries_options opts = {});

  void after_process_message(runtime::attempt_context& ctx,
                             const std::shared_ptr<runtime::error>& exception) override;

  /// Traceback entries kept per exception in the message (Dramatiq's format_exc(limit=30)).
  static constexpr std::size_t k_traceback_limit = 30;

  /// The backoff before retry number `retry` (1 for the first retry).
  std::chrono::milliseconds backoff(std::uint32_t retry);

 private:
  const retries_options opts_;
  std::mutex rng_mutex_;  // hooks run on several worker threads
  std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace leakbench::middleware
