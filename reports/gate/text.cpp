#include "reports/gate/text.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "reports/gate/cells.hpp"
#include "reports/results/units.hpp"

namespace leakbench::gate {

std::size_t display_width(std::string_view s) {
  std::size_t n = 0;
  for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::string signed_value(double delta, bool bytes) {
  return fmt::format("{}{}", delta >= 0 ? "+" : "", reports::format_value(delta, bytes));
}

std::string describe_run(const reports::run& r) {
  const auto keys = r.keys();
  std::size_t reps = 0;
  for (const auto& k : keys) reps = std::max(reps, r.repetitions_of(k).size());
  std::string line = fmt::format("{}: {} benchmarks", r.source, keys.size());
  if (reps > 1) line += fmt::format(" x {} repetitions", reps);
  const auto config = reports::describe_configuration(r);
  if (!config.empty()) line += fmt::format(" ({})", fmt::join(config, ", "));
  return printable(line);
}

std::optional<std::string> injected_leak_note(const reports::run& r) {
  const auto n = r.context_number("inject_leak");
  if (!n || *n == 0) return std::nullopt;
  return fmt::format("this run injected a leak of {} per attempt (--inject_leak)",
                     reports::format_bytes(*n));
}

std::optional<std::string> baseline_differences_note(const outcome& o) {
  if (o.baseline == nullptr || o.differences.empty()) return std::nullopt;
  return fmt::format("the baseline ran otherwise (compared all the same): {}",
                     reports::describe_differences(o.differences));
}

std::optional<std::string> cut_short_note(const reports::run& r) {
  std::vector<std::string> cut;
  for (const auto* row : r.measured()) {
    if (row->number("ceiling_hit").value_or(0) > 0) {
      cut.push_back(
          fmt::format("{}{} after {} retries", row->key,
                      row->repetitions > 1 ? fmt::format(" #{}", row->repetition_index) : "",
                      reports::format_number(row->number("retries").value_or(0))));
    }
  }
  if (cut.empty()) return std::nullopt;
  return fmt::format("cut short at --max_rss (ceiling_hit 1), their slopes from fewer retries: {}",
                     fmt::join(cut, ", "));
}

std::vector<std::string> resolution_notes(const outcome& o) {
  struct group {
    const check* first = nullptr;
    std::size_t n = 0;
    double finest = 0, coarsest = 0;
    std::optional<std::size_t> retries;  // the most any of them needs
    bool practical = true;
  };
  std::vector<std::pair<std::string, group>> groups;  // by rule name, in check order
  for (const auto& c : o.eval.checks) {
    if (!c.too_coarse()) continue;
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const auto& g) { return g.first == c.rule_name; });
    if (it == groups.end()) it = groups.insert(groups.end(), {c.rule_name, group{.first = &c}});
    auto& g = it->second;
    const double r = *c.resolution();
    g.finest = g.n == 0 ? r : std::min(g.finest, r);
    g.coarsest = std::max(g.coarsest, r);
    ++g.n;
    if (*c.retries_to_resolve) {
      g.retries = std::max(g.retries.value_or(0), **c.retries_to_resolve);
    } else {
      g.practical = false;
    }
  }
  std::vector<std::string> out;
  for (const auto& [name, g] : groups) {
    const auto& c = *g.first;
    const std::string seen = g.finest == g.coarsest
                                 ? reports::format_value(g.finest, c.bytes)
                                 : fmt::format("{}-{}", reports::format_value(g.finest, c.bytes),
                                               reports::format_value(g.coarsest, c.bytes));
    const std::string fix = g.practical ? fmt::format("about {} retries would resolve it (now {})",
                                                      *g.retries, c.retries)
                                        : "no practical number of retries resolves it";
    out.push_back(fmt::format(
        "{} {} of \"{}\" see only growth of {} and more, coarser than the limit {}: their "
        "verdicts may not repeat; {}",
        g.n, g.n == 1 ? "check" : "checks", printable(name), seen, limit_cell(c), fix));
  }
  return out;
}

std::string summary_line(const outcome& o) {
  const auto& e = o.eval;
  std::string line =
      fmt::format("{} checks: {} pass, {} FAIL, {} inconclusive ({})", e.checked(),
                  e.count(verdict::pass), e.count(verdict::fail), e.count(verdict::inconclusive),
                  o.policy == inconclusive_policy::fail ? "--inconclusive=fail: they fail"
                                                        : "--inconclusive=pass: they pass");
  if (const auto n = e.count(verdict::not_applicable); n > 0) {
    line += fmt::format("; {} not applicable", n);
  }
  if (o.baseline != nullptr) {
    line += fmt::format("; baseline: {} regressions, {} improvements, {} new, {} gone",
                        o.count(change::regression), o.count(change::improvement),
                        o.count(change::only_now), o.count(change::only_baseline));
  }
  return line;
}

}  // namespace leakbench::gate
