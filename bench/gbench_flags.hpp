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
  std::string out_path;             ///< --benchmark_out's value
  std::string color = "auto";       ///< --benchmark_color: auto, or a boolean's spelling
  bool tabular = false;             ///< --benchmark_counters_tabular
  bool time_unit = false;           ///< --benchmark_time_unit given (else milliseconds)
};

/// The arguments Google Benchmark is handed: everything but --benchmark_out and
/// --benchmark_out_format, whose file leakbench writes itself (whole, or not at all).
std::vector<std::string> gbench_arguments(const std::vector<std::string_view>& args);

/// Checks the Google Benchmark flags whose bad values it would otherwise answer with its help
/// and exit 0, an abort, an empty run, a hang or a late failure: the formats, the time unit,
/// the colour, every boolean, --benchmark_repetitions, --benchmark_out (a file leakbench can
/// write) and --v; refuses the flags that would change how often a benchmark runs
/// (--benchmark_min_time, --benchmark_min_warmup_time: leakbench runs exactly --retries).
/// Throws usage_error with one line; leaves every argument in place.
early_flags check_early_flags(const std::vector<std::string_view>& args);

}  // namespace leakbench::bench
