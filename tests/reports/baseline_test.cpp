// Comparing a run with a baseline: regressions beyond every tolerance, improvements, and
// benchmarks on one side only; runs of different shapes are refused.
#include <gtest/gtest.h>

#include <boost/math/distributions/students_t.hpp>
#include <cmath>

#include "reports/gate/baseline.hpp"
#include "reports/results/comparability.hpp"
#include "tests/reports/data.hpp"

namespace lg = leakbench::gate;
namespace lr = leakbench::reports;
using leakbench::test::only_repetitions;
using leakbench::test::recorded_run;

namespace {

const lg::comparison& find(const std::vector<lg::comparison>& all, const std::string& benchmark,
                           const std::string& counter) {
  for (const auto& c : all) {
    if (c.benchmark == benchmark && c.counter == counter) return c;
  }
  throw std::runtime_error("no comparison for " + benchmark + " " + counter);
}

/// The default budgets with every tolerance but the intervals' at zero.
lg::budgets zero_tolerance() {
  auto b = lg::default_budgets();
  b.baseline.abs_tolerance = 0;
  b.baseline.rel_tolerance = 0;
  return b;
}

/// The refusal of comparing `now` with `before`, or "" if they compare.
std::string refusal(const lr::run& now, const lr::run& before) {
  try {
    lr::check_comparable(now, before);
  } catch (const lr::input_error& e) {
    return e.what();
  }
  return "";
}

/// A recorded run standing for a baseline that injected the same leak as inject_64KiB.json, so
/// that the two compare and the injected slopes read as regressions.
lr::run as_if_injected(lr::run r) {
  r.context["inject_leak"] = "65536";
  return r;
}

}  // namespace

TEST(baseline, a_leak_grown_by_64_KiB_is_a_regression_of_every_fixed_benchmark) {
  const auto now = recorded_run("inject_64KiB.json"),
             before = as_if_injected(recorded_run("clean.json"));
  const auto b = lg::default_budgets();
  const auto all = lg::compare(now, before, b);
  ASSERT_EQ(all.size(), now.keys().size() * 2);
  std::size_t fixed = 0;
  for (const auto& key : now.keys()) {
    if (!key.ends_with("/fixed")) continue;
    for (const char* counter : {"rss_per_retry", "heap_per_retry"}) {
      ++fixed;
      const auto& c = find(all, key, counter);
      EXPECT_EQ(c.kind, lg::change::regression) << key << " " << counter;
      EXPECT_GT(*c.delta(), b.baseline.abs_tolerance);
      EXPECT_GT(*c.delta(), std::hypot(c.now->half_width, c.before->half_width));
    }
  }
  EXPECT_GE(fixed, 14u);
  const auto& heap = find(all, "Single/fixed", "heap_per_retry");
  EXPECT_EQ(heap.now->value, *now.repetitions_of("Single/fixed")[0]->number("heap_per_retry"));
  EXPECT_EQ(heap.before->value,
            *before.repetitions_of("Single/fixed")[0]->number("heap_per_retry"));
}

TEST(baseline, the_fix_reads_as_improvements) {
  const auto all = lg::compare(as_if_injected(recorded_run("clean.json")),
                               recorded_run("inject_64KiB.json"), lg::default_budgets());
  const auto& c = find(all, "Nested/fixed", "heap_per_retry");
  EXPECT_EQ(c.kind, lg::change::improvement);
  EXPECT_LT(*c.delta(), -60 * 1024.0);
}

TEST(baseline, growth_within_the_tolerances_is_unchanged_and_the_tolerance_is_the_widest) {
  // Two halves of one recorded run: the same configuration, slopes that differ by noise.
  const auto run = recorded_run("repetitions_series.json");
  const auto now = only_repetitions(run, {2, 3}, "now"),
             before = only_repetitions(run, {0, 1}, "before");
  const auto b = lg::default_budgets();
  const auto all = lg::compare(now, before, b);
  ASSERT_EQ(all.size(), run.keys().size() * b.baseline.counters.size());
  std::size_t moved = 0;
  for (const auto& c : all) {
    EXPECT_EQ(c.kind, lg::change::unchanged) << c.benchmark << " " << c.counter;
    ASSERT_TRUE(c.delta()) << c.benchmark;
    moved += *c.delta() != 0;
    const double widest =
        std::max({b.baseline.abs_tolerance, b.baseline.rel_tolerance * std::abs(c.before->value),
                  std::hypot(c.now->half_width, c.before->half_width)});
    EXPECT_DOUBLE_EQ(c.tolerance, widest) << c.benchmark << " " << c.counter;
    EXPECT_LE(std::abs(*c.delta()), c.tolerance) << c.benchmark << " " << c.counter;
  }
  EXPECT_GE(moved, 1u) << "the halves differ somewhere, or nothing was tested";
}

