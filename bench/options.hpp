#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "harness/brokers/redis_connection.hpp"
#include "harness/measure/rss.hpp"
#include "harness/runtime/gc.hpp"
#include "scenarios/scenario.hpp"

namespace leakbench::bench {

/// A bad command-line flag; what() is the one line to print. leakbench exits with 2.
class usage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// What the benchmarks run against.
enum class target_kind {
  model,     ///< leakbench's C++ model of the worker
  dramatiq,  ///< a real Dramatiq worker process, driven over Redis and measured from outside
};

/// A real worker's variant: its name in benchmark names, and where its `dramatiq` package is
/// (empty: whatever the interpreter imports, the variant `installed`).
struct dramatiq_variant {
  std::string name;
  std::string dir;                 ///< --dramatiq=NAME=DIR: the folder holding `dramatiq`
  std::vector<std::string> paths;  ///< --variant=NAME=PATH[:PATH...]: PYTHONPATH first
};

/// --message=ACTOR[:JSON]: one benchmark `<name>/<variant>` sending the app's actor these
/// arguments on every retry.
struct app_message {
  std::string name;   ///< the benchmark's: the actor's, `#2`, `#3`... for the same actor again
  std::string actor;  ///< as the app declares it
  std::string args;   ///< {"args": [...], "kwargs": {...}}, compact JSON
};

/// leakbench's own flags (Google Benchmark's are parsed before these).
struct options {
  target_kind target = target_kind::model;
  std::vector<dramatiq_variant> dramatiq;   ///< --dramatiq=NAME=DIR and --variant, in order
  std::optional<std::string> app;           ///< --app=SPEC: the team's app, its broker and actors
  std::vector<app_message> messages;        ///< --message, in order
  std::vector<std::string> ignore_threads;  ///< --ignore_threads: never waited on to sleep
  std::optional<std::string> python;        ///< --python: the real worker's interpreter
  bool python_gc = false;                   ///< --gc=python: CPython's collector as it is
  /// How long one attempt (one round) may take before the benchmark fails.
  std::chrono::seconds attempt_timeout{120};
  std::chrono::milliseconds worker_timeout{1000};  ///< Dramatiq's worker_timeout, real workers
  std::string broker_url;  ///< --broker as given (password and all): what a real worker gets
  std::string console =
      "leakbench";  ///< --console: leakbench's own, or gbench (Google Benchmark's)
  scenarios::config scenario;
  std::size_t retries = 20;  ///< iterations per benchmark: retries (rounds for Concurrent)
  std::size_t warmup = 2;    ///< leading retries left out of the fit
  runtime::gc_policy gc;
  std::string broker = "memory";            ///< as given, for the JSON context (password masked)
  std::optional<brokers::redis_url> redis;  ///< set when --broker is a redis:// URL
  std::int64_t max_rss = 0;                 ///< bytes; 0 until resolved from MemAvailable
  std::optional<std::filesystem::path> series_out;
  std::chrono::milliseconds sample_interval{10};
  std::size_t inject_leak = 0;  ///< bytes every attempt keeps until its worker stops; 0: off
  /// Where the peak is reset before each benchmark (LEAKBENCH_CLEAR_REFS overrides it, for
  /// tests); when that fails, peak_rss is the background sampler's maximum instead.
  std::string clear_refs = measure::k_clear_refs;
  bool peak_resettable = true;  ///< found at start-up
  std::size_t repetitions = 1;  ///< --benchmark_repetitions, for per-repetition file names
  /// --redis_cleanup: remove what killed runs left on this server, run nothing else.
  std::optional<brokers::redis_url> redis_cleanup;
  /// The flags as given, in order: what a benchmark's child leakbench is started with.
  std::vector<std::string> given;
  /// What leakbench decided for the user and should say (one line each), e.g. a shorter warm-up.
  std::vector<std::string> notes;
};

/// Parses `--name=value` flags; throws usage_error on an unknown flag or a bad value.
options parse_options(const std::vector<std::string_view>& args);

/// The help text for leakbench's own flags.
std::string options_help();

/// Parses a size as every leakbench tool does (reports/results/units.hpp: decimals, B to TiB,
/// one optional space, whole bytes only, no sign), up to 2^62 bytes; usage_error otherwise.
std::int64_t parse_size(std::string_view text);

/// "32.0 MiB"-style rendering of a byte count.
std::string format_size(double bytes);

/// The default memory ceiling: current RSS plus three quarters of MemAvailable.
std::int64_t default_max_rss();

}  // namespace leakbench::bench
