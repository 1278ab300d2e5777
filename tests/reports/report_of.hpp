#pragma once

#include <functional>
#include <string>

#include "reports/report/run_report.hpp"
#include "tests/reports/data.hpp"

namespace leakbench::test {

/// leakreport's files for one run, with its series folder under tests/data/series if named.
inline report::files report_of(const reports::run& run, const char* series = nullptr,
                               const reports::run* baseline = nullptr) {
  report::run_inputs in{.results = &run, .baseline = baseline};
  if (series != nullptr) in.series = data_path(std::string("series/") + series);
  return report::build_run_report(in);
}

/// The message of the input_error that `f` throws, or "" if it throws none.
inline std::string input_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const reports::input_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace leakbench::test
