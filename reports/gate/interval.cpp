#include "reports/gate/interval.hpp"

#include <boost/math/distributions/students_t.hpp>
#include <cmath>

namespace leakbench::gate {
namespace {

constexpr std::size_t k_most_points = 10'000'000;

/// t(0.975, n-2) / sqrt(n(n^2-1)/12): the half-width per unit of residual scatter.
double width_factor(std::size_t n) {
  const auto dn = static_cast<double>(n);
  const boost::math::students_t dist(dn - 2);
  const double t = boost::math::quantile(boost::math::complement(dist, 0.025));
  return t / std::sqrt(dn * (dn * dn - 1) / 12);
}

}  // namespace

std::optional<std::size_t> points_for_half_width(double half_width, std::size_t points,
                                                 double target) {
  if (!(target > 0) || points < 3 || !std::isfinite(half_width)) return std::nullopt;
  if (half_width < target) return points;
  const double scatter = half_width / width_factor(points);
  const auto wide = [&](std::size_t n) { return scatter * width_factor(n) >= target; };
  std::size_t lo = points, hi = points;
  while (wide(hi)) {  // the width falls monotonically in n: double, then bisect
    lo = hi;
    if (hi >= k_most_points) return std::nullopt;
    hi = std::min(hi * 2, k_most_points);
  }
  while (hi - lo > 1) {
    const std::size_t mid = lo + (hi - lo) / 2;
    (wide(mid) ? lo : hi) = mid;
  }
  return hi;
}

}  // namespace leakbench::gate
