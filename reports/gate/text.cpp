#include "reports/gate/text.hpp"

#include <fmt/format.h>

#include "reports/results/units.hpp"

namespace leakbench::gate {

std::size_t display_width(std::string_view s) {
  std::size_t n = 0;
  for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::string pad(std::string_view s, std::size_t width) {
  std::string out(s);
  const std::size_t w = display_width(s);
  if (w < width) out.append(width - w, ' ');
  return out;
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += separator;
    out += p;
  }
  return out;
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
  if (!config.empty()) line += " (" + join(config, ", ") + ")";
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
