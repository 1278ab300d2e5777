#pragma once

#include <cstddef>
#include <memory>

#include "harness/runtime/gc.hpp"

namespace leakbench::runtime {

/// What an actor returns and what frames and exceptions hold: anything, by shared ownership,
/// and still followed by the collector when it is a tracked object.
using value = ref;

/// `size` zeroed bytes in one allocation (plus the control block): value-initialised, so every
/// page is resident, and counted by the heap counters to the byte.
inline std::shared_ptr<std::byte[]> make_payload(std::size_t size) {
  return std::make_shared<std::byte[]>(size);
}

}  // namespace leakbench::runtime
