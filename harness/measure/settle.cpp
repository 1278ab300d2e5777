#include "harness/measure/settle.hpp"

#include <malloc.h>

namespace leakbench::measure {

void settle(settle_mode mode) noexcept {
  if (mode == settle_mode::trim) ::malloc_trim(0);
}

}  // namespace leakbench::measure
