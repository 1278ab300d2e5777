#pragma once

#include <span>
#include <string_view>

namespace leakbench {

/// A file built into the executable: its name and its text.
struct embedded_file {
  std::string_view name;
  std::string_view text;
};

}  // namespace leakbench

namespace leakbench::bench {

/// The real worker's Python (scenarios/dramatiq/*.py), built into leakbench.
std::span<const embedded_file> worker_files();

}  // namespace leakbench::bench
