#pragma once

#include <benchmark/benchmark.h>

#include <string>

#include "bench/options.hpp"
#include "bench/target.hpp"
#include "scenarios/scenario.hpp"

namespace leakbench::bench {

/// Runs one benchmark: `scenario` against `variant` of `t`, in a fresh process; `state`'s
/// iterations are its retries (rounds for Concurrent), with the counters documented in
/// docs/counters.md.
void run_scenario(benchmark::State& state, target& t, const scenarios::entry& scenario,
                  const std::string& variant, const options& opts);

/// True once any benchmark has ended with SkipWithError.
bool any_benchmark_failed();

}  // namespace leakbench::bench
