// leakbench run as a user runs it, judged by its exit code, its stderr and its JSON.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness/measure/sanitizer.hpp"
#include "tests/bench/leakbench_process.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using leakbench::test::by_name;
using leakbench::test::line_count;
using leakbench::test::slurp;

namespace {

constexpr double k_mib = 1 << 20;
constexpr std::int64_t k_payload = 2 << 20;  // small: the whole suite stays far below 2 GiB

class leakbench_run : public ::testing::Test {
 protected:
  leakbench::test::leakbench_result run(std::vector<std::string> args) {
    return leakbench::test::run_leakbench(std::move(args), dir_.path());
  }
  leakbench::test::temp_dir dir_;
};

// Under a sanitizer, shadow memory and the free quarantine swamp RSS; the exact heap counter
// still holds, so only RSS assertions are skipped there.
constexpr bool k_rss_meaningful = !leakbench::measure::k_sanitized_malloc;

}  // namespace

// Per scenario: what leaky retains per retry, in payloads, and what holds it (the collector's
// walk of the real references; empty: nothing of the payload). The issue's table, from real
// Dramatiq 2.2.0 before the fix, for the six workarounds.
struct expectation {
  double multiple;
  std::string path;
};
const std::map<std::string, expectation>& scenario_table() {
  static const std::map<std::string, expectation> table = {
      {"Single", {1, "exc.payload"}},
      {"Nested", {2, "exc.payload and exc.__cause__.payload"}},
      {"Concurrent", {2.5, "exc.payload"}},
      {"LargeResult", {0, ""}},
      {"DeepTraceback", {1, "exc.__traceback__ -> frame deep_traceback() local 'data'"}},
      {"Generator", {1, "exc.__traceback__ -> frame buffer_chunks() local 'buffer'"}},
      {"ContextManager",
       {1, "exc.__traceback__ -> frame context_manager() local 'resource'.buffer"}},
      {"MetadataOnly", {1, "exc.__traceback__ -> frame metadata_only() local 'data'"}},
      {"LogAndRaise", {1, "exc.__traceback__ -> frame log_and_raise() local 'data'"}},
      {"RaiseFromNone", {1, "exc.__context__.payload"}},
      {"DelBeforeRaise", {0, ""}},
      {"ClearTraceback", {1, "exc.__context__.payload"}},
      {"ClearTracebackOutside", {0, ""}},
  };
  return table;
}

