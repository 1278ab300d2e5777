#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harness/measure/sampler.hpp"
#include "harness/runtime/gc.hpp"

namespace leakbench::bench {

/// How a real worker's attempts ended, and what the app's own code sent meanwhile.
struct attempt_outcomes {
  std::size_t failed = 0, succeeded = 0, skipped = 0;
  std::size_t enqueued_elsewhere = 0;  ///< messages the actors' code sent to other queues
  std::int64_t garbage_bytes = 0;      ///< cyclic garbage the final collections found (getsizeof)
};

/// What one benchmark's run produced, wherever it ran (a child leakbench for the model, a real
/// worker measured from outside): everything the counters, the label and the series come from.
struct run_record {
  std::vector<measure::sample> points;  ///< [0] before the first retry, [i] after retry i
  std::vector<measure::sample> background;
  std::vector<double> retry_seconds;  ///< the wall time of each retry that ran
  double harness_seconds = 0;         ///< the harness's own share of those retries, in all
  std::size_t done = 0;               ///< retries run
  bool ceiling_hit = false;
  bool has_heap = true;        ///< heap fields are real (false: measured from outside)
  std::int64_t reclaimed = 0;  ///< heap bytes the final collection freed
  std::vector<runtime::retention> retained;  ///< what the garbage held, by path
  std::int64_t peak_rss = 0;
  std::optional<std::string> failure;        ///< why the benchmark failed, if it did
  std::optional<attempt_outcomes> outcomes;  ///< real workers only (not encoded: the model's
                                             ///< records have none)

  /// Makes room for `retries` retries now: growing the vectors while sampling would show
  /// as RSS growing by a sample per retry.
  void reserve(std::size_t retries);
  /// The highest RSS of any sample: the peak where VmHWM cannot be reset (it misses spikes
  /// shorter than the sampling interval).
  std::int64_t highest_sampled_rss() const;
};

/// The record as one JSON document (how a child leakbench hands it to its parent).
std::string encode_record(const run_record& r);

/// Parses encode_record()'s output; throws std::runtime_error on anything else.
run_record decode_record(const std::string& text);

}  // namespace leakbench::bench
