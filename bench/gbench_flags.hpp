#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bench/options.hpp"

namespace leakbench::bench {

/// What leakbench needs to know of the command line before Google Benchmark parses it.
struct early_flags {
  std::int64_t repetitions = 1;     ///< --benchmark_repetitions
  bool list_tests = false;          ///< --benchmark_list_tests: runs nothing, needs no broker
  bool help = false;                ///< --help
  bool version = false;             ///< --version
  std::string format = "console";   ///< --benchmark_format
  std::string out_format = "json";  ///< --benchmark_out_format
  bool out = false;                 ///< --benchmark_out given
};

/// Checks the Google Benchmark flags whose bad values it would otherwise answer with its help
/// and exit 0, an abort, an empty run or a late failure: --benchmark_format,
/// --benchmark_out_format, --benchmark_repetitions, --benchmark_out (its directory must exist),
/// --benchmark_list_tests. Throws usage_error with one line; leaves every argument in place.
early_flags check_early_flags(const std::vector<std::string_view>& args);

}  // namespace leakbench::bench
