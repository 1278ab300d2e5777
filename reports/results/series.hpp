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
  double heap = 0;  ///< live operator-new bytes
  double malloc_heap = 0;
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
/// header and rows leakbench writes, or retry rows out of order.
series read_series(const std::filesystem::path& file);

}  // namespace leakbench::reports
