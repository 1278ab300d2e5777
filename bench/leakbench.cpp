// leakbench: every scenario against the leaky and the fixed AsyncIO middleware, as Google
// Benchmark benchmarks named <Scenario>/<variant>.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <system_error>
#include <vector>

#include "bench/gbench_flags.hpp"
#include "bench/interrupt.hpp"
#include "bench/options.hpp"
#include "bench/runner.hpp"
#include "bench/strict_json_reporter.hpp"
#include "harness/brokers/redis_broker.hpp"
#include "harness/measure/rss.hpp"
#include "harness/measure/settle.hpp"
#include "leakbench/version.hpp"
#include "scenarios/scenario.hpp"

namespace lb = leakbench::bench;

namespace {

// Google Benchmark's help names its own default program, "benchmark": print it as leakbench's.
void print_help() {
  std::fflush(stdout);
  std::FILE* captured = std::tmpfile();
  const int saved = ::dup(STDOUT_FILENO);
  if (captured == nullptr || saved < 0 || ::dup2(::fileno(captured), STDOUT_FILENO) < 0) {
    benchmark::PrintDefaultHelp();  // cannot capture: print it as it is
  } else {
    benchmark::PrintDefaultHelp();
    std::fflush(stdout);
    ::dup2(saved, STDOUT_FILENO);
    std::rewind(captured);
    std::string text;
    for (int c; (c = std::fgetc(captured)) != EOF;) text += static_cast<char>(c);
    // Same length as "benchmark ": the continuation lines stay aligned.
    if (text.starts_with("benchmark ")) text = "leakbench " + text.substr(10);
    std::fputs(text.c_str(), stdout);
  }
  if (saved >= 0) ::close(saved);
  if (captured != nullptr) std::fclose(captured);
  std::fputs(lb::options_help().c_str(), stdout);
}

/// --redis_cleanup: one line per leakbench prefix found; exit 0, or 3 if the server cannot be
/// used (the line names why).
int redis_cleanup(const leakbench::brokers::redis_url& url) {
  namespace rt = leakbench::runtime;
  namespace br = leakbench::brokers;
  try {
    const auto found = br::redis_broker::remove_dead_prefixes(url);
    for (const auto& p : found) {
      const std::string silent =
          p.silent_for ? fmt::format("last heartbeat {:.1f} s ago",
                                     static_cast<double>(p.silent_for->count()) / 1000.0)
                       : "no heartbeat";
      std::printf("%s %s: %zu keys, %s\n", p.removed ? "removed" : "kept (alive)", p.prefix.c_str(),
                  p.keys, silent.c_str());
    }
    if (found.empty()) std::printf("no leakbench keys on %s\n", url.describe().c_str());
    return 0;
  } catch (const br::broker_error& e) {
    std::fprintf(stderr, "leakbench: %s\n", e.what());
    return 3;
  }
}

}  // namespace

