#pragma once

#include <filesystem>
#include <stdexcept>

#include "reports/report/run_report.hpp"

namespace leakbench::report {

/// A report that could not be written; what() is one line naming the folder.
class output_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Writes `f` into `dir` whole or not at all (common::write_folder: a symlinked folder is
/// written through, the new one staged beside the final target and swapped in there; the
/// folders above `dir` are made). An existing folder is replaced only if it is empty or holds
/// nothing but what a report writes (.html, .md, .svg) with an index.html that leakreport
/// wrote (its generator tag). On failure nothing is left behind and output_error says why.
void write_report(const std::filesystem::path& dir, const files& f);

}  // namespace leakbench::report
