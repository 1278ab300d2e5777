#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reports/gate/decide.hpp"
#include "reports/results/run.hpp"
#include "reports/results/severity.hpp"

namespace leakbench::report {

using reports::classify;
using reports::severity;
using reports::severity_thresholds;
using reports::to_string;

/// One benchmark of a scenario, repetitions averaged.
struct variant_summary {
  std::string key;      ///< "Nested/leaky"
  std::string variant;  ///< "leaky", "fixed", or "" for a name without one
  std::size_t repetitions = 0;
  std::string error;  ///< why the benchmark failed, if it did
  std::optional<double> start, end, peak, growth, expected, half_width, r2, retained, reclaimed,
      payload, retries;
  std::optional<double> fit_start;  ///< the fitted line at retry 0 (rss_fit_start)
  /// What held the memory, as leakbench's label says ("retains 32.0 MiB per exception via
  /// exc.__context__.payload", "retains nothing"); empty when the JSON does not say.
  std::string held;
  report::severity level = severity::unknown;
  /// The gate's verdict on the benchmark under the budgets ("pass", "FAIL", "inconclusive",
  /// "n/a"; the worst of its checks), and the rules behind a verdict that is not a pass.
  /// Empty when no budgets were given or no rule checks it.
  std::string verdict;
  std::string verdict_why;
};

/// A scenario's benchmarks: leaky first.
struct scenario_summary {
  std::string name;
  std::vector<variant_summary> variants;
};

/// The run's benchmarks grouped by scenario (the name before its last "/"), in run order, with
/// the gate's verdicts from `verdicts` when given (and severity at least low where it fails).
/// Throws reports::input_error if no benchmark carries leakbench's rss_per_retry.
std::vector<scenario_summary> summarize(const reports::run& r,
                                        const gate::evaluation* verdicts = nullptr);

/// Which columns a summary table shows: `heap` (reclaimed) only for a run that has a heap,
/// `verdict` only with budgets.
struct table_columns {
  bool heap = true;
  bool verdict = false;
};

/// The summary table, in HTML; every number carries its exact value in data-value.
std::string summary_html(const std::vector<scenario_summary>& scenarios, table_columns shown);

/// The same table in Markdown.
std::string summary_markdown(const std::vector<scenario_summary>& scenarios, table_columns shown);

/// "What holds the memory": one line per benchmark whose JSON says, in Markdown; empty if none.
std::string held_markdown(const std::vector<scenario_summary>& scenarios);

/// Growth per retry beside the baseline's, per scenario and variant, in HTML and Markdown.
std::string baseline_html(const std::vector<scenario_summary>& now,
                          const std::vector<scenario_summary>& before);
std::string baseline_markdown(const std::vector<scenario_summary>& now,
                              const std::vector<scenario_summary>& before);

}  // namespace leakbench::report
