#include "reports/results/estimate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>

namespace leakbench::reports {

estimate combine(std::span<const estimate> repetitions) {
  if (repetitions.empty()) return {};
  if (repetitions.size() == 1) return repetitions.front();
  double sum = 0, squares = 0;
  for (const auto& e : repetitions) {
    sum += e.value;
    squares += e.half_width * e.half_width;
  }
  const auto n = static_cast<double>(repetitions.size());
  const double mean = sum / n;
  double deviations = 0;
  for (const auto& e : repetitions) deviations += (e.value - mean) * (e.value - mean);
  const double s = std::sqrt(deviations / (n - 1));
  const boost::math::students_t dist(n - 1);
  const double t = boost::math::quantile(boost::math::complement(dist, 0.025));
  return {mean, std::max(t * s / std::sqrt(n), std::sqrt(squares) / n)};
}

std::optional<estimate> combined(const std::vector<const benchmark_row*>& repetitions,
                                 const std::string& counter, const std::string& interval,
                                 std::string* why) {
  std::vector<estimate> parts;
  const auto fail = [&](std::string reason) -> std::optional<estimate> {
    if (why != nullptr) *why = std::move(reason);
    return std::nullopt;
  };
  for (const auto* row : repetitions) {
    if (row->error_occurred) return fail("the benchmark failed: " + row->error_message);
    const auto v = row->number(counter);
    if (!v || !std::isfinite(*v)) {
      return fail(fmt::format("{} is {}", counter, v ? "not finite" : "missing"));
    }
    double h = 0;
    if (!interval.empty()) {
      const auto hw = row->number(interval);
      if (!hw || !std::isfinite(*hw)) {
        return fail(fmt::format("{} is {}", interval, hw ? "not finite" : "missing"));
      }
      h = std::abs(*hw);
    }
    parts.push_back({*v, h});
  }
  if (parts.empty()) return fail("no repetitions");
  return combine(parts);
}

}  // namespace leakbench::reports
