// Comparing a run with a baseline: regressions beyond every tolerance, improvements, and
// benchmarks on one side only; runs of different shapes are refused.
#include <gtest/gtest.h>

#include <cmath>

#include "reports/gate/baseline.hpp"
#include "tests/reports/data.hpp"

namespace lg = leakbench::gate;
namespace lr = leakbench::reports;
using leakbench::test::recorded_run;

namespace {

const lg::comparison& find(const std::vector<lg::comparison>& all, const std::string& benchmark,
                           const std::string& counter) {
  for (const auto& c : all) {
    if (c.benchmark == benchmark && c.counter == counter) return c;
  }
  throw std::runtime_error("no comparison for " + benchmark + " " + counter);
}

}  // namespace

TEST(baseline, an_injected_leak_is_a_regression_of_every_fixed_benchmark) {
  const auto now = recorded_run("inject_64KiB.json"), before = recorded_run("clean.json");
  const auto b = lg::default_budgets();
  const auto all = lg::compare(now, before, b);
  EXPECT_EQ(all.size(), 14u * 2);
  for (const auto& key : now.keys()) {
    if (!key.ends_with("/fixed")) continue;
    for (const char* counter : {"rss_per_retry", "heap_per_retry"}) {
      const auto& c = find(all, key, counter);
      EXPECT_EQ(c.kind, lg::change::regression) << key << " " << counter;
      EXPECT_GT(*c.delta(), b.baseline.abs_tolerance);
      EXPECT_GT(*c.delta(), std::hypot(c.now->half_width, c.before->half_width));
    }
  }
  const auto& heap = find(all, "Single/fixed", "heap_per_retry");
  EXPECT_EQ(heap.now->value, *now.repetitions_of("Single/fixed")[0]->number("heap_per_retry"));
  EXPECT_EQ(heap.before->value,
            *before.repetitions_of("Single/fixed")[0]->number("heap_per_retry"));
}

TEST(baseline, the_fix_reads_as_improvements) {
  const auto all = lg::compare(recorded_run("clean.json"), recorded_run("inject_64KiB.json"),
                               lg::default_budgets());
  const auto& c = find(all, "Nested/fixed", "heap_per_retry");
  EXPECT_EQ(c.kind, lg::change::improvement);
  EXPECT_LT(*c.delta(), -60 * 1024.0);
}

TEST(baseline, growth_within_the_tolerances_is_unchanged) {
  const auto run = recorded_run("clean.json");
  for (const auto& c : lg::compare(run, run, lg::default_budgets())) {
    EXPECT_EQ(c.kind, lg::change::unchanged) << c.benchmark << " " << c.counter;
    EXPECT_EQ(c.delta(), 0);
    EXPECT_GE(c.tolerance, 8 * 1024.0);
  }
}

TEST(baseline, a_relative_tolerance_scales_with_the_baselines_slope) {
  const auto all = lg::compare(recorded_run("inject_64KiB.json"), recorded_run("clean.json"),
                               lg::default_budgets());
  // Nested/leaky retains 2 MiB per retry: 5% of it (102 KiB) is more than the injected 64 KiB.
  const auto& c = find(all, "Nested/leaky", "heap_per_retry");
  EXPECT_EQ(c.kind, lg::change::unchanged);
  EXPECT_DOUBLE_EQ(c.tolerance, 0.05 * c.before->value);
}

TEST(baseline, benchmarks_on_one_side_only_are_reported) {
  const auto single = recorded_run("single_only.json"), all = recorded_run("clean.json");
  auto b = lg::default_budgets();
  const auto gone = lg::compare(single, all, b);
  std::size_t n_gone = 0;
  for (const auto& c : gone) {
    if (c.benchmark.starts_with("Single/")) {
      EXPECT_NE(c.kind, lg::change::only_baseline) << c.benchmark;
    } else {
      EXPECT_EQ(c.kind, lg::change::only_baseline) << c.benchmark;
      EXPECT_TRUE(c.counter.empty()) << "one row per benchmark";
      ++n_gone;
    }
  }
  EXPECT_EQ(n_gone, 12u);
  std::size_t n_new = 0;
  for (const auto& c : lg::compare(all, single, b)) n_new += c.kind == lg::change::only_now;
  EXPECT_EQ(n_new, 12u);
}

TEST(baseline, an_errored_benchmark_is_not_comparable) {
  auto errored = recorded_run("errored.json");
  errored.context["payload"] = "1048576";  // only to get past the shape check
  const auto all = lg::compare(errored, recorded_run("clean.json"), lg::default_budgets());
  const auto& c = find(all, "Nested/fixed", "rss_per_retry");
  EXPECT_EQ(c.kind, lg::change::not_comparable);
  EXPECT_TRUE(c.note.starts_with("now: the benchmark failed: ")) << c.note;
}

TEST(baseline, runs_of_another_shape_are_refused) {
  try {
    lg::compare(recorded_run("errored.json"), recorded_run("clean.json"), lg::default_budgets());
    FAIL() << "compared";
  } catch (const lr::input_error& e) {
    EXPECT_STREQ(e.what(),
                 "clean.json: ran with payload=1048576, but errored.json with payload=8388608: "
                 "per-retry growth is not comparable; record the baseline with the same "
                 "configuration");
  }
}
