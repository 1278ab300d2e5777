#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "reports/gate/budgets.hpp"
#include "reports/results/run.hpp"

namespace leakbench::report {

/// A report's files by name ("index.html", "summary.md", "Nested_time.svg", ...).
using files = std::map<std::string, std::string>;

/// What one report is made from.
struct run_inputs {
  const reports::run* results = nullptr;
  std::optional<std::filesystem::path> series;  ///< leakbench --series_out's folder
  const reports::run* baseline = nullptr;       ///< --baseline, if given
  const gate::budgets* budgets = nullptr;       ///< the gate's budgets: a verdict column
};

/// The report of one run: index.html (summary table, then a section per scenario with its
/// charts inline), summary.md, and each chart as its own SVG. Throws reports::input_error for a
/// series folder that is missing, holds nothing of this run or series of another run (their
/// retries or their first and last RSS differ from the JSON's), a malformed series file, or a
/// baseline that is not comparable (reports::check_comparable).
files build_run_report(const run_inputs& in);

/// A name made safe for a file: letters, digits, '-' and '_' kept, the rest '_'.
std::string file_stem(std::string_view name);

}  // namespace leakbench::report
