#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "reports/gate/budgets.hpp"
#include "reports/results/run.hpp"

namespace leakbench::gate {

/// The outcome of one rule on one benchmark run. not_applicable: the run cannot have what the
/// rule reads (a heap counter of a run measured from outside the process); shown, never a check.
enum class verdict { pass, fail, inconclusive, not_applicable };

/// What an inconclusive check counts as (--inconclusive).
enum class inconclusive_policy { fail, pass };

/// "pass", "FAIL", "inconclusive", "n/a".
const char* to_string(verdict v);

/// One rule applied to one repetition of one benchmark.
struct check {
  std::string benchmark;         ///< the benchmark's key: "Nested/fixed"
  std::int64_t repetition = -1;  ///< -1 when the benchmark ran once
  /// The rule's index in the budgets; unset: the benchmark failed and no rule names it.
  /// A check copies what it shows of its rule, so it outlives the budgets.
  std::optional<std::size_t> rule;
  std::string rule_name;  ///< "the benchmark ran" when no rule names the benchmark
  bound kind = bound::max;
  std::string limit_text;       ///< as the rule wrote it: "90% expected"
  bool limit_relative = false;  ///< a fraction of another counter
  std::string counter;
  bool bytes = false;  ///< the counter is in bytes
  std::optional<double> value;
  std::optional<double> half_width;  ///< the 95% half-width; unset when the rule has none
  std::optional<double> limit;       ///< resolved ("90% expected" is a number here)
  verdict outcome = verdict::pass;
  std::string reason;  ///< why it failed or is undecided; empty for a plain pass
  /// When the run's resolution (twice the half-width) is coarser than the limit: the retries
  /// whose interval would resolve it (nullopt inside: none practical), and those it ran.
  std::optional<std::optional<std::size_t>> retries_to_resolve;
  std::size_t retries = 0;

  /// "Nested/fixed", or "Nested/fixed #2" for the third repetition.
  std::string label() const;
  /// The smallest per-retry growth this run could tell apart from zero: twice the half-width.
  std::optional<double> resolution() const;
  /// Whether that resolution is coarser than the limit: the run cannot resolve its budget.
  bool too_coarse() const { return retries_to_resolve.has_value(); }
  /// Whether the outcome fails the gate under `p`.
  bool fails(inconclusive_policy p) const;
};

/// A rule that names a benchmark but whose `when` leaves it out.
struct exclusion {
  std::string benchmark;
  std::size_t rule = 0;  ///< index in the budgets
};

/// Every check of a run against a budgets file.
struct evaluation {
  std::vector<check> checks;           ///< by benchmark, repetition, then rule; n/a rows too
  std::vector<std::string> unchecked;  ///< benchmarks no rule applies to
  std::vector<exclusion> excluded;     ///< one per benchmark and rule, not per repetition

  std::size_t count(verdict v) const;
  /// The checks that decided something: every row but the not-applicable ones.
  std::size_t checked() const { return checks.size() - count(verdict::not_applicable); }
  bool fails(inconclusive_policy p) const;
};

/// Applies every rule of `b` to every matching benchmark of `results`. A benchmark that
/// failed, a missing counter, a NaN where a number is needed: a failing check with its reason.
/// A rule reading a heap counter in a run without one: a not-applicable row. Throws
/// reports::input_error if a rule that is not optional names no benchmark, or if no rule names
/// any.
evaluation evaluate(const reports::run& results, const budgets& b);

/// Throws reports::input_error, naming why, when `e` decided nothing: every rule that names a
/// benchmark is excluded by its `when` or not applicable. A gate never passes by checking
/// nothing; a report may still show such a run.
void require_checks(const evaluation& e, const reports::run& results, const budgets& b);

/// Worst first: fail, inconclusive, pass, not applicable.
verdict worst(verdict a, verdict b);

}  // namespace leakbench::gate
