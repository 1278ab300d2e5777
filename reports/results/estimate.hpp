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

/// Repetitions of one benchmark as one estimate: the mean of their values, and the wider of
/// two 95% half-widths of that mean: t(0.975, N-1) s / sqrt(N) from the spread s between the
/// repetitions, which sees what varies from one run to the next, and sqrt(sum h_i^2) / N from
/// the repetitions' own intervals, which the spread of few repetitions can understate. One
/// repetition is itself.
estimate combine(std::span<const estimate> repetitions);

/// The estimate of `counter` (with its half-width from `interval`, if not empty) over a
/// benchmark's repetitions, or nullopt with the reason in `why`: a repetition failed, or a
/// value is missing or not finite.
std::optional<estimate> combined(const std::vector<const benchmark_row*>& repetitions,
                                 const std::string& counter, const std::string& interval,
                                 std::string* why = nullptr);

}  // namespace leakbench::reports
