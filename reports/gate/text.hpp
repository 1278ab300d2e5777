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

using reports::printable;

/// A change with its sign: "+64 KiB", "-512 B".
std::string signed_value(double delta, bool bytes);

/// One line on what ran: the file, the benchmarks, leakbench's configuration if recorded.
std::string describe_run(const reports::run& r);

/// "this run injected a leak of 64 KiB per attempt (--inject_leak)", if it did.
std::optional<std::string> injected_leak_note(const reports::run& r);

/// "the baseline ran with another retries 12 -> 16, ...", if the runs differ in what is shown.
std::optional<std::string> baseline_differences_note(const outcome& o);

/// "cut short at --max_rss (ceiling_hit 1), their slopes from fewer retries: Single/fixed after
/// 5 retries", if a benchmark was.
std::optional<std::string> cut_short_note(const reports::run& r);

/// One line per rule whose checks this run cannot resolve (twice the half-width above the
/// limit), with the range it sees and the retries that would resolve them all: shown above
/// the verdicts, which such a run cannot be trusted to keep from one run to the next.
std::vector<std::string> resolution_notes(const outcome& o);

/// "42 checks: 40 pass, 2 FAIL, 0 inconclusive (they fail); baseline: ...".
std::string summary_line(const outcome& o);

}  // namespace leakbench::gate
