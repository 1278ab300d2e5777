#include "bench/console_reporter.hpp"

#include <fmt/format.h>

#include <cmath>
#include <optional>

#include "reports/gate/budgets.hpp"
#include "reports/gate/decide.hpp"
#include "reports/results/run.hpp"
#include "reports/results/severity.hpp"
#include "reports/results/units.hpp"

namespace leakbench::bench {
namespace {

constexpr int k_name = 27;  // "ClearTracebackOutside/leaky"
// time/retry, RSS/retry ± 95%, heap/retry, expected, peak RSS, retained, severity
constexpr const char* k_row = "{:<{}} {:>9} {:>22} {:>10} {:>10} {:>10} {:>10}  {}";

std::optional<double> counter(const benchmark::BenchmarkReporter::Run& run, const char* name) {
  const auto it = run.counters.find(name);
  if (it == run.counters.end()) return std::nullopt;
  return static_cast<double>(it->second);
}

std::string size(std::optional<double> v) { return v ? reports::format_bytes(*v) : "-"; }

/// The time per retry in the benchmark's own unit: "24.3 ms".
std::string time_per_retry(const benchmark::BenchmarkReporter::Run& run) {
  const double t = run.GetAdjustedRealTime();  // per iteration, in run.time_unit
  return fmt::format("{:.{}f} {}", t, t < 10 ? 2 : 1, benchmark::GetTimeUnitString(run.time_unit));
}

/// The row as leakgate would read it from the JSON, to apply the shipped budgets to it.
reports::run as_gate_input(const benchmark::BenchmarkReporter::Run& r,
                           const std::map<std::string, std::string>& context) {
  reports::run out;
  out.source = "leakbench";
  for (const auto& [k, v] : context) out.context[k] = v;
  reports::benchmark_row row;
  row.name = r.benchmark_name();
  row.key = reports::benchmark_key(r.run_name.str());
  row.error_occurred = r.error_occurred;
  row.error_message = r.error_message;
  row.label = r.report_label;
  row.repetition_index = r.repetition_index;
  row.repetitions = r.repetitions;
  for (const auto& [name, c] : r.counters) row.numbers[name] = static_cast<double>(c);
  out.rows.push_back(std::move(row));
  return out;
}

bool gate_fails(const benchmark::BenchmarkReporter::Run& r,
                const std::map<std::string, std::string>& context) {
  try {
    static const auto budgets = gate::default_budgets();
    const auto e = gate::evaluate(as_gate_input(r, context), budgets);
    for (const auto& c : e.checks) {
      if (c.outcome == gate::verdict::fail) return true;
    }
  } catch (const std::exception&) {  // no rule names it: nothing to raise
  }
  return false;
}

const char* color_of(reports::severity s) {
  switch (s) {
    case reports::severity::none:
      return "\033[32m";
    case reports::severity::low:
      return "\033[33m";
    case reports::severity::critical:
      return "\033[31m";
    case reports::severity::catastrophic:
      return "\033[1;31m";
    case reports::severity::unknown:
      break;
  }
  return "";
}

}  // namespace

console_reporter::console_reporter(std::string header, std::map<std::string, std::string> context,
                                   bool color)
    : header_(std::move(header)), context_(std::move(context)), color_(color) {}

bool console_reporter::ReportContext(const Context&) {
  print_header();
  return true;
}

void console_reporter::print_header() {
  if (printed_header_) return;
  printed_header_ = true;
  auto& out = GetOutputStream();
  out << header_ << "\n\n";
  out << fmt::format(k_row, "benchmark", k_name, "time/retry", "RSS/retry ± 95%", "heap/retry",
                     "expected", "peak RSS", "retained", "severity")
      << "\n";
  out.flush();
}

void console_reporter::ReportRuns(const std::vector<Run>& runs) {
  auto& out = GetOutputStream();
  for (const auto& r : runs) {
    if (r.run_type == Run::RT_Aggregate) continue;  // the JSON carries them
    std::string name = reports::benchmark_key(r.run_name.str());
    if (r.repetitions > 1) name += fmt::format(" #{}", r.repetition_index);
    if (r.error_occurred) {
      out << fmt::format("{:<{}} ERROR: {}", name, k_name, r.error_message) << "\n";
      continue;
    }
    const auto rss = counter(r, "rss_per_retry");
    const auto half = counter(r, "rss_ci95");
    const std::string growth =
        rss ? fmt::format("{} ± {}", reports::format_bytes(*rss),
                          half ? reports::format_bytes(*half) : std::string("?"))
            : "-";
    const auto payload = counter(r, "payload");
    const auto level = rss && payload ? reports::classify(*rss, half.value_or(0), *payload,
                                                          gate_fails(r, context_))
                                      : reports::severity::unknown;
    std::string word = reports::to_string(level);
    if (color_) word = fmt::format("{}{}\033[0m", color_of(level), word);
    out << fmt::format(k_row, name, k_name, time_per_retry(r), growth,
                       size(counter(r, "heap_per_retry")), size(counter(r, "expected_per_retry")),
                       size(counter(r, "peak_rss")), size(counter(r, "retained")), word)
        << "\n";
    if (!r.report_label.empty()) out << "    " << r.report_label << "\n";
  }
  out.flush();
}

}  // namespace leakbench::bench
