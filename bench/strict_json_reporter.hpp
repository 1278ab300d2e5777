#pragma once

#include <benchmark/benchmark.h>

#include <cmath>
#include <vector>

#include "bench/interrupt.hpp"

namespace leakbench::bench {

/// Google Benchmark's JSON reporter, minus the non-finite counters it would write as bare
/// NaN/Infinity (not JSON): the `_cv` aggregate of a counter whose mean is 0 is 0/0. Such a
/// counter is left out of that row; every other number is written as Google Benchmark does.
/// Benchmarks a signal kept from starting are left out: the JSON is what ran.
class strict_json_reporter final : public benchmark::JSONReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    std::vector<Run> finite;
    for (const auto& run : runs) {
      if (run.error_occurred && run.error_message == k_not_run) continue;  // what never ran
      finite.push_back(run);
    }
    for (auto& run : finite) {
      std::erase_if(run.counters, [](const auto& c) { return !std::isfinite(c.second.value); });
    }
    JSONReporter::ReportRuns(finite);
  }
};

}  // namespace leakbench::bench
