#pragma once

#include <cstddef>
#include <optional>

namespace leakbench::gate {

/// How many points a least-squares slope over consecutive retries needs for the half-width of
/// its 95% interval to fall below `target`, when it is `half_width` at `points` points and the
/// scatter about the line stays as it is: the half-width is t(0.975, n-2) * s / sqrt(Sxx) with
/// Sxx = n(n^2-1)/12, so it shrinks about as n^-1.5. nullopt when no number up to 10^7 does,
/// or when target <= 0 (the value sits on the limit).
std::optional<std::size_t> points_for_half_width(double half_width, std::size_t points,
                                                 double target);

}  // namespace leakbench::gate
