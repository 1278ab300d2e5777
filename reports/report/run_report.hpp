#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "reports/results/run.hpp"

namespace leakbench::report {

/// A report's files by name ("index.html", "summary.md", "Nested_time.svg", ...).
using files = std::map<std::string, std::string>;

/// What one report is made from.
struct run_inputs {
  const reports::run* results = nullptr;
  std::optional<std::filesystem::path> series;  ///< leakbench --series_out's folder
  const reports::run* baseline = nullptr;       ///< --baseline, if given
};

/// The report of one run: index.html (summary table, then a section per scenario with its
/// charts inline), summary.md, and each chart as its own SVG. Throws reports::input_error for a
/// series folder that is missing or holds nothing of this run, or a malformed series file.
files build_run_report(const run_inputs& in);

/// A name made safe for a file: letters, digits, '-' and '_' kept, the rest '_'.
std::string file_stem(std::string_view name);

}  // namespace leakbench::report
