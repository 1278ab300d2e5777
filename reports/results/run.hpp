#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reports/results/json_text.hpp"

namespace leakbench::reports {

/// One row of a Google Benchmark JSON's "benchmarks" array.
struct benchmark_row {
  std::string name;            ///< as written: "Nested/fixed/iterations:20/manual_time"
  std::string key;             ///< the benchmark it measures: "Nested/fixed" (see benchmark_key)
  bool aggregate = false;      ///< run_type "aggregate": mean, median, stddev, cv of repetitions
  std::string aggregate_name;  ///< for aggregates
  std::int64_t repetition_index = 0;
  std::int64_t repetitions = 1;
  bool error_occurred = false;
  std::string error_message;
  std::string label;
  std::string time_unit;  ///< of real_time and cpu_time: "ns", "us", "ms" or "s"
  /// Every numeric field (the counters, real_time, iterations, ...), NaN and infinities kept.
  std::map<std::string, double, std::less<>> numbers;

  /// The numeric field `field`, if the row has one.
  std::optional<double> number(std::string_view field) const;
  /// How long the benchmark ran, in seconds: real_time x iterations in its time_unit.
  std::optional<double> seconds() const;
};

/// A Google Benchmark JSON report, such as leakbench writes.
struct run {
  std::string source;  ///< the file, as named in messages
  /// The context's scalar values as text (numbers as written, booleans as true/false).
  std::map<std::string, std::string, std::less<>> context;
  std::vector<benchmark_row> rows;  ///< in file order, aggregates included

  /// The context value `key`, if present.
  std::optional<std::string> context_value(std::string_view key) const;
  /// The context value `key` as a number, if present and numeric.
  std::optional<double> context_number(std::string_view key) const;
  /// The measured rows (every repetition), without aggregates, in file order.
  std::vector<const benchmark_row*> measured() const;
  /// The benchmarks' keys, in order of first appearance.
  std::vector<std::string> keys() const;
  /// The measured rows of benchmark `key`, in repetition order.
  std::vector<const benchmark_row*> repetitions_of(std::string_view key) const;
  /// What was measured: the context's `target`, "model" (leakbench's own worker) when absent,
  /// or "dramatiq" (a real worker process measured from outside).
  std::string target() const;
  /// Whether the run has heap counters: only a model run sees inside the worker's process.
  bool has_heap() const { return target() == "model"; }
};

/// Whether `counter` is read from the worker's heap (heap_per_retry, heap_ci95, ...,
/// reclaimed), which a run measured from outside the process does not have.
bool is_heap_counter(std::string_view counter);

/// What a leakbench run's context says of its configuration, one phrase each, in this order:
/// "leakbench 0.1.0 at <commit>", the date, "payload 1 MiB", then retries, warmup, gc, broker,
/// concurrency and depth as "<key> <value>" (only what the context holds), then
/// "inject_leak 64 KiB" and "target model" (their defaults when absent).
std::vector<std::string> describe_configuration(const run& r);

/// One variant of a real-Dramatiq run, as its context names it (dramatiq.NAME.*).
struct dramatiq_variant {
  std::string name;     ///< "leaky", "fixed", "installed", ...
  std::string version;  ///< Dramatiq's version
  std::string commit;   ///< may be empty
  std::string python;   ///< the Python version it ran under
  std::string dir;
};

/// The variants a run's context describes, in name order; none for a model run.
std::vector<dramatiq_variant> dramatiq_variants(const run& r);

/// "leaky: Dramatiq 1.15.0, installed: Dramatiq 1.17.1 at 4b3ef1a (Python 3.11.2)", or "".
std::string describe_variants(const run& r);

/// The benchmark a row measures: its run_name without Google Benchmark's run attributes
/// (iterations:, repeats:, min_time:, min_warmup_time:, manual_time, real_time, process_time);
/// threads:N stays, since it makes a different benchmark.
std::string benchmark_key(std::string_view run_name);

/// Reads a Google Benchmark JSON report from `text`; `source` names it in errors.
/// Throws input_error for an empty text, invalid or truncated JSON, or JSON that is not a
/// Google Benchmark report.
run parse_run(std::string_view text, std::string_view source);

/// parse_run on the content of `file` ("-": standard input).
run read_run(const std::string& file);

}  // namespace leakbench::reports
