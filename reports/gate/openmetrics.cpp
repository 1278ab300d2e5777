// Prometheus' text exposition format, kept OpenMetrics-compatible: unit-suffixed gauge names,
// # UNIT lines (comments to Prometheus) and # EOF, so one file serves both parsers.
#include <fmt/format.h>

#include <cmath>
#include <map>
#include <ostream>

#include "reports/gate/outcome.hpp"
#include "reports/gate/text.hpp"

namespace leakbench::gate {
namespace {

/// A metric-name-safe form of a counter name.
std::string metric_part(std::string_view s) {
  std::string out;
  for (const char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    out += ok ? c : '_';
  }
  return out;
}

/// A label value with \, " and newlines escaped.
std::string label_value(std::string_view s) {
  std::string out;
  for (const char c : printable(s)) {
    if (c == '\\' || c == '"') out += '\\';
    out += c;
  }
  return out;
}

std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  return fmt::format("{:.17g}", v);
}

struct family {
  std::string help;
  bool bytes = false;
  std::vector<std::pair<std::string, double>> samples;  // labels, value
};

}  // namespace

void write_openmetrics(std::ostream& out, const outcome& o) {
  std::map<std::string, family> families;  // name order: stable output
  const auto sample = [&](const std::string& name, std::string help, bool bytes, std::string labels,
                          double value) {
    auto& f = families[name];
    f.help = std::move(help);
    f.bytes = bytes;
    f.samples.emplace_back(std::move(labels), value);
  };
  // What makes a run's numbers differ from the last without a change in the code: on every
  // sample, so that an injected leak or another target is a series of its own.
  const std::string run_labels =
      fmt::format("inject_leak=\"{}\",target=\"{}\"",
                  label_value(o.results->context_value("inject_leak").value_or("0")),
                  label_value(o.results->target()));
  std::string info;
  for (const auto& [key, value] : run_configuration(*o.results)) {
    info += fmt::format("{}{}=\"{}\"", info.empty() ? "" : ",", key, label_value(value));
  }
  sample("leakgate_run_info", "The run's configuration, as labels (the value is always 1)", false,
         info, 1);
  std::map<std::string, bool> cut_short;
  for (const auto& m : measures(o)) {
    cut_short[m.benchmark] = cut_short[m.benchmark] || m.cut_short;
    const std::string base = "leakgate_" + metric_part(m.counter) + (m.bytes ? "_bytes" : "");
    const std::string labels =
        fmt::format("benchmark=\"{}\",{}", label_value(m.benchmark), run_labels);
    sample(base, fmt::format("Google Benchmark counter {}, repetitions combined", m.counter),
           m.bytes, labels, m.value.value);
    if (m.has_interval) {
      sample("leakgate_" + metric_part(m.counter) + "_ci95" + (m.bytes ? "_bytes" : ""),
             fmt::format("Half-width of the 95% confidence interval of {}", m.counter), m.bytes,
             labels, m.value.half_width);
    }
  }
  for (const auto& [benchmark, hit] : cut_short) {
    sample("leakgate_ceiling_hit",
           "1 if the benchmark stopped at --max_rss before its retries were done", false,
           fmt::format("benchmark=\"{}\",{}", label_value(benchmark), run_labels), hit ? 1 : 0);
  }
  std::map<std::pair<std::string, std::string>, bool> passed;  // (benchmark, rule) -> passed
  for (const auto& c : o.eval.checks) {
    if (c.outcome == verdict::not_applicable) continue;  // neither held nor broken
    const auto key = std::make_pair(c.benchmark, c.rule_name);
    const auto it = passed.find(key);
    passed[key] = (it == passed.end() || it->second) && !c.fails(o.policy);
  }
  for (const auto& [key, ok] : passed) {
    sample("leakgate_check_passed", "1 if the rule holds for the benchmark (every repetition)",
           false,
           fmt::format("benchmark=\"{}\",rule=\"{}\"", label_value(key.first),
                       label_value(key.second)),
           ok ? 1 : 0);
  }
  sample("leakgate_passed", "1 if the whole gate passed", false, "", o.passed() ? 1 : 0);

  for (const auto& [name, f] : families) {
    out << "# TYPE " << name << " gauge\n";
    if (f.bytes) out << "# UNIT " << name << " bytes\n";
    out << "# HELP " << name << ' ' << f.help << '\n';
    for (const auto& [labels, value] : f.samples) {
      out << name << (labels.empty() ? "" : "{" + labels + "}") << ' ' << number(value) << '\n';
    }
  }
  out << "# EOF\n";
}

}  // namespace leakbench::gate
