#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "bench/options.hpp"
#include "bench/record.hpp"
#include "harness/measure/sampler.hpp"

namespace leakbench::bench {

/// How a target runs one retry. Each step throws std::exception with the reason if it cannot.
struct retry_steps {
  std::function<void()> attempt;            ///< one retry (a round): returns once it is over
  std::function<void()> settle;             ///< then brings the process to a quiescent point
  std::function<measure::sample()> sample;  ///< and reads it
};

/// Runs the retries of one benchmark as every target does, after the first sample is in `rec`:
/// stops at a signal (at a retry boundary: "interrupted by SIGINT after 12 of 20 retries") or
/// before a retry could take RSS past --max_rss (ceiling_hit); times each retry apart from
/// the harness's own share (settling and sampling); a step that fails ends the run with
/// "retry N: why"; shows progress on a terminal.
void run_retries(run_record& rec, const options& opts, std::int64_t allocated_per_round,
                 const std::string& name, const retry_steps& steps);

}  // namespace leakbench::bench
