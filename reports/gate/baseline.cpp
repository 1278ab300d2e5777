#include "reports/gate/baseline.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "reports/results/comparability.hpp"

namespace leakbench::gate {

const char* to_string(change c) {
  switch (c) {
    case change::regression:
      return "regression";
    case change::improvement:
      return "improvement";
    case change::unchanged:
      return "unchanged";
    case change::only_now:
      return "new";
    case change::only_baseline:
      return "gone";
    case change::not_comparable:
      return "not comparable";
  }
  return "?";
}

std::optional<double> comparison::delta() const {
  if (!now || !before) return std::nullopt;
  return now->value - before->value;
}

std::vector<comparison> compare(const reports::run& now, const reports::run& before,
                                const budgets& b) {
  reports::check_comparable(now, before);
  const auto& policy = b.baseline;
  std::vector<std::string> keys = now.keys();
  for (const auto& k : before.keys()) {
    if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
  }
  std::vector<comparison> out;
  for (const auto& key : keys) {
    const auto now_reps = now.repetitions_of(key), before_reps = before.repetitions_of(key);
    if (before_reps.empty() || now_reps.empty()) {  // one row for the benchmark
      out.push_back({.benchmark = key,
                     .kind = before_reps.empty() ? change::only_now : change::only_baseline});
      continue;
    }
    for (const auto& counter : policy.counters) {
      const auto info = b.info(counter);
      comparison c{.benchmark = key, .counter = counter, .bytes = info.bytes};
      std::string why_now, why_before;
      c.now = reports::combined(now_reps, counter, info.interval, &why_now);
      c.before = reports::combined(before_reps, counter, info.interval, &why_before);
      if (!c.now || !c.before) {
        c.kind = change::not_comparable;
        c.note = !c.now ? "now: " + why_now : "baseline: " + why_before;
        out.push_back(std::move(c));
        continue;
      }
      c.tolerance =
          std::max({policy.abs_tolerance, policy.rel_tolerance * std::abs(c.before->value),
                    std::hypot(c.now->half_width, c.before->half_width)});
      const double d = *c.delta();
      c.kind = d > c.tolerance    ? change::regression
               : d < -c.tolerance ? change::improvement
                                  : change::unchanged;
      out.push_back(std::move(c));
    }
  }
  return out;
}

}  // namespace leakbench::gate
