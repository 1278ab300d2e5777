#include "harness/measure/settle.hpp"

#include <malloc.h>

#include "harness/measure/sanitizer.hpp"

namespace leakbench::measure {

void settle(settle_mode mode) noexcept {
  if (mode == settle_mode::trim) ::malloc_trim(0);
}

bool pin_mmap_threshold(int bytes) noexcept {
  if constexpr (k_sanitized_malloc) return true;  // the sanitizer's allocator has no threshold
  return ::mallopt(M_MMAP_THRESHOLD, bytes) == 1 && ::mallopt(M_TRIM_THRESHOLD, 2 * bytes) == 1;
}

}  // namespace leakbench::measure
