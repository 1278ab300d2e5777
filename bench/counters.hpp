#pragma once

#include <benchmark/benchmark.h>

#include <optional>
#include <string>

#include "bench/options.hpp"
#include "bench/record.hpp"

namespace leakbench::bench {

/// Fits the per-retry trends of `rec` and sets the benchmark's counters and label; returns why
/// not, if they cannot be fitted. `expected` is what one retry should retain;
/// `process_peak` the highest peak of any benchmark so far, this one's included.
std::optional<std::string> set_counters(benchmark::State& state, const run_record& rec,
                                        double expected, std::int64_t process_peak,
                                        const options& opts);

/// What held the benchmark's retained memory, from the collector's walk of the garbage:
/// "retains 32.0 MiB per exception via exc.__context__.payload", or that nothing was retained.
std::string retention_label(const run_record& rec);

}  // namespace leakbench::bench