int main(int argc, char** argv) {
  lb::early_flags early;
  try {  // before Google Benchmark sees them: its answers to bad values are not ours
    early = lb::check_early_flags(std::vector<std::string_view>(argv + 1, argv + argc));
  } catch (const lb::usage_error& e) {
    std::fprintf(stderr, "leakbench: %s\n", e.what());
    return 2;
  }
  if (early.version && !early.help) {
    std::printf("leakbench %s (%s)\n", leakbench::k_version, leakbench::k_git_commit);
    return 0;
  }
  benchmark::Initialize(&argc, argv, print_help);
  lb::options opts;
  try {
    opts = lb::parse_options(std::vector<std::string_view>(argv + 1, argv + argc));
  } catch (const lb::usage_error& e) {
    std::fprintf(stderr, "leakbench: %s\n", e.what());
    return 2;
  }
  opts.repetitions = static_cast<std::size_t>(early.repetitions);
  if (opts.redis_cleanup) return redis_cleanup(*opts.redis_cleanup);
  // From here on a signal must not cut anything short: not the broker probe, not the JSON.
  lb::install_interrupt_handlers();

  if (opts.series_out) {
    std::error_code ec;  // find an unusable directory now, not after the whole run
    std::filesystem::create_directories(*opts.series_out, ec);
    if (ec || ::access(opts.series_out->c_str(), W_OK) != 0) {
      std::fprintf(stderr, "leakbench: --series_out=%s: cannot write there: %s\n",
                   opts.series_out->c_str(),
                   (ec ? ec : std::error_code(errno, std::generic_category())).message().c_str());
      return 2;
    }
  }
  if (opts.redis && !early.list_tests) {  // listing runs nothing: no broker needed
    try {
      leakbench::brokers::redis_broker probe(*opts.redis);  // unusable: say why, run nothing
    } catch (const leakbench::brokers::broker_error& e) {
      // One line that names the cause (e.cause()): "<url>: authentication refused (WRONGPASS
      // ...)", "<url>: unreachable (cannot connect: ...)", out of memory, killed connection.
      std::fprintf(stderr, "leakbench: %s\n", e.what());
      return 3;
    }
  }
  // RSS must reflect live data: large blocks go back to the kernel when freed (docs/counters.md).
  constexpr int k_mmap_threshold = 128 * 1024;
  if (!leakbench::measure::pin_mmap_threshold(k_mmap_threshold)) {
    std::fprintf(stderr, "leakbench: glibc refused to pin the mmap threshold\n");
    return 1;
  }
  if (const char* path = std::getenv("LEAKBENCH_CLEAR_REFS")) opts.clear_refs = path;
  opts.peak_resettable = leakbench::measure::reset_peak_rss(opts.clear_refs.c_str());
  if (!opts.peak_resettable) {
    std::fprintf(stderr,
                 "leakbench: cannot reset the peak RSS through %s (%s): peak_rss is the "
                 "maximum of samples every %lld ms instead\n",
                 opts.clear_refs.c_str(), std::strerror(errno),
                 static_cast<long long>(opts.sample_interval.count()));
  }
  benchmark::AddCustomContext("peak_rss_source",
                              opts.peak_resettable
                                  ? "VmHWM, reset before each benchmark"
                                  : fmt::format("sampled every {} ms ({} cannot be written)",
                                                opts.sample_interval.count(), opts.clear_refs));
  benchmark::AddCustomContext("malloc_mmap_threshold", std::to_string(k_mmap_threshold));
  benchmark::AddCustomContext("leakbench_version", leakbench::k_version);
  benchmark::AddCustomContext("git_commit", leakbench::k_git_commit);
  benchmark::AddCustomContext("payload", std::to_string(opts.scenario.payload));
  benchmark::AddCustomContext("retries", std::to_string(opts.retries));
  benchmark::AddCustomContext("warmup", std::to_string(opts.warmup));
  benchmark::AddCustomContext("gc", opts.gc.to_string());
  benchmark::AddCustomContext("broker", opts.broker);
  benchmark::AddCustomContext("concurrency", std::to_string(opts.scenario.concurrency));
  benchmark::AddCustomContext("depth", std::to_string(opts.scenario.depth));
  benchmark::AddCustomContext("max_rss", std::to_string(opts.max_rss));
  benchmark::AddCustomContext("inject_leak", std::to_string(opts.inject_leak));

  const auto scenarios = leakbench::scenarios::all();
  for (const auto& entry : scenarios) {
    for (lb::variant v : {lb::variant::leaky, lb::variant::fixed}) {
      benchmark::RegisterBenchmark(
          fmt::format("{}/{}", entry.name, lb::to_string(v)).c_str(),
          [&entry, v, &opts](benchmark::State& state) { lb::run_scenario(state, entry, v, opts); })
          ->Iterations(static_cast<benchmark::IterationCount>(opts.retries))
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond);
    }
  }
  // JSON, strictly: Google Benchmark's own reporter would write NaN for a _cv of a zero mean.
  lb::strict_json_reporter json_display, json_file;
  const std::size_t ran = benchmark::RunSpecifiedBenchmarks(
      early.format == "json" ? &json_display : nullptr,
      early.out && early.out_format == "json" ? &json_file : nullptr);
  benchmark::Shutdown();
  if (const int sig = lb::interrupted()) return 128 + sig;  // 130 for SIGINT, 143 for SIGTERM
  if (ran == 0) {
    std::fprintf(stderr, "leakbench: no benchmark matches --benchmark_filter=%s\n",
                 benchmark::GetBenchmarkFilter().c_str());
    return 2;
  }
  return lb::any_benchmark_failed() ? 1 : 0;
}
