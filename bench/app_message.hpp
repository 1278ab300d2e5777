#pragma once

#include <vector>

#include "bench/options.hpp"
#include "scenarios/scenario.hpp"

namespace leakbench::bench {

/// The benchmarks of --message: one entry per message, after the scenarios, each a scenario
/// that is expected to retain nothing and allocates nothing leakbench knows of in advance.
/// Only the real-worker target runs them (docs/your-app.md).
std::vector<scenarios::entry> message_entries(const options& opts);

}  // namespace leakbench::bench
