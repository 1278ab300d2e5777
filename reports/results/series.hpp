#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace leakbench::reports {

/// One row of a leakbench --series_out CSV.
struct sample {
  double time = 0;  ///< seconds since the benchmark started
  double rss = 0;   ///< bytes
  double heap = 0;  ///< live operator-new bytes; NaN in a run without a heap (target dramatiq)
  double malloc_heap = 0;  ///< NaN in a run without a heap
};

/// A benchmark's samples: one per retry (quiescent, [0] before the first) and the background
/// sampler's.
struct series {
  std::string file;
  std::vector<sample> retries;
  std::vector<sample> background;
};

/// The file leakbench writes for benchmark `key`: "Nested/leaky" is "Nested_leaky.csv".
std::string series_file_name(std::string_view key);

/// Reads a --series_out CSV; throws input_error "<file>:<line>: ..." for anything but the
/// header and rows leakbench writes (the heap fields may be empty), or retry rows out of order.
series read_series(const std::filesystem::path& file);

}  // namespace leakbench::reports
