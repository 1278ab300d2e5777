#pragma once

#include <optional>
#include <string>
#include <vector>

#include "reports/gate/budgets.hpp"
#include "reports/results/estimate.hpp"
#include "reports/results/run.hpp"

namespace leakbench::gate {

using reports::estimate;

/// How a counter moved against the baseline.
enum class change {
  regression,     ///< grew by more than every tolerance: fails the gate
  improvement,    ///< shrank by more than every tolerance
  unchanged,      ///< within the tolerances
  only_now,       ///< the benchmark is not in the baseline
  only_baseline,  ///< the benchmark is gone: fails the gate when [baseline] missing = "fail"
  not_comparable  ///< errored, or a counter or its interval is missing or NaN on a side
};

/// "regression", "improvement", "unchanged", "new", "gone", "not comparable".
const char* to_string(change c);

/// One counter of one benchmark, now and in the baseline (repetitions combined); a benchmark
/// on one side only is one comparison with no counter.
struct comparison {
  std::string benchmark;
  std::string counter;  ///< empty for only_now and only_baseline
  bool bytes = false;
  std::optional<estimate> now, before;
  double tolerance = 0;  ///< the largest of: absolute, relative, the two intervals combined
  change kind = change::unchanged;
  std::string note;  ///< why not comparable

  /// now - before, when both exist.
  std::optional<double> delta() const;
};

/// Compares every benchmark of `now` with `before` on the [baseline] counters of `b`: a
/// regression is an increase larger than abs_tolerance, rel_tolerance x |before| and the two
/// 95% intervals combined (sqrt(h_now^2 + h_before^2), the interval of a difference). Throws
/// reports::input_error when the runs' configurations make their slopes incomparable
/// (reports::check_comparable).
std::vector<comparison> compare(const reports::run& now, const reports::run& before,
                                const budgets& b);

}  // namespace leakbench::gate
