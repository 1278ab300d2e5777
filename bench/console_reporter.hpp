#pragma once

#include <benchmark/benchmark.h>

#include <map>
#include <string>
#include <vector>

namespace leakbench::bench {

/// leakbench's console: one row per benchmark that fits 120 columns (time per retry, RSS per
/// retry with its 95% interval, heap per retry, expected, peak RSS, retained, severity), sizes
/// in IEC units, and the label, what holds the memory, on its own line below. Severity is
/// leakreport's, raised as leakgate's shipped budgets require (never "none" for what the gate
/// fails); in colour on a terminal without NO_COLOR.
class console_reporter final : public benchmark::BenchmarkReporter {
 public:
  /// `header`: the run's configuration in one line; `context`: leakbench's JSON context keys
  /// (target, payload, ...), for the gate's view of each benchmark; `color`: use ANSI colours.
  console_reporter(std::string header, std::map<std::string, std::string> context, bool color);

  bool ReportContext(const Context& context) override;
  void ReportRuns(const std::vector<Run>& runs) override;

 private:
  void print_header();
  std::string header_;
  std::map<std::string, std::string> context_;
  bool color_;
  bool printed_header_ = false;
};

}  // namespace leakbench::bench
