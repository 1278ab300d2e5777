#pragma once

#include <filesystem>

#include "reports/report/run_report.hpp"

namespace leakbench::report {

/// The dashboard over the leakbench JSON files in `runs`: per benchmark, rss_per_retry with its
/// interval and peak_rss across the runs, ordered by each run's date and git_commit, with a gap
/// where a run lacks the benchmark. Throws reports::input_error for a folder that is missing or
/// holds no JSON, or a file that is not a leakbench run.
files build_history(const std::filesystem::path& runs);

}  // namespace leakbench::report