TEST(baseline, with_no_other_tolerance_the_interval_of_the_difference_decides) {
  // Repetitions of one run compared as baseline and candidate: noise, in either direction.
  const auto run = recorded_run("repetitions_series.json");
  const auto a = only_repetitions(run, {0, 1}, "a"), z = only_repetitions(run, {2, 3}, "z");
  const auto b = zero_tolerance();
  for (const auto& [now, before] : {std::pair{&a, &z}, std::pair{&z, &a}}) {
    const auto all = lg::compare(*now, *before, b);
    ASSERT_EQ(all.size(), run.keys().size() * b.baseline.counters.size());
    for (const auto& c : all) {
      EXPECT_EQ(c.kind, lg::change::unchanged)
          << now->source << " against " << before->source << ": " << c.benchmark << " " << c.counter
          << " moved " << *c.delta() << ", tolerance " << c.tolerance;
      EXPECT_DOUBLE_EQ(c.tolerance, std::hypot(c.now->half_width, c.before->half_width));
    }
  }
}

TEST(baseline, a_relative_tolerance_scales_with_the_baselines_slope) {
  const auto all = lg::compare(recorded_run("inject_64KiB.json"),
                               as_if_injected(recorded_run("clean.json")), lg::default_budgets());
  // Nested/leaky retains 2 MiB per retry: 5% of it (102 KiB) is more than the injected 64 KiB.
  const auto& c = find(all, "Nested/leaky", "heap_per_retry");
  EXPECT_EQ(c.kind, lg::change::unchanged);
  EXPECT_DOUBLE_EQ(c.tolerance, 0.05 * c.before->value);
}

