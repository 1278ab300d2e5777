#pragma once

#include <atomic>

namespace leakbench::test {

/// Makes a pointer escape so that -O2 cannot elide the allocation or the stores behind it.
inline void escape(const void* p) {
  static std::atomic<const void*> sink;
  sink.store(p, std::memory_order_relaxed);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  asm volatile("" : : "g"(p) : "memory");
}

}  // namespace leakbench::test
