#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bench/options.hpp"
#include "bench/record.hpp"
#include "scenarios/scenario.hpp"

namespace leakbench::bench {

/// What a benchmark runs against: the C++ model of the worker, or a real Dramatiq worker
/// process. Either way each benchmark runs in a fresh process, and the runner turns its record
/// into the same counters, label, series and JSON.
class target {
 public:
  virtual ~target() = default;
  /// The variants, in benchmark order: `leaky`, `fixed` for the model; the user's names for
  /// real workers.
  virtual std::vector<std::string> variants() const = 0;
  /// Runs one benchmark's retries; a benchmark's failure is in the record, never thrown.
  virtual run_record run(const scenarios::entry& scenario, const std::string& variant,
                         const options& opts) = 0;
};

/// What one failed attempt of `variant` is expected to retain: the model's leaky value for a
/// variant named `leaky`, nothing for any other.
std::int64_t expected_per_retry(const scenarios::scenario& sc, const std::string& variant,
                                const options& opts);

}  // namespace leakbench::bench
