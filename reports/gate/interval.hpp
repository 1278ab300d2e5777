#pragma once

#include <cstddef>
#include <optional>
#include <span>

namespace leakbench::gate {

/// A value with the half-width of its 95% confidence interval (0: exact).
struct estimate {
  double value = 0;
  double half_width = 0;
};

/// How many points a least-squares slope over consecutive retries needs for the half-width of
/// its 95% interval to fall below `target`, when it is `half_width` at `points` points and the
/// scatter about the line stays as it is: the half-width is t(0.975, n-2) * s / sqrt(Sxx) with
/// Sxx = n(n^2-1)/12, so it shrinks about as n^-1.5. nullopt when no number up to 10^7 does,
/// or when target <= 0 (the value sits on the limit).
std::optional<std::size_t> points_for_half_width(double half_width, std::size_t points,
                                                 double target);

/// Repetitions of one benchmark as one estimate: their mean, and the half-width of the mean of
/// independent estimates, sqrt(sum h_i^2) / R.
estimate combine(std::span<const estimate> repetitions);

}  // namespace leakbench::gate
