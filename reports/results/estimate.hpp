#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "reports/results/run.hpp"

namespace leakbench::reports {

/// A value with the half-width of its 95% confidence interval (0: exact).
struct estimate {
  double value = 0;
  double half_width = 0;
};

/// Repetitions of one benchmark as one estimate: their mean, and the half-width of the mean of
/// independent estimates, sqrt(sum h_i^2) / R.
estimate combine(std::span<const estimate> repetitions);

/// The estimate of `counter` (with its half-width from `interval`, if not empty) over a
/// benchmark's repetitions, or nullopt with the reason in `why`: a repetition failed, or a
/// value is missing or not finite.
std::optional<estimate> combined(const std::vector<const benchmark_row*>& repetitions,
                                 const std::string& counter, const std::string& interval,
                                 std::string* why = nullptr);

}  // namespace leakbench::reports
