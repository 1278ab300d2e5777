#include "harness/measure/settle.hpp"

#include <malloc.h>

#include "harness/measure/sanitizer.hpp"

namespace leakbench::measure {

void settle(settle_mode mode) noexcept {
  if (mode == settle_mode::trim) ::malloc_trim(0);
}

bool tune_allocator(int mmap_threshold) noexcept {
  if constexpr (k_sanitized_malloc) return true;  // the sanitizer's allocator has no threshold
  return ::mallopt(M_MMAP_THRESHOLD, mmap_threshold) == 1 && ::mallopt(M_TRIM_THRESHOLD, 0) == 1 &&
         ::mallopt(M_TOP_PAD, 0) == 1 && ::mallopt(M_ARENA_MAX, 1) == 1;
}

}  // namespace leakbench::measure