TEST(baseline, benchmarks_on_one_side_only_are_reported) {
  const auto single = recorded_run("single_only.json"), all = recorded_run("clean.json");
  auto b = lg::default_budgets();
  const auto gone = lg::compare(single, all, b);
  std::size_t n_gone = 0, n_single = 0;
  for (const auto& c : gone) {
    if (c.benchmark.starts_with("Single/")) {
      ++n_single;
      EXPECT_NE(c.kind, lg::change::only_baseline) << c.benchmark;
    } else {
      EXPECT_EQ(c.kind, lg::change::only_baseline) << c.benchmark;
      EXPECT_TRUE(c.counter.empty()) << "one row per benchmark";
      ++n_gone;
    }
  }
  EXPECT_EQ(n_single, 2u * b.baseline.counters.size());
  EXPECT_EQ(n_gone, all.keys().size() - 2);
  std::size_t n_new = 0;
  for (const auto& c : lg::compare(all, single, b)) n_new += c.kind == lg::change::only_now;
  EXPECT_EQ(n_new, all.keys().size() - 2);
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

TEST(comparability, every_key_that_changes_what_a_retry_keeps_is_refused_by_name) {
  const auto clean = recorded_run("clean.json");
  const std::vector<std::pair<std::string, std::string>> keys = {
      {"payload", "4194304"}, {"gc", "every:5"}, {"inject_leak", "65536"},
      {"concurrency", "8"},   {"depth", "5"},    {"target", "dramatiq"},
      {"app", "shop.tasks"}};
  ASSERT_EQ(keys.size(), 7u);
  for (const auto& [key, value] : keys) {
    auto other = clean;
    other.context[key] = value;
    other.source = "other.json";
    const std::string before = clean.context_value(key).value_or(key == "target" ? "model"
                                                                 : key == "app"  ? "(none)"
                                                                                 : "?");
    EXPECT_EQ(refusal(other, clean),
              "clean.json: ran with " + key + "=" + before + ", but other.json with " + key + "=" +
                  value +
                  ": per-retry growth is not comparable; record the baseline with the same "
                  "configuration")
        << key;
    EXPECT_THROW(lg::compare(other, clean, lg::default_budgets()), lr::input_error) << key;
  }
}

TEST(comparability, an_apps_runs_compare_only_with_the_same_messages_and_broker_class) {
  auto app = recorded_run("clean.json");
  app.context["app"] = "shop.tasks";
  app.context["message.ping"] = "ping {\"args\":[],\"kwargs\":{}}";
  app.context["dramatiq.fixed.broker_class"] = "dramatiq.brokers.redis.RedisBroker";
  app.source = "before.json";
  EXPECT_EQ(refusal(app, app), "");
  auto more = app;
  more.source = "now.json";
  more.context["message.render_invoice"] = "render_invoice {\"args\":[17],\"kwargs\":{}}";
  EXPECT_EQ(refusal(more, app),
            "before.json: ran with the messages ping {\"args\":[],\"kwargs\":{}}, but now.json "
            "with ping {\"args\":[],\"kwargs\":{}}; render_invoice {\"args\":[17],"
            "\"kwargs\":{}}: per-retry growth is not comparable; record the baseline with the "
            "same configuration");
  auto rabbit = app;
  rabbit.source = "now.json";
  rabbit.context["dramatiq.fixed.broker_class"] = "dramatiq.brokers.rabbitmq.RabbitmqBroker";
  EXPECT_EQ(refusal(rabbit, app),
            "before.json: ran with dramatiq.fixed.broker_class "
            "dramatiq.brokers.redis.RedisBroker, but now.json with "
            "dramatiq.brokers.rabbitmq.RabbitmqBroker: per-retry growth is not comparable; record "
            "the baseline with the same configuration");
}

TEST(comparability, a_missing_key_reads_as_its_default) {
  const auto clean = recorded_run("clean.json");
  ASSERT_EQ(clean.context_value("inject_leak"), "0");
  auto old = clean;
  old.context.erase("inject_leak");
  old.context.erase("target");
  EXPECT_EQ(refusal(old, clean), "") << "no inject_leak is 0, no target is model";
  auto model = clean;
  model.context["target"] = "model";
  EXPECT_EQ(refusal(old, model), "");
  auto injected = clean;
  injected.context["inject_leak"] = "65536";
  EXPECT_NE(refusal(old, injected).find("inject_leak=65536, but clean.json with inject_leak=0"),
            std::string::npos)
      << refusal(old, injected);
  auto dramatiq = clean;
  dramatiq.context["target"] = "dramatiq";
  EXPECT_NE(refusal(old, dramatiq).find("target=dramatiq, but clean.json with target=model"),
            std::string::npos);
}

TEST(comparability, versions_broker_and_retries_are_shown_not_refused) {
  const auto before = lr::parse_run(leakbench::test::dramatiq_run_text(), "before.json");
  auto now = before;
  now.source = "now.json";
  now.context["retries"] = "16";
  now.context["broker"] = "memory";
  now.context["leakbench_version"] = "0.3.0";
  now.context["python"] = "/usr/bin/python3.12";
  now.context["dramatiq.installed.version"] = "1.18.0";
  now.context["dramatiq.installed.commit"] = "9f00d1e";
  now.context["dramatiq.upgraded.version"] = "2.0.0";
  const auto d = lr::check_comparable(now, before);
  ASSERT_EQ(d.size(), 7u);
  EXPECT_EQ(lr::describe_differences(d),
            "leakbench_version 0.2.0 → 0.3.0, python /usr/bin/python3 → /usr/bin/python3.12, "
            "broker redis://127.0.0.1:6379 → memory, retries 12 → 16, "
            "dramatiq.installed.commit 4b3ef1a → 9f00d1e, dramatiq.installed.version 1.17.1 → "
            "1.18.0, dramatiq.upgraded.version (none) → 2.0.0");
  EXPECT_TRUE(lr::check_comparable(before, before).empty());
}

TEST(combine, averages_repetitions_and_takes_the_wider_of_spread_and_own_intervals) {
  // Far apart, narrow: the spread between them decides, t(0.975, 1) * s / sqrt(2).
  const std::vector<lr::estimate> apart = {{10, 0.5}, {14, 0.5}};
  const auto c = lr::combine(apart);
  EXPECT_DOUBLE_EQ(c.value, 12);
  const boost::math::students_t t1(1);
  const double t = boost::math::quantile(boost::math::complement(t1, 0.025));
  EXPECT_NEAR(c.half_width, t * std::sqrt(8.0) / std::sqrt(2.0), 1e-9);
  // Close, wide: the repetitions' own intervals decide, sqrt(sum h^2) / N.
  const std::vector<lr::estimate> close = {{10, 3}, {10, 4}};
  EXPECT_DOUBLE_EQ(lr::combine(close).half_width, 2.5);
  const std::vector<lr::estimate> one = {{7, 2}};
  EXPECT_DOUBLE_EQ(lr::combine(one).half_width, 2);
}

TEST(combine, recorded_repetitions_keep_their_spread) {
  const auto run = recorded_run("repetitions.json");
  const auto reps = run.repetitions_of("Single/leaky");
  ASSERT_EQ(reps.size(), 3u);
  const auto e = lr::combined(reps, "rss_per_retry", "rss_ci95");
  ASSERT_TRUE(e);
  double mean = 0, own = 0;
  for (const auto* r : reps) {
    mean += *r->number("rss_per_retry") / 3;
    own += std::pow(*r->number("rss_ci95"), 2);
  }
  double ss = 0;
  for (const auto* r : reps) ss += std::pow(*r->number("rss_per_retry") - mean, 2);
  const boost::math::students_t t2(2);
  const double spread = boost::math::quantile(boost::math::complement(t2, 0.025)) *
                        std::sqrt(ss / 2) / std::sqrt(3.0);
  EXPECT_DOUBLE_EQ(e->value, mean);
  EXPECT_DOUBLE_EQ(e->half_width, std::max(spread, std::sqrt(own) / 3));
  EXPECT_GE(e->half_width, std::sqrt(own) / 3) << "never narrower than the within-run interval";
}
