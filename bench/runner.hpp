#pragma once

#include <benchmark/benchmark.h>

#include <string>

#include "bench/options.hpp"
#include "scenarios/scenario.hpp"

namespace leakbench::bench {

/// Which AsyncIO middleware a benchmark runs.
enum class variant { leaky, fixed };

/// "leaky" or "fixed".
const char* to_string(variant v);

/// Runs one benchmark: `state`'s iterations are retries of `scenario` (rounds of them for
/// Concurrent) on a fresh broker and worker, sampled at quiescent points, with the counters
/// documented in docs/counters.md.
void run_scenario(benchmark::State& state, const scenarios::entry& scenario, variant v,
                  const options& opts);

/// True once any benchmark has ended with SkipWithError.
bool any_benchmark_failed();

}  // namespace leakbench::bench
