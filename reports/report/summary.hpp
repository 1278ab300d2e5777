#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reports/results/run.hpp"

namespace leakbench::report {

/// How bad a growth per retry is against the payload P, in the write-up's words.
enum class severity { none, low, critical, catastrophic, unknown };

/// "none", "low", "critical", "catastrophic", "n/a".
const char* to_string(severity s);

/// none: below 1% of P, or an interval that cannot tell the growth from zero; low: below P/2;
/// critical: below 2P (an exception holding its payload); catastrophic: 2P and above. unknown
/// when the growth is not a number or P is 0.
severity classify(double growth, double half_width, double payload);

/// The thresholds as one sentence, stated under every summary table.
std::string_view severity_thresholds();

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
};

/// A scenario's benchmarks: leaky first.
struct scenario_summary {
  std::string name;
  std::vector<variant_summary> variants;
};

/// The run's benchmarks grouped by scenario (the name before its last "/"), in run order.
/// Throws reports::input_error if no benchmark carries leakbench's rss_per_retry.
std::vector<scenario_summary> summarize(const reports::run& r);

/// The summary table, in HTML; every number carries its exact value in data-value.
std::string summary_html(const std::vector<scenario_summary>& scenarios);

/// The same table in Markdown.
std::string summary_markdown(const std::vector<scenario_summary>& scenarios);

/// "What holds the memory": one line per benchmark whose JSON says, in Markdown; empty if none.
std::string held_markdown(const std::vector<scenario_summary>& scenarios);

/// Growth per retry beside the baseline's, per scenario and variant, in HTML and Markdown.
std::string baseline_html(const std::vector<scenario_summary>& now,
                          const std::vector<scenario_summary>& before);
std::string baseline_markdown(const std::vector<scenario_summary>& now,
                              const std::vector<scenario_summary>& before);

}  // namespace leakbench::report