TEST_F(leakbench_run, meets_the_accuracy_targets_in_all_twenty_six_benchmarks) {
  const auto r = run({"--payload=2MiB", "--retries=12"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto benches = by_name(r.report);
  ASSERT_EQ(benches.size(), 26u);
  for (const auto& [scenario, row] : scenario_table()) {
    for (const std::string variant : {"leaky", "fixed"}) {
      const std::string name = scenario + "/" + variant;
      ASSERT_TRUE(benches.count(name)) << name << " missing";
      const json& b = benches.at(name);
      EXPECT_EQ(b.value("error_occurred", false), false)
          << name << ": " << b.value("error_message", "");
      const double expected = variant == "leaky" ? row.multiple * k_payload : 0.0;
      EXPECT_DOUBLE_EQ(b.at("expected_per_retry").get<double>(), expected) << name;
      EXPECT_EQ(b.at("retries").get<double>(), 12) << name;
      EXPECT_EQ(b.at("ceiling_hit").get<double>(), 0) << name;
      const double rss = b.at("rss_per_retry"), heap = b.at("heap_per_retry");
      const double reclaimed = b.at("reclaimed");
      if (expected > 0) {
        if (k_rss_meaningful) {
          EXPECT_NEAR(rss, expected, 0.03 * expected) << name << " rss_per_retry";
          EXPECT_GT(b.at("rss_r2").get<double>(), 0.99) << name;
        }
        EXPECT_NEAR(heap, expected, 0.005 * expected) << name << " heap_per_retry";
        EXPECT_GT(b.at("heap_r2").get<double>(), 0.99) << name;
        // The shutdown collection gives back every retry's retention.
        EXPECT_NEAR(reclaimed, 12 * heap, 0.005 * 12 * heap) << name;
        EXPECT_TRUE(b.at("label").get<std::string>().starts_with("retains ")) << name;
        EXPECT_TRUE(b.at("label").get<std::string>().ends_with(" per exception via " + row.path))
            << name << ": " << b.at("label");
      } else {
        if (k_rss_meaningful) {
          EXPECT_LT(std::abs(rss), 0.01 * k_payload) << name << " rss_per_retry";
        }
        EXPECT_LT(std::abs(heap), 0.01 * k_payload) << name << " heap_per_retry";
        // A failing leaky variant still keeps each exception's own small graph, not the data.
        const bool keeps_graph = variant == "leaky" && scenario != "LargeResult";
        EXPECT_EQ(reclaimed > 0, keeps_graph) << name;
        EXPECT_LT(reclaimed, 0.01 * 12 * k_payload) << name;
        EXPECT_EQ(b.at("label"), keeps_graph
                                     ? "retains only the exception's own objects, no data block"
                                     : "retains nothing")
            << name;
      }
    }
  }
}

TEST_F(leakbench_run, a_collector_every_n_attempts_turns_the_line_into_a_sawtooth) {
  // --gc=every:4: after retry r, (r mod 4) retries' worth is held; the 4th attempt's exception
  // is still held when its collection runs, so the peak reaches 4 retries' worth. The slope is
  // the least-squares slope of that sawtooth, about 0; expected_per_retry keeps the gc-off value.
  constexpr int n = 4, retries = 20, warmup = 2;
  const auto r = run({"--payload=2MiB", "--retries=20", "--gc=every:4",
                      "--benchmark_filter=Single/leaky|Nested/leaky"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  double sx = 0, sy = 0, sxx = 0, sxy = 0, m = 0;  // the ideal sawtooth's slope, in retries
  for (int x = warmup; x < retries; ++x) {
    const double y = (x + 1) % n;  // x is 0 at the sample after retry 1
    sx += x, sy += y, sxx += x * x, sxy += x * y, ++m;
  }
  const double sawtooth = (m * sxy - sx * sy) / (m * sxx - sx * sx);
  EXPECT_LT(std::abs(sawtooth), 0.1);
  const auto benches = by_name(r.report);
  ASSERT_EQ(benches.size(), 2u);
  for (const auto& [name, b] : benches) {
    const double e = b.at("expected_per_retry");
    EXPECT_EQ(e, (name == "Nested/leaky" ? 2 : 1) * k_payload) << name;
    EXPECT_NEAR(b.at("heap_per_retry").get<double>(), sawtooth * e, 0.005 * e) << name;
    if (k_rss_meaningful) {
      EXPECT_NEAR(b.at("rss_per_retry").get<double>(), sawtooth * e, 0.03 * e) << name;
      const double above = b.at("peak_rss").get<double>() - b.at("rss_start").get<double>();
      EXPECT_NEAR(above, n * e, 0.03 * n * e + 512 * 1024) << name;
    }
  }
}

TEST_F(leakbench_run, filter_selects_exactly_the_two_variants) {
  // A part of a name selects its scenario only: "FromNone" is RaiseFromNone's pair.
  for (const auto& [filter, scenario] :
       std::map<std::string, std::string>{{"Nested", "Nested"}, {"FromNone", "RaiseFromNone"}}) {
    const auto r = run({"--payload=256KiB", "--retries=4", "--benchmark_filter=" + filter});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto benches = by_name(r.report);
    ASSERT_EQ(benches.size(), 2u) << filter;
    EXPECT_TRUE(benches.count(scenario + "/leaky")) << filter;
    EXPECT_TRUE(benches.count(scenario + "/fixed")) << filter;
    EXPECT_EQ(benches.at(scenario + "/leaky").at("time_unit"), "ms");
    EXPECT_EQ(benches.at(scenario + "/leaky").at("iterations"), 4);
  }
}

TEST_F(leakbench_run, json_carries_every_counter_and_the_configuration) {
  const auto r = run({"--payload=256KiB", "--retries=4", "--gc=every:3", "--concurrency=2",
                      "--depth=5", "--benchmark_filter=Single/leaky"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json& ctx = r.report.at("context");
  EXPECT_EQ(ctx.at("payload"), "262144");
  EXPECT_EQ(ctx.at("retries"), "4");
  EXPECT_EQ(ctx.at("gc"), "every:3");
  EXPECT_EQ(ctx.at("broker"), "memory");
  EXPECT_EQ(ctx.at("concurrency"), "2");
  EXPECT_EQ(ctx.at("depth"), "5");
  EXPECT_FALSE(ctx.at("leakbench_version").get<std::string>().empty());
  EXPECT_FALSE(ctx.at("git_commit").get<std::string>().empty());
  const json& b = r.report.at("benchmarks").at(0);
  for (const char* counter : {"rss_per_retry", "rss_r2", "rss_ci95", "heap_per_retry", "heap_r2",
                              "heap_ci95", "expected_per_retry", "peak_rss", "retained",
                              "reclaimed", "retries", "payload", "ceiling_hit", "rss_start",
                              "rss_end", "rss_fit_start", "rss_theil_sen", "heap_theil_sen"}) {
    EXPECT_TRUE(b.contains(counter)) << counter;
  }
  // The collector ran after the third attempt: the fourth's payload (256 KiB) is still held at
  // the end, plus one-time warm-up (thread stacks, the first retry's bookkeeping), under 1 MiB.
  const double retained = b.at("retained");
  if (k_rss_meaningful) {
    EXPECT_GE(retained, 256 * 1024);
    EXPECT_LE(retained, 256 * 1024 + k_mib);
  }
}

TEST_F(leakbench_run, a_leaky_run_does_not_bleed_into_the_next_benchmark) {
  if (!k_rss_meaningful) GTEST_SKIP() << "RSS is dominated by sanitizer shadow memory";
  const auto alone = run({"--payload=4MiB", "--retries=8", "--benchmark_filter=Single/fixed"});
  ASSERT_EQ(alone.exit_code, 0) << alone.err;
  const auto after = run({"--payload=4MiB", "--retries=8", "--benchmark_filter=Single"});
  ASSERT_EQ(after.exit_code, 0) << after.err;
  const json a = by_name(alone.report).at("Single/fixed");
  const json b = by_name(after.report).at("Single/fixed");
  ASSERT_GT(by_name(after.report).at("Single/leaky").at("retained").get<double>(), 7 * 4 * k_mib)
      << "the leaky run before it must actually leak for this test to mean anything";
  // Within the fits' own uncertainty (plus one page), not within the 32 MiB the leaky run held.
  const double noise = a.at("rss_ci95").get<double>() + b.at("rss_ci95").get<double>() + 4096;
  EXPECT_NEAR(a.at("rss_per_retry"), b.at("rss_per_retry"), noise);
  EXPECT_NEAR(a.at("heap_per_retry"), b.at("heap_per_retry"), 64);
  EXPECT_NEAR(a.at("retained"), b.at("retained"), 1 * k_mib);
  EXPECT_NEAR(a.at("peak_rss"), b.at("peak_rss"), 4 * k_mib) << "the peak was not reset";
}

TEST_F(leakbench_run, memory_ceiling_stops_a_benchmark_and_the_run_goes_on) {
  if (!k_rss_meaningful) GTEST_SKIP() << "the ceiling is on RSS, which sanitizers inflate";
  const auto r =
      run({"--payload=8MiB", "--retries=30", "--max_rss=96MiB", "--benchmark_filter=Single"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto benches = by_name(r.report);
  const json& leaky = benches.at("Single/leaky");
  EXPECT_EQ(leaky.at("ceiling_hit"), 1);
  EXPECT_LT(leaky.at("retries").get<double>(), 30);
  EXPECT_GE(leaky.at("retries").get<double>(), 3);
  EXPECT_LE(leaky.at("peak_rss").get<double>(), 96 * k_mib);
  EXPECT_NEAR(leaky.at("rss_per_retry"), 8 * k_mib, 0.03 * 8 * k_mib)
      << "the retries it did still count";
  const json& fixed = benches.at("Single/fixed");
  EXPECT_EQ(fixed.at("ceiling_hit"), 0);
  EXPECT_EQ(fixed.at("retries"), 30);
}

TEST_F(leakbench_run, a_ceiling_after_two_retries_gives_a_slope_without_an_interval) {
  if (!k_rss_meaningful) GTEST_SKIP() << "the ceiling is on RSS, which sanitizers inflate";
  // 64 MiB per leaky retry from a start well under 48 MiB: the third retry would pass 176 MiB.
  // The report must stay strict JSON (parsed here by nlohmann, which rejects Infinity).
  const auto r = run(
      {"--payload=64MiB", "--retries=5", "--max_rss=176MiB", "--benchmark_filter=Single/leaky"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json leaky = by_name(r.report).at("Single/leaky");
  ASSERT_EQ(leaky.at("retries"), 2) << leaky.dump();
  EXPECT_EQ(leaky.at("ceiling_hit"), 1);
  EXPECT_NEAR(leaky.at("rss_per_retry"), 64 * k_mib, 0.03 * 64 * k_mib);
  EXPECT_FALSE(leaky.contains("rss_ci95")) << "a two-point fit has no interval";
  EXPECT_FALSE(leaky.contains("heap_ci95"));
  EXPECT_EQ(leaky.at("label"),
            "retains 64.0 MiB per exception via exc.payload; ceiling after 2 retries: no "
            "rss_ci95/heap_ci95, a confidence interval needs 3 points");
}

TEST_F(leakbench_run, a_ceiling_at_warmup_plus_two_retries_shortens_the_warmup_to_keep_three) {
  if (!k_rss_meaningful) GTEST_SKIP() << "the ceiling is on RSS, which sanitizers inflate";
  // 64 MiB per retry from a start well under 40 MiB: the fifth retry would pass 300 MiB, so the
  // run stops after 4 = warm-up 2 + 2. The fit keeps one retry of warm-up and three points: it
  // has an interval.
  const auto r = run(
      {"--payload=64MiB", "--retries=10", "--max_rss=300MiB", "--benchmark_filter=Single/leaky"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json leaky = by_name(r.report).at("Single/leaky");
  ASSERT_EQ(leaky.at("retries"), 4) << leaky.dump();
  EXPECT_EQ(leaky.at("ceiling_hit"), 1);
  EXPECT_TRUE(leaky.contains("rss_ci95")) << "three fitted points have an interval";
  EXPECT_TRUE(leaky.contains("heap_ci95"));
  EXPECT_EQ(leaky.at("label"), "retains 64.0 MiB per exception via exc.payload");
}

TEST_F(leakbench_run, a_ceiling_after_one_retry_fails_the_benchmark_saying_why) {
  if (!k_rss_meaningful) GTEST_SKIP() << "the ceiling is on RSS, which sanitizers inflate";
  const auto r = run(
      {"--payload=64MiB", "--retries=5", "--max_rss=112MiB", "--benchmark_filter=Single/leaky"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const json leaky = by_name(r.report).at("Single/leaky");
  EXPECT_EQ(leaky.at("error_occurred"), true);
  EXPECT_EQ(leaky.at("error_message"),
            "Single/leaky: memory ceiling 112.0 MiB reached after 1 retry: a slope needs at "
            "least 2; raise --max_rss or lower --payload");
}

TEST_F(leakbench_run, process_peak_rss_keeps_the_whole_runs_peak_across_resets) {
  // Each benchmark resets VmHWM (and with it what getrusage and /usr/bin/time see); the
  // process_peak_rss counter is the peak of every benchmark so far, never reset.
  const auto r = run({"--payload=4MiB", "--retries=6", "--benchmark_filter=Single"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto benches = by_name(r.report);
  const json leaky = benches.at("Single/leaky"), fixed = benches.at("Single/fixed");
  EXPECT_GE(leaky.at("process_peak_rss").get<double>(), leaky.at("peak_rss").get<double>());
  EXPECT_GE(fixed.at("process_peak_rss").get<double>(), leaky.at("peak_rss").get<double>())
      << "the fixed benchmark ran after the leaky one: the run's peak is the leaky peak";
  if (k_rss_meaningful) {
    EXPECT_LT(fixed.at("peak_rss").get<double>(), leaky.at("peak_rss").get<double>());
  }
}

TEST_F(leakbench_run, series_out_writes_every_retry_sample) {
  const fs::path series = dir_.path() / "series";
  const auto r = run({"--payload=256KiB", "--retries=5", "--benchmark_filter=Nested",
                      "--series_out=" + series.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto benches = by_name(r.report);
  for (const char* variant : {"leaky", "fixed"}) {
    const std::string file = fmt::format("Nested_{}.csv", variant);
    std::ifstream in(series / file);
    ASSERT_TRUE(in) << file;
    std::string line;
    std::getline(in, line);
    EXPECT_EQ(line, "kind,time_s,retry,rss_bytes,heap_bytes,malloc_heap_bytes");
    int background = 0;
    std::vector<double> rss;  // [r]: after retry r, [0] before the first
    while (std::getline(in, line)) {
      if (line.starts_with("retry,")) {
        std::vector<std::string> f;
        std::stringstream row(line);
        for (std::string cell; std::getline(row, cell, ',');) f.push_back(cell);
        ASSERT_EQ(f.size(), 6u) << line;
        EXPECT_EQ(std::stoul(f[2]), rss.size()) << line;
        rss.push_back(std::stod(f[3]));
      }
      background += line.starts_with("background,");
    }
    ASSERT_EQ(rss.size(), 6u) << file << ": the start plus one per retry";
    EXPECT_GE(background, 1) << file;
    // The JSON's start, end and fitted line are those of these samples: retries 3..5 after a
    // warm-up of 2, least squares against the retry number.
    const json& b = benches.at(fmt::format("Nested/{}", variant));
    EXPECT_EQ(b.at("rss_start").get<double>(), rss.front());
    EXPECT_EQ(b.at("rss_end").get<double>(), rss.back());
    const double mean_x = 4, mean_y = (rss[3] + rss[4] + rss[5]) / 3;
    const double slope = ((rss[3] - mean_y) * -1 + (rss[5] - mean_y) * 1) / 2;
    EXPECT_NEAR(b.at("rss_per_retry").get<double>(), slope, 1e-6 * (1 + std::abs(slope)));
    EXPECT_NEAR(b.at("rss_fit_start").get<double>(), mean_y - slope * mean_x, 1e-3);
  }
}

TEST_F(leakbench_run, inject_leak_adds_exactly_its_size_per_attempt) {
  // Fixed variants only, and no leaky run before them: a leaky run leaves arena pages resident
  // that the injected blocks would reuse, so RSS would read low (the heap counter would not).
  const std::vector<std::string> common = {"--payload=256KiB", "--retries=8",
                                           "--benchmark_filter=Single/fixed|Concurrent/fixed"};
  auto with = common;
  with.push_back("--inject_leak=64KiB");
  const auto clean = run(common);
  ASSERT_EQ(clean.exit_code, 0) << clean.err;
  EXPECT_EQ(clean.report.at("context").at("inject_leak"), "0");
  const auto injected = run(with);
  ASSERT_EQ(injected.exit_code, 0) << injected.err;
  EXPECT_EQ(injected.report.at("context").at("inject_leak"), "65536");
  for (const auto& [name, attempts] :
       std::map<std::string, double>{{"Single/fixed", 1}, {"Concurrent/fixed", 5}}) {
    const json a = by_name(clean.report).at(name), b = by_name(injected.report).at(name);
    const double leak = attempts * 64 * 1024;
    // Exact to the byte: samples are quiescent, and a fixed variant allocates nothing net.
    EXPECT_EQ(a.at("heap_per_retry").get<double>(), 0) << name;
    EXPECT_EQ(b.at("heap_per_retry").get<double>(), leak) << name;
    EXPECT_EQ(b.at("expected_per_retry"), 0) << name << ": an injected leak is never expected";
    if (k_rss_meaningful) {
      // RSS can read low, never high: the first blocks may land in free memory a worker
      // thread's arena kept resident (below the 128 KiB trim threshold; docs/counters.md). Over the
      // 6 fitted retries of 5 threads that absorbs at most about a fifth of Concurrent's leak.
      const double noise = a.at("rss_ci95").get<double>() + b.at("rss_ci95").get<double>() + 4096;
      const double grew = b.at("rss_per_retry").get<double>() - a.at("rss_per_retry").get<double>();
      EXPECT_LE(grew, leak + noise) << name;
      EXPECT_GE(grew, 0.75 * leak - noise) << name;
    }
  }
}

TEST_F(leakbench_run, the_rss_interval_covers_an_injected_leak_in_benchmarks_that_run_later) {
  if (!k_rss_meaningful) GTEST_SKIP() << "RSS is dominated by sanitizer shadow memory";
  // All 26 benchmarks, each fixed one after a leaky run: once, those that ran later in the
  // process read 13 to 35 KiB of this 40 KiB (the leaky run's freed memory absorbed it) with
  // intervals that missed the truth. The heap counter is exact: it is the truth.
  const auto r = run({"--payload=2MiB", "--retries=14", "--inject_leak=40KiB"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto benches = by_name(r.report);
  ASSERT_EQ(benches.size(), 26u);
  std::size_t fixed = 0;
  for (const auto& [name, b] : benches) {
    if (!name.ends_with("/fixed")) continue;
    ++fixed;
    const double truth = b.at("heap_per_retry"), rss = b.at("rss_per_retry");
    EXPECT_LE(std::abs(rss - truth), b.at("rss_ci95").get<double>())
        << name << ": " << rss << " B per retry, truly " << truth;
  }
  EXPECT_EQ(fixed, 13u);
}

TEST_F(leakbench_run, fixed_variants_keep_the_heap_still_to_the_byte_between_retries) {
  // Each sample is taken with every worker thread parked and the loop drained: nothing of an
  // attempt (its report, its delivery, a queue block) is still alive. Retries 11 to 40 carry
  // two-digit retry counts, so the messages keep their size and the model allocates nothing.
  const fs::path series = dir_.path() / "series";
  const auto r = run({"--payload=0", "--retries=40", "--warmup=10", "--benchmark_filter=/fixed",
                      "--series_out=" + series.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto benches = by_name(r.report);
  ASSERT_EQ(benches.size(), 13u);
  for (const auto& [name, b] : benches) {
    EXPECT_EQ(b.at("heap_per_retry").get<double>(), 0) << name;
    EXPECT_EQ(b.at("heap_ci95").get<double>(), 0) << name;
    std::string file = name;
    std::replace(file.begin(), file.end(), '/', '_');
    std::ifstream in(series / (file + ".csv"));
    ASSERT_TRUE(in) << file;
    std::vector<long long> heap;  // [r]: after retry r
    for (std::string line; std::getline(in, line);) {
      if (!line.starts_with("retry,")) continue;
      std::vector<std::string> f;
      std::stringstream row(line);
      for (std::string cell; std::getline(row, cell, ',');) f.push_back(cell);
      heap.push_back(std::stoll(f.at(4)));
    }
    ASSERT_EQ(heap.size(), 41u) << name;
    for (std::size_t i = 12; i < heap.size(); ++i) {
      EXPECT_EQ(heap[i] - heap[i - 1], 0) << name << ": retry " << i;
    }
  }
}

TEST_F(leakbench_run, falls_back_to_the_sampled_peak_when_the_peak_cannot_be_reset) {
  // Where clear_refs cannot be written, VmHWM is the process's lifetime peak: a fixed
  // benchmark after a leaky one would report the leaky peak. leakbench says so and samples.
  struct env_guard {
    env_guard() { ::setenv("LEAKBENCH_CLEAR_REFS", "/nonexistent/clear_refs", 1); }
    ~env_guard() { ::unsetenv("LEAKBENCH_CLEAR_REFS"); }
  } const guard;
  const auto r = run({"--payload=4MiB", "--retries=6", "--benchmark_filter=Single"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string said = "leakbench: cannot reset the peak RSS through /nonexistent/clear_refs";
  const auto first = r.err.find(said);
  EXPECT_NE(first, std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(said, first + 1), std::string::npos) << "said more than once: " << r.err;
  EXPECT_EQ(r.report.at("context").at("peak_rss_source"),
            "sampled every 10 ms (/nonexistent/clear_refs cannot be written)");
  const auto benches = by_name(r.report);
  const json &leaky = benches.at("Single/leaky"), &fixed = benches.at("Single/fixed");
  for (const json* b : {&leaky, &fixed}) {
    EXPECT_GE(b->at("peak_rss").get<double>(), b->at("rss_end").get<double>());
  }
  if (k_rss_meaningful) {
    // The leaky run peaked about 6 payloads up; the fixed one must not report that peak.
    EXPECT_LT(fixed.at("peak_rss").get<double>(),
              leaky.at("peak_rss").get<double>() - 3 * 4 * k_mib);
  }
}

TEST_F(leakbench_run, sigint_stops_at_a_retry_boundary_and_leaves_valid_json_of_what_ran) {
  // Long enough that the signal lands mid-run: Single/leaky finishes first (its console row
  // is printed), then Single/fixed is running.
  leakbench::test::leakbench_process p(
      {"--payload=0", "--retries=4000", "--benchmark_filter=Single|Nested"}, dir_.path());
  while (p.console().find("Single/leaky ") == std::string::npos) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // ordering only
  }
  p.signal(SIGINT);
  const auto r = p.wait();
  EXPECT_EQ(r.exit_code, 130) << r.err;
  EXPECT_NE(r.err.find("leakbench: interrupted: stopping at the next retry boundary"),
            std::string::npos)
      << r.err;
  ASSERT_FALSE(r.report.is_null()) << "the JSON was cut off: " << r.err;
  const auto benches = by_name(r.report);
  ASSERT_TRUE(benches.count("Single/leaky"));
  EXPECT_FALSE(benches.at("Single/leaky").value("error_occurred", false)) << "it had finished";
  EXPECT_EQ(benches.at("Single/leaky").at("retries"), 4000);
  // The one running at the signal ends at a retry boundary, as an error saying so; what had
  // not started is left out.
  std::size_t interrupted = 0;
  for (const auto& [name, b] : benches) {
    if (!b.value("error_occurred", false)) continue;
    ++interrupted;
    EXPECT_NE(b.at("error_message").get<std::string>().find("interrupted by SIGINT after"),
              std::string::npos)
        << name << ": " << b.at("error_message");
  }
  EXPECT_LE(interrupted, 1u);
  EXPECT_FALSE(benches.count("Nested/fixed")) << "never started, never reported";
}

TEST_F(leakbench_run, the_console_is_one_row_per_benchmark_within_120_columns_and_its_label) {
  leakbench::test::leakbench_process p(
      {"--payload=1MiB", "--retries=4", "--benchmark_filter=Nested"}, dir_.path());
  const auto r = p.wait();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string out = p.console();
  std::istringstream lines(out);
  std::vector<std::string> rows;
  for (std::string line; std::getline(lines, line);) {
    EXPECT_LE(line.size(), 120u) << line;
    rows.push_back(line);
  }
  ASSERT_EQ(rows.size(), 7u) << out;  // configuration, blank, heading, two rows and two labels
  EXPECT_TRUE(rows[0].starts_with("leakbench ")) << rows[0];
  EXPECT_NE(rows[0].find("payload 1 MiB"), std::string::npos) << rows[0];
  EXPECT_TRUE(rows[2].starts_with("benchmark")) << rows[2];
  EXPECT_NE(rows[2].find("RSS/retry ± 95%"), std::string::npos);
  EXPECT_TRUE(rows[3].starts_with("Nested/leaky ")) << rows[3];
  EXPECT_NE(rows[3].find("2 MiB"), std::string::npos) << "expected, in IEC units: " << rows[3];
  // Severity reads RSS, which a sanitizer's shadow memory and quarantine swamp.
  if (k_rss_meaningful) {
    EXPECT_TRUE(rows[3].ends_with("catastrophic")) << rows[3];
  }
  EXPECT_EQ(rows[4], "    retains 2.0 MiB per exception via exc.payload and exc.__cause__.payload");
  EXPECT_TRUE(rows[5].starts_with("Nested/fixed ")) << rows[5];
  if (k_rss_meaningful) {
    EXPECT_TRUE(rows[5].ends_with("none")) << rows[5];
  }
  EXPECT_EQ(rows[6], "    retains nothing");
  EXPECT_EQ(out.find("\033["), std::string::npos) << "no colour when not a terminal";
  EXPECT_EQ(r.err.find("Library was built as DEBUG"), std::string::npos) << r.err;
}

TEST_F(leakbench_run, a_configuration_too_long_for_120_columns_goes_on_an_indented_line) {
  const auto r = run(
      {"--payload=64KiB", "--retries=3", "--benchmark_filter=Single/fixed", "--inject_leak=8KiB"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string out = slurp(dir_.path() / "stdout.txt");
  std::istringstream lines(out);
  std::vector<std::string> rows;
  for (std::string line; std::getline(lines, line);) {
    const auto columns = std::count_if(line.begin(), line.end(),
                                       [](char c) { return (c & 0xC0) != 0x80; });  // UTF-8
    EXPECT_LE(columns, 120) << line;
    rows.push_back(line);
  }
  ASSERT_GE(rows.size(), 2u) << out;
  EXPECT_TRUE(rows[0].starts_with("leakbench ")) << rows[0];
  EXPECT_TRUE(rows[0].ends_with(" · broker memory")) << rows[0];
  EXPECT_EQ(rows[1], "  injected leak 8 KiB per attempt") << out;
}

TEST_F(leakbench_run, google_benchmarks_console_is_one_flag_away_and_colour_is_asked_for) {
  const auto gbench = run(
      {"--payload=256KiB", "--retries=3", "--benchmark_filter=Single/fixed", "--console=gbench"});
  ASSERT_EQ(gbench.exit_code, 0) << gbench.err;
  const std::string gb_out = slurp(dir_.path() / "stdout.txt");
  EXPECT_NE(gb_out.find("Single/fixed/iterations:3/manual_time"), std::string::npos) << gb_out;
  EXPECT_EQ(gbench.err.find("Library was built as DEBUG"), std::string::npos) << gbench.err;
  const auto colour = run({"--payload=256KiB", "--retries=3", "--benchmark_filter=Single/fixed",
                           "--benchmark_color=true"});
  ASSERT_EQ(colour.exit_code, 0) << colour.err;
  EXPECT_TRUE(
      std::regex_search(slurp(dir_.path() / "stdout.txt"),
                        std::regex("\033\\[[0-9;]+m(none|low|critical|catastrophic)\033\\[0m")));
}

TEST_F(leakbench_run, a_second_signal_exits_at_once_and_leaves_the_previous_json) {
  // One retry of 512 MiB takes seconds here: the first signal would wait for its end, the
  // second does not. The JSON of the run before stays as it was: nothing half-written.
  const std::string previous = R"({"benchmarks": []})";
  std::ofstream(dir_.path() / "out.json") << previous;
  leakbench::test::leakbench_process p(
      {"--payload=512MiB", "--retries=3", "--benchmark_filter=Single/leaky"}, dir_.path(), {},
      /*keep_out=*/true);
  // leakbench's console prints its table's header once running, after it installed its
  // handlers.
  while (p.console().find("time/retry") == std::string::npos) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // Two different signals back to back: both are delivered (two of one kind could merge).
  p.signal(SIGINT);
  p.signal(SIGTERM);
  const auto r = p.wait();
  // 128 + the second signal, whichever of the two threads' handlers ran second.
  EXPECT_TRUE(r.exit_code == 130 || r.exit_code == 143) << r.exit_code << ": " << r.err;
  EXPECT_NE(r.err.find("leakbench: interrupted again: exiting now"), std::string::npos) << r.err;
  EXPECT_EQ(slurp(dir_.path() / "out.json"), previous);
}

TEST_F(leakbench_run, an_output_that_cannot_be_written_is_one_line_and_exit_5) {
  const auto full =
      leakbench::test::run_process(LEAKBENCH_EXE,
                                   {"--payload=64KiB", "--retries=3",
                                    "--benchmark_filter=Single/fixed", "--benchmark_out=/dev/full"},
                                   dir_.path());
  EXPECT_EQ(full.exit_code, 5) << full.err;
  EXPECT_NE(full.err.find("leakbench: cannot write /dev/full: No space left on device"),
            std::string::npos)
      << full.err;
}

TEST_F(leakbench_run, a_file_too_large_to_write_leaves_the_previous_one_whole) {
  // RLIMIT_FSIZE makes every write past 2 KiB fail (EFBIG), as a full disk would: the JSON of
  // the run before must survive, not be replaced by a truncated one.
  const auto out = dir_.path() / "out.json";
  const std::string previous = R"({"benchmarks": []})";
  std::ofstream(out) << previous;
  rlimit saved{};
  ::getrlimit(RLIMIT_FSIZE, &saved);
  rlimit small = saved;
  small.rlim_cur = 2048;
  ::setrlimit(RLIMIT_FSIZE, &small);  // inherited by the process started next
  leakbench::test::leakbench_process p(
      {"--payload=64KiB", "--retries=3", "--benchmark_filter=Single/fixed"}, dir_.path(), {},
      /*keep_out=*/true);
  ::setrlimit(RLIMIT_FSIZE, &saved);
  const auto r = p.wait();
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_NE(r.err.find("leakbench: cannot write " + out.string() + ": File too large"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(slurp(out), previous);
  for (const auto& f : fs::directory_iterator(dir_.path())) {
    EXPECT_FALSE(f.path().filename().string().starts_with(".out.json.")) << "a temporary left";
  }
}

TEST_F(leakbench_run, sigint_ends_the_wait_for_a_fifo_reader_with_130) {
  // --benchmark_out to a FIFO nobody reads: the run ends, then waits for a reader; a signal
  // ends that wait too (a blocking open would be restarted by the handler and wait forever).
  const auto fifo = dir_.path() / "out.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  leakbench::test::child_process p(
      LEAKBENCH_EXE,
      {"--benchmark_filter=Single/fixed", "--payload=64KiB", "--retries=3",
       "--benchmark_out=" + fifo.string(), "--benchmark_out_format=json"},
      "/dev/null", (dir_.path() / "stdout.txt").string(), (dir_.path() / "stderr.txt").string());
  for (int i = 0;
       i < 3000 && slurp(dir_.path() / "stdout.txt").find("Single/fixed") == std::string::npos;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_NE(slurp(dir_.path() / "stdout.txt").find("Single/fixed"), std::string::npos)
      << slurp(dir_.path() / "stderr.txt");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // now in the wait
  p.signal(SIGINT);
  EXPECT_EQ(p.wait(), 130);
  const std::string err = slurp(dir_.path() / "stderr.txt");
  EXPECT_NE(err.find("leakbench: cannot write " + fifo.string() +
                     ": interrupted while waiting for a reader\n"),
            std::string::npos)
      << err;
  struct stat st {};
  ASSERT_EQ(::lstat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode)) << "still a FIFO";
}

TEST_F(leakbench_run, a_benchmark_out_that_is_a_symlink_is_written_through_and_stays_a_link) {
  // out.json -> runs/2026-12-07.json, as a CI keeps its history: the run lands in the target.
  fs::create_directories(dir_.path() / "runs");
  std::ofstream(dir_.path() / "runs/2026-12-07.json") << R"({"benchmarks": []})";
  fs::create_symlink("runs/2026-12-07.json", dir_.path() / "out.json");
  leakbench::test::leakbench_process p(
      {"--payload=64KiB", "--retries=3", "--benchmark_filter=Single/fixed"}, dir_.path(), {},
      /*keep_out=*/true);
  const auto r = p.wait();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::is_symlink(dir_.path() / "out.json"));
  EXPECT_EQ(fs::read_symlink(dir_.path() / "out.json"), "runs/2026-12-07.json");
  const auto target = json::parse(slurp(dir_.path() / "runs/2026-12-07.json"), nullptr, false);
  ASSERT_FALSE(target.is_discarded());
  const auto benches = by_name(target);
  EXPECT_EQ(benches.size(), 1u) << target.dump();
  EXPECT_EQ(benches.count("Single/fixed"), 1u) << target.dump();
}

TEST_F(leakbench_run, a_filter_matching_nothing_says_so_once_and_keeps_the_previous_json) {
  const std::string previous = R"({"benchmarks": []})";
  std::ofstream(dir_.path() / "out.json") << previous;
  leakbench::test::leakbench_process p({"--benchmark_filter=NoSuchScenario"}, dir_.path(), {},
                                       /*keep_out=*/true);
  const auto r = p.wait();
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "leakbench: no benchmark matches --benchmark_filter=NoSuchScenario\n");
  EXPECT_EQ(slurp(dir_.path() / "out.json"), previous);
}

TEST_F(leakbench_run, bad_flags_give_one_line_and_exit_code_2) {
  for (const char* bad :
       {"--payload=abc", "--retries=0", "--gc=sometimes", "--frobnicate=1",
        "--series_out=/proc/self/no_such_dir", "--max_rss=0",
        // Google Benchmark's own, checked before it sees them: it would
        // print its help (exit 0), abort (134), run nothing (exit 0) or fail
        // only after the run.
        "--benchmark_format=xml", "--benchmark_out_format=yaml", "--benchmark_repetitions=-3",
        "--benchmark_repetitions=0", "--benchmark_out=/nonexistent/dir/out.json",
        "--benchmark_list_tests=maybe", "--benchmark_time_unit=xx", "--benchmark_color=purple",
        "--benchmark_counters_tabular=perhaps", "--benchmark_display_aggregates_only=maybe",
        "--benchmark_min_warmup_time=0.5", "--benchmark_min_time=1", "--benchmark_out=/tmp",
        "--v=loud", "--payload", "--retries=1", "--max_rss=1KiB"}) {
    // A short run first, the bad flag last: were a refusal dropped, the run would end in a
    // second and fail here, not take the default config's minute.
    std::vector<std::string> args = {"--benchmark_filter=Single/fixed"};
    const std::string flag = bad;
    if (!flag.starts_with("--payload")) args.push_back("--payload=64KiB");
    if (!flag.starts_with("--retries")) args.push_back("--retries=2");
    args.push_back(flag);
    const auto r = run(args);
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_EQ(line_count(r.err), 1) << bad << ": " << r.err;
    EXPECT_TRUE(r.err.starts_with("leakbench: ")) << r.err;
    EXPECT_TRUE(r.report.is_null()) << bad << ": nothing may run";
  }
}

TEST_F(leakbench_run, version_prints_one_line_and_help_names_leakbench) {
  const auto v = leakbench::test::run_process(LEAKBENCH_EXE, {"--version"}, dir_.path());
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_TRUE(v.out.starts_with("leakbench ")) << v.out;
  EXPECT_EQ(line_count(v.out), 1) << v.out;
  const auto h = leakbench::test::run_process(LEAKBENCH_EXE, {"--help"}, dir_.path());
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_TRUE(
      h.out.starts_with("leakbench [--benchmark_list_tests={true|false}]\n"
                        "          [--benchmark_filter=<regex>]\n"))
      << h.out;
}

TEST_F(leakbench_run, listing_the_benchmarks_needs_no_broker) {
  // Port 1 on loopback refuses connections: a run would exit 3, a listing must not connect.
  const auto r = leakbench::test::run_process(
      LEAKBENCH_EXE, {"--benchmark_list_tests", "--broker=redis://127.0.0.1:1"}, dir_.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(line_count(r.out), 26) << r.out;
  EXPECT_NE(r.out.find("Nested/fixed"), std::string::npos) << r.out;
}

TEST_F(leakbench_run, series_out_names_one_file_per_repetition) {
  const fs::path series = dir_.path() / "series";
  const auto r = run({"--payload=256KiB", "--retries=3", "--benchmark_filter=Single/fixed",
                      "--benchmark_repetitions=2", "--series_out=" + series.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(series / "Single_fixed_rep0.csv"));
  EXPECT_TRUE(fs::exists(series / "Single_fixed_rep1.csv"));
  EXPECT_FALSE(fs::exists(series / "Single_fixed.csv"));
  EXPECT_NE(slurp(series / "Single_fixed_rep0.csv"), slurp(series / "Single_fixed_rep1.csv"));
  // The report parsed (nlohmann rejects NaN): the _cv row of a counter whose mean is 0, as a
  // fixed variant's heap slope is, leaves that counter out instead of writing NaN.
  bool saw_cv = false;
  for (const auto& b : r.report.at("benchmarks")) {
    if (b.value("aggregate_name", "") != "cv") continue;
    saw_cv = true;
    EXPECT_FALSE(b.contains("heap_per_retry")) << b.dump();
    EXPECT_EQ(b.at("payload"), 0) << "a constant counter of non-zero mean: cv 0";
  }
  EXPECT_TRUE(saw_cv);
}

TEST_F(leakbench_run, help_documents_its_flags_beside_google_benchmarks) {
  const fs::path out = dir_.path() / "help.txt";
  const std::string cmd = std::string(LEAKBENCH_EXE) + " --help > " + out.string() + " 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const std::string help = slurp(out);
  for (const char* flag :
       {"--benchmark_filter", "--payload=SIZE", "--retries=N", "--warmup=N", "--concurrency=K",
        "--depth=D", "--gc=off|every:N", "--broker=", "--max_rss=SIZE", "--series_out=DIR"}) {
    EXPECT_NE(help.find(flag), std::string::npos) << flag;
  }
}
