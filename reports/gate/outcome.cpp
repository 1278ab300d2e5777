#include "reports/gate/outcome.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

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
    bool cut_short = false;
    double retries = std::numeric_limits<double>::infinity();
    for (const auto* r : reps) {
      cut_short = cut_short || r->number("ceiling_hit").value_or(0) > 0;
      retries = std::min(retries, r->number("retries").value_or(retries));
    }
    for (const auto& counter : o.budgets->exported()) {
      const auto info = o.budgets->info(counter);
      measure m{.benchmark = key,
                .counter = counter,
                .bytes = info.bytes,
                .has_interval = !info.interval.empty(),
                .repetitions = reps.size(),
                .cut_short = cut_short,
                .retries = std::isfinite(retries) ? retries : 0};
      if (const auto e = reports::combined(reps, counter, info.interval)) {
        m.value = *e;
      } else if (const auto slope = reports::combined(reps, counter, "");
                 slope && cut_short && m.has_interval) {
        // Two points after the ceiling: a slope without an interval, marked, not dropped.
        m.value = {slope->value, std::numeric_limits<double>::infinity()};
        m.unbounded = true;
      } else {
        continue;  // errored, missing or not finite: nothing a dashboard can plot
      }
      out.push_back(std::move(m));
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> run_configuration(const reports::run& r) {
  const auto value = [&](const char* key, const char* missing) {
    return r.context_value(key).value_or(missing);
  };
  return {{"payload", value("payload", "")},
          {"retries", value("retries", "")},
          {"gc", value("gc", "off")},
          {"broker", value("broker", "")},
          {"inject_leak", value("inject_leak", "0")},
          {"target", r.target()},
          {"git_commit", value("git_commit", "")}};
}

double benchmark_seconds(const reports::run& r, const std::string& key) {
  double total = 0;
  for (const auto* row : r.repetitions_of(key)) {
    // The retries' own time, plus the harness's share of each (sampling, waiting for a real
    // worker to fall quiet) where leakbench reports it.
    total += row->seconds().value_or(0);
    const auto per_retry = row->number("harness_time_per_retry");
    const auto retries = row->number("retries");
    if (per_retry && retries && std::isfinite(*per_retry * *retries)) {
      total += *per_retry * *retries;
    }
  }
  return total;
}

double upper_bound_floored(const measure& m) {
  constexpr double k_page = 4096;
  const double h = std::isfinite(m.value.half_width) ? m.value.half_width : 0;
  return m.bytes ? std::max(m.value.value + h, k_page) : m.value.value + h;
}

}  // namespace leakbench::gate
