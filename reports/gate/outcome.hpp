#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "reports/gate/baseline.hpp"
#include "reports/gate/budgets.hpp"
#include "reports/gate/decide.hpp"
#include "reports/results/comparability.hpp"
#include "reports/results/run.hpp"

namespace leakbench::gate {

/// Everything leakgate decided about one run: what the writers render.
struct outcome {
  const reports::run* results = nullptr;
  const gate::budgets* budgets = nullptr;
  const reports::run* baseline = nullptr;  ///< null without --baseline
  evaluation eval;
  std::vector<comparison> comparisons;
  /// How the baseline's configuration differs without making it incomparable (shown).
  std::vector<reports::difference> differences;
  inconclusive_policy policy = inconclusive_policy::fail;

  /// Whether a comparison fails the gate: a regression, or a gone benchmark when missing=fail.
  bool fails(const comparison& c) const;
  /// Whether the gate passes: exit code 0.
  bool passed() const;
  std::size_t count(change c) const;
};

/// One exported counter of one benchmark, repetitions combined: what the dashboards get.
struct measure {
  std::string benchmark;
  std::string counter;
  bool bytes = false;
  estimate value;
  bool has_interval = false;
  /// The value has no interval although its counter has one: the fit had two points after
  /// --max_rss cut the benchmark short (value: the mean slope; half_width: infinity).
  bool unbounded = false;
  std::size_t repetitions = 1;
  /// A repetition stopped at --max_rss (ceiling_hit 1), after `retries` (the fewest).
  bool cut_short = false;
  double retries = 0;
};

/// The exported counters ([counters] export = true) of every benchmark that has them finite,
/// a benchmark cut short by --max_rss included with its mark.
std::vector<measure> measures(const outcome& o);

/// The run's configuration for the exports that can carry it: payload, retries, gc, broker,
/// inject_leak, target and git_commit, as (key, value) with defaults where absent.
std::vector<std::pair<std::string, std::string>> run_configuration(const reports::run& r);

/// How long benchmark `key` ran, in seconds (its repetitions added), 0 if the JSON says not.
double benchmark_seconds(const reports::run& r, const std::string& key);

/// The value a ratio-based dashboard (github-action-benchmark) can judge: the upper end of the
/// 95% interval, never below one 4 KiB page, the smallest growth RSS can show; without an
/// interval, the value itself with the same floor.
double upper_bound_floored(const measure& m);

/// The human table for a terminal; `color` adds ANSI colours to the verdicts.
void write_table(std::ostream& out, const outcome& o, bool color);
/// A Markdown summary for a pull-request comment.
void write_markdown(std::ostream& out, const outcome& o);
/// JUnit XML: one test case per benchmark and rule, and per baseline comparison.
void write_junit(std::ostream& out, const outcome& o);
/// Bencher Metric Format: one measure per exported counter, lower/upper from the interval.
void write_bencher(std::ostream& out, const outcome& o);
/// github-action-benchmark's customSmallerIsBetter entries.
void write_github_action_benchmark(std::ostream& out, const outcome& o);
/// Prometheus text format, OpenMetrics-compatible (ends with # EOF): for a node_exporter
/// textfile collector.
void write_openmetrics(std::ostream& out, const outcome& o);

}  // namespace leakbench::gate
