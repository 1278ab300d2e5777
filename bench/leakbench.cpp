// leakbench: every scenario against the leaky and the fixed AsyncIO middleware, as Google
// Benchmark benchmarks named <Scenario>/<variant>.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string_view>
#include <system_error>
#include <vector>

#include "bench/app_message.hpp"
#include "bench/console_reporter.hpp"
#include "bench/dramatiq_target.hpp"
#include "bench/gbench_flags.hpp"
#include "bench/interrupt.hpp"
#include "bench/model_target.hpp"
#include "bench/options.hpp"
#include "bench/reporters.hpp"
#include "bench/runner.hpp"
#include "bench/strict_json_reporter.hpp"
#include "common/output_file.hpp"
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
  if (argc > 1 && std::string_view(argv[1]).starts_with(lb::k_child_flag)) {
    // One benchmark in a fresh process, started by a leakbench parent (bench/model_target.cpp).
    return lb::child_main(std::string_view(argv[1]).substr(lb::k_child_flag.size()),
                          std::vector<std::string_view>(argv + 2, argv + argc));
  }
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
  const std::vector<std::string_view> given(argv + 1, argv + argc);
  // Google Benchmark never opens --benchmark_out itself: leakbench writes it whole, or not at all.
  std::vector<std::string> gb_args = lb::gbench_arguments(given);
  gb_args.insert(gb_args.begin(), argv[0]);
  std::vector<char*> gb_argv;
  for (auto& a : gb_args) gb_argv.push_back(a.data());
  int gb_argc = static_cast<int>(gb_argv.size());
  gb_argv.push_back(nullptr);
  benchmark::Initialize(&gb_argc, gb_argv.data(), print_help);
  lb::options opts;
  try {
    opts = lb::parse_options(
        std::vector<std::string_view>(gb_argv.begin() + 1, gb_argv.begin() + gb_argc));
  } catch (const lb::usage_error& e) {
    std::fprintf(stderr, "leakbench: %s\n", e.what());
    return 2;
  }
  lb::rename_clashing_messages(opts);
  opts.repetitions = static_cast<std::size_t>(early.repetitions);
  for (const auto& note : opts.notes) std::fprintf(stderr, "leakbench: %s\n", note.c_str());
  if (opts.redis_cleanup) return redis_cleanup(*opts.redis_cleanup);
  // From here on a signal must not cut anything short: not the broker probe, not the JSON.
  lb::install_interrupt_handlers();
  // A FIFO with no reader yet: a signal ends the wait for one, as it ends a run.
  leakbench::common::set_output_cancel([] { return lb::interrupted() != 0; });

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
  // A real worker that died has closed its pipes: writing to them must be an error, not death.
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGXFSZ, SIG_IGN);  // a file past the size limit: a failed write, said and exited
  const bool real = opts.target == lb::target_kind::dramatiq;
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
  if (const char* path = std::getenv("LEAKBENCH_CLEAR_REFS")) opts.clear_refs = path;
  opts.peak_resettable = leakbench::measure::reset_peak_rss(opts.clear_refs.c_str());
  if (!opts.peak_resettable) {
    std::fprintf(stderr,
                 "leakbench: cannot reset the peak RSS through %s (%s): peak_rss is the "
                 "maximum of samples every %lld ms instead\n",
                 opts.clear_refs.c_str(), std::strerror(errno),
                 static_cast<long long>(opts.sample_interval.count()));
  }
  std::unique_ptr<lb::target> target;
  std::vector<std::string> variants;
  std::map<std::string, std::string> ctx;  // the JSON context, and what the console shows
  if (!real) {
    target = std::make_unique<lb::model_target>();
    variants = target->variants();
  } else if (early.list_tests) {  // the names only: no interpreter, no broker
    for (const auto& v : opts.dramatiq) variants.push_back(v.name);
  } else {
    try {
      auto t = std::make_unique<lb::dramatiq_target>(opts);
      std::fprintf(stderr, "leakbench: python: %s (%s)\n", t->python().c_str(),
                   t->python_reason().c_str());
      ctx.emplace("python", t->python());
      ctx.emplace("python_choice", t->python_reason());
      ctx.emplace("worker_environment", t->worker_environment_summary());
      ctx.emplace("worker_timeout_ms", std::to_string(opts.worker_timeout.count()));
      for (const auto& v : t->info()) {
        const auto key = [&](const char* what) {
          return fmt::format("dramatiq.{}.{}", v.name, what);
        };
        ctx.emplace(key("version"), v.dramatiq_version);
        ctx.emplace(key("dir"), v.dir.empty() ? v.dramatiq_file : v.dir);
        ctx.emplace(key("commit"), v.dramatiq_commit);
        ctx.emplace(key("python"), v.python_version);
        ctx.emplace(key("broker_class"), v.broker_class);
        ctx.emplace(key("broker_url"), v.broker_url);
        if (!v.paths.empty()) ctx.emplace(key("paths"), fmt::format("{}", fmt::join(v.paths, ":")));
        if (opts.app) {
          ctx.emplace(key("app"), *opts.app);
          ctx.emplace(key("app_file"), v.app_file);
          ctx.emplace(key("asyncio_added"), v.asyncio_added ? "yes" : "no");
        }
      }
      if (opts.app) ctx.emplace("app", *opts.app);
      for (const auto& m : opts.messages) {
        ctx.emplace(fmt::format("message.{}", m.name), fmt::format("{} {}", m.actor, m.args));
      }
      variants = t->variants();
      target = std::move(t);
    } catch (const lb::setup_error& e) {
      std::fprintf(stderr, "leakbench: %s\n", e.what());
      return e.exit_code;
    }
  }
  ctx.emplace("target", real ? "dramatiq" : "model");
  const char* peak_source =
      real ? "VmHWM of the worker, reset after its start-up" : "VmHWM, reset before each benchmark";
  ctx.emplace("peak_rss_source", opts.peak_resettable
                                     ? peak_source
                                     : fmt::format("sampled every {} ms ({} cannot be written)",
                                                   opts.sample_interval.count(), opts.clear_refs));
  if (!real) {
    ctx.emplace("malloc_mmap_threshold", "131072");
    ctx.emplace("malloc_tuning", lb::model_malloc_tuning());
  }
  ctx.emplace("leakbench_version", leakbench::k_version);
  ctx.emplace("git_commit", leakbench::k_git_commit);
  ctx.emplace("payload", std::to_string(opts.scenario.payload));
  ctx.emplace("retries", std::to_string(opts.retries));
  ctx.emplace("warmup", std::to_string(opts.warmup));
  ctx.emplace("gc", opts.python_gc ? "python" : opts.gc.to_string());
  ctx.emplace("broker", opts.broker);
  ctx.emplace("concurrency", std::to_string(opts.scenario.concurrency));
  ctx.emplace("depth", std::to_string(opts.scenario.depth));
  ctx.emplace("max_rss", std::to_string(opts.max_rss));
  ctx.emplace("inject_leak", std::to_string(opts.inject_leak));
  ctx.emplace("attempt_timeout", std::to_string(opts.attempt_timeout.count()));
  for (const auto& [key, value] : ctx) benchmark::AddCustomContext(key, value);

  auto scenarios = leakbench::scenarios::all();
  for (auto& m : lb::message_entries(opts)) scenarios.push_back(std::move(m));
  for (const auto& entry : scenarios) {
    for (const auto& v : variants) {
      auto* benchmark =
          benchmark::RegisterBenchmark(fmt::format("{}/{}", entry.name, v).c_str(),
                                       [&entry, &v, &opts, &target](benchmark::State& state) {
                                         lb::run_scenario(state, *target, entry, v, opts);
                                       })
              ->Iterations(static_cast<benchmark::IterationCount>(opts.retries))
              ->UseManualTime();
      if (!early.time_unit) benchmark->Unit(benchmark::kMillisecond);
    }
  }
  // JSON, strictly: Google Benchmark's own reporter would write NaN for a _cv of a zero mean.
  const auto display =
      early.format == "console" && opts.console == "leakbench"
          ? std::make_unique<lb::console_reporter>(lb::describe_run(ctx, variants), ctx,
                                                   lb::use_color(early))
          : lb::make_gbench_reporter(early.format, lb::use_color(early), early.tabular);
  lb::line_filter quiet(std::cerr, {"***WARNING*** Library was built as DEBUG",
                                    "Failed to match any benchmarks against regex"});
  std::ostream display_errors(&quiet);
  display->SetErrorStream(&display_errors);
  std::ostringstream file_text;
  const auto file = early.out ? lb::make_gbench_reporter(early.out_format, false, false) : nullptr;
  if (file) {
    file->SetOutputStream(&file_text);
    file->SetErrorStream(&file_text);
  }
  lb::tee_reporter tee(*display, file.get());
  tee.SetErrorStream(&display_errors);  // where Google Benchmark says it matched nothing
  const std::size_t ran = benchmark::RunSpecifiedBenchmarks(&tee);
  benchmark::Shutdown();
  display_errors.flush();
  std::cout.flush();
  if (!std::cout) {
    std::fprintf(stderr, "leakbench: cannot write standard output: %s\n", std::strerror(errno));
    return 5;
  }
  if (ran > 0 && file) {
    try {
      leakbench::common::write_output(early.out_path, file_text.str());
    } catch (const leakbench::common::output_error& e) {
      std::fprintf(stderr, "leakbench: %s\n", e.what());
      if (const int sig = lb::interrupted()) return 128 + sig;  // no reader came: stopped
      return 5;
    }
  }
  if (const int sig = lb::interrupted()) return 128 + sig;  // 130 for SIGINT, 143 for SIGTERM
  if (ran == 0) {
    std::fprintf(stderr, "leakbench: no benchmark matches --benchmark_filter=%s\n",
                 benchmark::GetBenchmarkFilter().c_str());
    return 2;
  }
  return lb::any_benchmark_failed() ? 1 : 0;
}
