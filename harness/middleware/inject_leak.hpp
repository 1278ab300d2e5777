#pragma once

#include <cstddef>
#include <mutex>

#include "harness/runtime/middleware.hpp"

namespace leakbench::middleware {

/// A leak of known size: every finished attempt leaves `size` zeroed bytes behind, held until
/// the worker shuts down. How a user proves that a gate catches a leak of a given size.
// The blocks are chained through their own first bytes, so the heap grows by exactly `size`
// per attempt: no bookkeeping allocation blurs the figure a gate is tested against.
class inject_leak final : public runtime::middleware {
 public:
  /// Smallest size accepted: a block must hold the link to the previous one.
  static constexpr std::size_t k_min_size = sizeof(void*);

  /// Throws std::invalid_argument if `size` is below k_min_size.
  explicit inject_leak(std::size_t size);
  ~inject_leak() override;
  inject_leak(const inject_leak&) = delete;
  inject_leak& operator=(const inject_leak&) = delete;

  void after_process_message(runtime::attempt_context& ctx,
                             const std::shared_ptr<runtime::error>& exception) override;
  void after_worker_shutdown(runtime::worker&) override;

  /// Bytes held now.
  std::size_t held() const;

 private:
  void release();

  const std::size_t size_;
  mutable std::mutex mutex_;  // hooks run on several worker threads
  std::byte* head_ = nullptr;
  std::size_t blocks_ = 0;
};

}  // namespace leakbench::middleware
