#include "reports/gate/outcome.hpp"

#include <algorithm>
#include <cmath>

namespace leakbench::gate {

bool outcome::fails(const comparison& c) const {
  return c.kind == change::regression ||
         (c.kind == change::only_baseline && budgets->baseline.missing_fails);
}

bool outcome::passed() const {
  return !eval.fails(policy) && std::none_of(comparisons.begin(), comparisons.end(),
                                             [this](const comparison& c) { return fails(c); });
}

std::size_t outcome::count(change c) const {
  return static_cast<std::size_t>(std::count_if(comparisons.begin(), comparisons.end(),
                                                [c](const comparison& x) { return x.kind == c; }));
}

std::vector<measure> measures(const outcome& o) {
  std::vector<measure> out;
  for (const auto& key : o.results->keys()) {
    const auto reps = o.results->repetitions_of(key);
    for (const auto& counter : o.budgets->exported()) {
      const auto info = o.budgets->info(counter);
      const auto e = reports::combined(reps, counter, info.interval);
      if (!e) continue;  // errored, missing or not finite: nothing a dashboard can plot
      out.push_back({.benchmark = key,
                     .counter = counter,
                     .bytes = info.bytes,
                     .value = *e,
                     .has_interval = !info.interval.empty(),
                     .repetitions = reps.size()});
    }
  }
  return out;
}

}  // namespace leakbench::gate
