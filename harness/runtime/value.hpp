#pragma once

#include <cstddef>
#include <memory>

#include "harness/runtime/gc.hpp"

namespace leakbench::runtime {

/// What an actor returns and what frames and exceptions hold: anything, by shared ownership,
/// and still followed by the collector when it is a tracked object.
using value = ref;

/// A new payload of `size` zeroed bytes.
inline payload make_payload(std::size_t size) {
  return {std::make_shared<std::byte[]>(size), size};
}

}  // namespace leakbench::runtime
