#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reports/gate/outcome.hpp"
#include "reports/results/run.hpp"
#include "reports/results/text.hpp"

namespace leakbench::gate {

/// Columns `s` takes on a terminal: UTF-8 code points, so "±" counts once.
std::size_t display_width(std::string_view s);

/// `s` padded with spaces to `width` columns.
std::string pad(std::string_view s, std::size_t width);

/// The parts joined with `separator`.
std::string join(const std::vector<std::string>& parts, std::string_view separator);

using reports::printable;

/// A change with its sign: "+64 KiB", "-512 B".
std::string signed_value(double delta, bool bytes);

/// One line on what ran: the file, the benchmarks, leakbench's configuration if recorded.
std::string describe_run(const reports::run& r);

/// "this run injected a leak of 64 KiB per attempt (--inject_leak)", if it did.
std::optional<std::string> injected_leak_note(const reports::run& r);

/// "the baseline ran with another retries 12 -> 16, ...", if the runs differ in what is shown.
std::optional<std::string> baseline_differences_note(const outcome& o);

/// "42 checks: 40 pass, 2 FAIL, 0 inconclusive (they fail); baseline: ...".
std::string summary_line(const outcome& o);

}  // namespace leakbench::gate
