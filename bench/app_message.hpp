#pragma once

#include <vector>

#include "bench/options.hpp"
#include "scenarios/scenario.hpp"

namespace leakbench::bench {

/// The benchmarks of --message: one entry per message, after the scenarios, each a scenario
/// that is expected to retain nothing and allocates nothing leakbench knows of in advance.
/// Only the real-worker target runs them (docs/your-app.md).
std::vector<scenarios::entry> message_entries(const options& opts);

/// A message whose name is a scenario's (an app actor called `Single`) gets `#2` (or the next
/// free number), as the same actor twice does: benchmark names stay distinct.
void rename_clashing_messages(options& opts);

}  // namespace leakbench::bench
