// The JSON dashboards: Bencher Metric Format and github-action-benchmark's custom format. Both
// drop Google Benchmark's custom counters when they ingest its JSON; these carry them.
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <ostream>

#include "reports/gate/outcome.hpp"
#include "reports/results/units.hpp"

namespace leakbench::gate {

void write_bencher(std::ostream& out, const outcome& o) {
  auto doc = nlohmann::ordered_json::object();
  for (const auto& m : measures(o)) {
    auto metric = nlohmann::ordered_json::object();
    metric["value"] = m.value.value;
    if (m.has_interval) {
      metric["lower_value"] = m.value.value - m.value.half_width;
      metric["upper_value"] = m.value.value + m.value.half_width;
    }
    doc[m.benchmark][m.counter] = std::move(metric);
  }
  out << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

void write_github_action_benchmark(std::ostream& out, const outcome& o) {
  auto doc = nlohmann::ordered_json::array();
  for (const auto& m : measures(o)) {
    auto entry = nlohmann::ordered_json::object();
    entry["name"] = fmt::format("{} {}", m.benchmark, m.counter);
    entry["unit"] = m.bytes ? "bytes" : "";
    entry["value"] = m.value.value;
    if (m.has_interval) entry["range"] = fmt::format("± {:.6g}", m.value.half_width);
    std::string extra = m.has_interval ? "± is the 95% confidence half-width" : "";
    if (m.repetitions > 1) {
      extra += fmt::format("{}mean of {} repetitions", extra.empty() ? "" : "; ", m.repetitions);
    }
    if (m.bytes) {
      extra += fmt::format("{}{}", extra.empty() ? "" : "; ", reports::format_bytes(m.value.value));
    }
    entry["extra"] = extra;
    doc.push_back(std::move(entry));
  }
  out << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

}  // namespace leakbench::gate
