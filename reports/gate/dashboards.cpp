// The JSON dashboards: Bencher Metric Format and github-action-benchmark's custom format. Both
// drop Google Benchmark's custom counters when they ingest its JSON; these carry them.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>
#include <ostream>

#include "reports/gate/outcome.hpp"
#include "reports/results/units.hpp"

namespace leakbench::gate {
namespace {

/// A Bencher measure slug: lower case, '-' between words ("rss_per_retry" is "rss-per-retry").
std::string slug(std::string_view counter) {
  std::string out;
  for (const char c : counter) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    const char lower = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    if (keep || (c >= 'A' && c <= 'Z')) {
      out += lower;
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

/// "payload 1048576, retries 12, gc off, ...": the configuration, for a free-text field.
std::string configuration_text(const reports::run& r) {
  std::vector<std::string> parts;
  for (const auto& [key, value] : run_configuration(r)) {
    parts.push_back(fmt::format("{} {}", key, value.empty() ? "?" : value));
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

}  // namespace

void write_bencher(std::ostream& out, const outcome& o) {
  auto doc = nlohmann::ordered_json::object();
  for (const auto& m : measures(o)) {
    auto metric = nlohmann::ordered_json::object();
    metric["value"] = m.value.value;
    if (m.has_interval && !m.unbounded) {
      metric["lower_value"] = m.value.value - m.value.half_width;
      metric["upper_value"] = m.value.value + m.value.half_width;
    }
    doc[m.benchmark][slug(m.counter)] = std::move(metric);
    // The mark of a benchmark cut short at --max_rss: a measure of its own, 1, beside the rest.
    if (m.cut_short) doc[m.benchmark]["ceiling-hit"] = {{"value", 1}};
  }
  out << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

void write_github_action_benchmark(std::ostream& out, const outcome& o) {
  auto doc = nlohmann::ordered_json::array();
  const std::string config = configuration_text(*o.results);
  for (const auto& m : measures(o)) {
    // Its alert is a ratio to the previous value: only a value with an interval, as its upper
    // end floored at a page, can be judged that way (a slope about 0 makes any noise a ratio
    // of Infinity).
    if (!m.has_interval) continue;
    auto entry = nlohmann::ordered_json::object();
    entry["name"] = fmt::format("{} {}", m.benchmark, m.counter);
    entry["unit"] = m.bytes ? "bytes" : "";
    entry["value"] = upper_bound_floored(m);
    if (!m.unbounded) entry["range"] = fmt::format("± {:.6g}", m.value.half_width);
    std::vector<std::string> extra;
    if (m.cut_short) {
      extra.push_back(fmt::format("CUT SHORT at --max_rss after {} retries", m.retries));
    }
    if (const auto n = o.results->context_number("inject_leak"); n && *n > 0) {
      extra.push_back(fmt::format("INJECTED LEAK of {} per attempt (--inject_leak)",
                                  reports::format_bytes(*n)));
    }
    extra.push_back(
        m.unbounded
            ? fmt::format("value: the slope {} (no interval: two points), at least 4 KiB",
                          reports::format_value(m.value.value, m.bytes))
            : fmt::format("value: the upper end of the 95% interval of {} ± {}, at least 4 KiB",
                          reports::format_value(m.value.value, m.bytes),
                          reports::format_value(m.value.half_width, m.bytes)));
    if (m.repetitions > 1) extra.push_back(fmt::format("mean of {} repetitions", m.repetitions));
    extra.push_back(config);
    entry["extra"] = fmt::format("{}", fmt::join(extra, "; "));
    doc.push_back(std::move(entry));
  }
  out << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

}  // namespace leakbench::gate
