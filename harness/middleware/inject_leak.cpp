#include "harness/middleware/inject_leak.hpp"

#include <fmt/format.h>

#include <cstring>
#include <stdexcept>

namespace leakbench::middleware {

inject_leak::inject_leak(std::size_t size) : size_(size) {
  if (size_ < k_min_size) {
    throw std::invalid_argument(
        fmt::format("an injected leak needs at least {} bytes, got {}", k_min_size, size_));
  }
}

inject_leak::~inject_leak() { release(); }

void inject_leak::after_process_message(runtime::attempt_context&,
                                        const std::shared_ptr<runtime::error>&) {
  // Value-initialised: every page is resident, as the scenarios' payloads are.
  auto* block = new std::byte[size_]();
  std::lock_guard lock(mutex_);
  std::memcpy(block, &head_, sizeof head_);
  head_ = block;
  ++blocks_;
}

void inject_leak::after_worker_shutdown(runtime::worker&) { release(); }

std::size_t inject_leak::held() const {
  std::lock_guard lock(mutex_);
  return blocks_ * size_;
}

void inject_leak::release() {
  std::lock_guard lock(mutex_);
  while (head_ != nullptr) {
    std::byte* next = nullptr;
    std::memcpy(&next, head_, sizeof next);
    delete[] head_;
    head_ = next;
  }
  blocks_ = 0;
}

}  // namespace leakbench::middleware
