#include "reports/results/estimate.hpp"

#include <fmt/format.h>

#include <cmath>

namespace leakbench::reports {

estimate combine(std::span<const estimate> repetitions) {
  if (repetitions.empty()) return {};
  double sum = 0, squares = 0;
  for (const auto& e : repetitions) {
    sum += e.value;
    squares += e.half_width * e.half_width;
  }
  const auto r = static_cast<double>(repetitions.size());
  return {sum / r, std::sqrt(squares) / r};
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
