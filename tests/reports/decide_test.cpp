// Verdicts on recorded leakbench runs: pass, fail, inconclusive both ways, the canary, and a
// benchmark that failed, hit the ceiling or lacks what a rule needs.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <array>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>

#include "reports/gate/decide.hpp"
#include "reports/gate/interval.hpp"
#include "reports/results/estimate.hpp"
#include "tests/reports/data.hpp"

namespace lg = leakbench::gate;
namespace lr = leakbench::reports;
using leakbench::test::recorded_run;

namespace {

/// The checks of `e` on benchmarks whose name ends with `suffix`, for `counter`.
std::vector<const lg::check*> checks_of(const lg::evaluation& e, std::string_view suffix,
                                        std::string_view counter) {
  std::vector<const lg::check*> out;
  for (const auto& c : e.checks) {
    if (c.benchmark.ends_with(suffix) && c.counter == counter) out.push_back(&c);
  }
  return out;
}

lg::budgets budgets_text(const std::string& text) { return lg::parse_budgets(text, "b.toml"); }

/// The checks the shipped budgets make of one run of every benchmark of `run`: a fixed
/// variant's RSS, heap and ceiling; a leaky variant's RSS and heap from below and above where
/// it has an expectation, from above where it has none.
std::size_t default_checks(const lr::run& run) {
  std::size_t n = 0;
  for (const auto& key : run.keys()) {
    const double expected = *run.repetitions_of(key).at(0)->number("expected_per_retry");
    n += !leakbench::test::is_leaky(key) ? 3 : expected > 0 ? 4 : 2;
  }
  return n;
}

/// `run` with `counter` of benchmark `key` set to `value` (a run edited to make one case).
lr::run with_counter(lr::run run, const std::string& key, const std::string& counter,
                     double value) {
  for (auto& row : run.rows) {
    if (row.key == key) row.numbers[counter] = value;
  }
  return run;
}

}  // namespace

TEST(evaluate, a_clean_run_passes_every_default_rule) {
  const auto run = recorded_run("clean.json");
  const auto b = lg::default_budgets();
  const auto e = lg::evaluate(run, b);
  ASSERT_EQ(e.checks.size(), default_checks(run));
  for (const auto& c : e.checks) {
    EXPECT_EQ(c.outcome, lg::verdict::pass) << c.label() << " " << c.counter << ": " << c.reason;
    EXPECT_TRUE(c.reason.empty());
  }
  EXPECT_TRUE(e.unchecked.empty()) << e.unchecked.front();
  EXPECT_FALSE(e.fails(lg::inconclusive_policy::fail));
}

TEST(evaluate, values_and_limits_are_the_jsons_numbers) {
  const auto run = recorded_run("clean.json");
  const auto e = lg::evaluate(run, lg::default_budgets());
  const auto* row = run.repetitions_of("Nested/leaky").at(0);
  const auto rss = checks_of(e, "Nested/leaky", "rss_per_retry");
  ASSERT_EQ(rss.size(), 2u) << "from below and from above";
  EXPECT_EQ(rss[0]->value, row->number("rss_per_retry"));
  EXPECT_EQ(rss[0]->half_width, row->number("rss_ci95"));
  EXPECT_EQ(rss[0]->limit, 0.9 * *row->number("expected_per_retry"));
  EXPECT_EQ(rss[0]->resolution(), 2 * *row->number("rss_ci95"));
  EXPECT_EQ(rss[1]->kind, lg::bound::max);
  EXPECT_EQ(rss[1]->limit, 64 * 1024 + 1.05 * *row->number("expected_per_retry"));
}

TEST(evaluate, an_injected_64_KiB_leak_fails_every_fixed_benchmark) {
  const auto run = recorded_run("inject_64KiB.json");
  const auto e = lg::evaluate(run, lg::default_budgets());
  std::size_t n_fixed = 0, n_leaky = 0;
  for (const auto& key : run.keys()) {
    n_fixed += key.ends_with("/fixed");
    n_leaky +=
        key.ends_with("/leaky") && *run.repetitions_of(key).at(0)->number("expected_per_retry") > 0;
  }
  for (const char* counter : {"rss_per_retry", "heap_per_retry"}) {
    const auto fixed = checks_of(e, "/fixed", counter);
    ASSERT_EQ(fixed.size(), n_fixed) << counter;
    for (const auto* c : fixed) {
      EXPECT_EQ(c->outcome, lg::verdict::fail) << c->label() << " " << counter;
      EXPECT_NE(c->reason.find("is above"), std::string::npos) << c->reason;
      EXPECT_GT(*c->value - *c->half_width, *c->limit) << "decided on the whole interval";
    }
  }
  const auto canaries = checks_of(e, "/leaky", "rss_per_retry");
  std::size_t canary_mins = 0;
  for (const auto* c : canaries) {
    if (c->kind != lg::bound::min) continue;
    ++canary_mins;
    EXPECT_EQ(c->outcome, lg::verdict::pass) << c->label() << ": the canary still sees the leak";
  }
  EXPECT_EQ(canary_mins, n_leaky);
  EXPECT_TRUE(e.fails(lg::inconclusive_policy::pass));
}

TEST(evaluate, the_canary_fails_when_the_leaky_variants_show_nothing) {
  // --gc=every:1 collects each failed attempt's cycle: the leak is gone from the run.
  const auto run = recorded_run("gc_every_1.json");
  const auto e = lg::evaluate(run, lg::default_budgets());
  std::vector<const lg::check*> canaries, fixed_heap;
  for (const auto* c : checks_of(e, "/leaky", "rss_per_retry")) {
    if (c->kind == lg::bound::min) canaries.push_back(c);
  }
  std::size_t should_leak = 0, n_fixed = 0;
  for (const auto& key : run.keys()) {
    n_fixed += key.ends_with("/fixed");
    should_leak +=
        key.ends_with("/leaky") && *run.repetitions_of(key).at(0)->number("expected_per_retry") > 0;
  }
  ASSERT_EQ(canaries.size(), should_leak);
  for (const auto* c : canaries) {
    EXPECT_EQ(c->outcome, lg::verdict::fail) << c->label();
    EXPECT_NE(c->reason.find("is below"), std::string::npos) << c->reason;
    EXPECT_NE(c->reason.find("(90% expected)"), std::string::npos) << c->reason;
  }
  const auto heap = checks_of(e, "/fixed", "heap_per_retry");
  ASSERT_EQ(heap.size(), n_fixed);
  for (const auto* c : heap) EXPECT_EQ(c->outcome, lg::verdict::pass) << c->label();
}

TEST(evaluate, a_limit_inside_the_interval_is_inconclusive_and_the_policy_decides) {
  const auto run = recorded_run("clean.json");
  // The first fixed benchmark whose RSS fit has some scatter and a positive slope (a limit
  // cannot be negative): put the limit on its slope.
  const lr::benchmark_row* row = nullptr;
  for (const auto* r : run.measured()) {
    if (r->key.ends_with("/fixed") && *r->number("rss_ci95") > 0 &&
        *r->number("rss_per_retry") > 0) {
      row = r;
      break;
    }
  }
  ASSERT_NE(row, nullptr) << "the recording has no fixed benchmark with RSS scatter";
  const double slope = *row->number("rss_per_retry");
  for (const std::string kind : {"max", "min"}) {
    const auto b =
        budgets_text(fmt::format("[[rule]]\nmatch = \"^{}$\"\ncounter = "
                                 "\"rss_per_retry\"\n{} = {}\n",
                                 row->key, kind, slope));
    const auto e = lg::evaluate(run, b);
    ASSERT_EQ(e.checks.size(), 1u);
    const auto& c = e.checks[0];
    EXPECT_EQ(c.outcome, lg::verdict::inconclusive) << kind << ": " << c.reason;
    EXPECT_NE(c.reason.find("straddles"), std::string::npos) << c.reason;
    EXPECT_TRUE(e.fails(lg::inconclusive_policy::fail));
    EXPECT_FALSE(e.fails(lg::inconclusive_policy::pass));
  }
}

TEST(evaluate, an_inconclusive_check_says_how_many_retries_would_decide_it) {
  const auto run = recorded_run("clean.json");
  const auto* row = run.repetitions_of("Single/fixed").at(0);
  const double slope = *row->number("rss_per_retry"), hw = *row->number("rss_ci95");
  ASSERT_GT(hw, 0);
  // A limit half an interval above the slope: a narrower interval would pass it.
  const auto b = budgets_text(
      fmt::format("[[rule]]\nmatch = \"^Single/fixed$\"\ncounter = \"rss_per_retry\"\nmax = {}\n",
                  slope + hw / 2));
  const auto e = lg::evaluate(run, b);
  ASSERT_EQ(e.checks.size(), 1u);
  const auto& reason = e.checks[0].reason;
  const auto points = lg::points_for_half_width(hw, 12 - 2, hw / 2);
  ASSERT_TRUE(points);
  EXPECT_NE(reason.find(fmt::format("about {} retries (now 12) would decide it", *points + 2)),
            std::string::npos)
      << reason;
}

TEST(evaluate, a_failed_benchmark_fails_every_rule_that_names_it_with_its_message) {
  const auto run = recorded_run("errored.json");
  const auto b = lg::default_budgets();
  const auto e = lg::evaluate(run, b);
  std::size_t failed = 0, rules_naming_nested = 0, rules_naming_any = 0;
  for (const auto& key : run.keys()) {
    for (const auto& r : b.rules) {
      rules_naming_any += r.matches(key);
      rules_naming_nested += r.matches(key) && key.starts_with("Nested/");
    }
  }
  ASSERT_EQ(e.checks.size(), rules_naming_any) << "Single/fixed has no condition either";
  for (const auto& c : e.checks) {
    if (!c.benchmark.starts_with("Nested/")) {
      EXPECT_EQ(c.outcome, lg::verdict::pass) << c.label();
      continue;
    }
    ++failed;
    EXPECT_EQ(c.outcome, lg::verdict::fail);
    EXPECT_TRUE(c.reason.starts_with("the benchmark failed: Nested/")) << c.reason;
    EXPECT_NE(c.reason.find("memory ceiling"), std::string::npos) << c.reason;
    EXPECT_FALSE(c.value.has_value());
  }
  // Every rule that names Nested/fixed or Nested/leaky: their conditions cannot be read.
  EXPECT_EQ(failed, rules_naming_nested);
  EXPECT_GE(failed, 3u + 6u);
}

TEST(evaluate, a_fixed_benchmark_that_hit_the_ceiling_fails) {
  const auto e = lg::evaluate(recorded_run("ceiling_fixed.json"), lg::default_budgets());
  const auto ceiling = checks_of(e, "Single/fixed", "ceiling_hit");
  ASSERT_EQ(ceiling.size(), 1u);
  EXPECT_EQ(ceiling[0]->outcome, lg::verdict::fail);
  EXPECT_EQ(ceiling[0]->reason, "1 is above 0");
  EXPECT_EQ(ceiling[0]->rule_name, "fixed: never stopped at the memory ceiling");
}

TEST(evaluate, an_unbounded_interval_is_inconclusive_not_a_crash) {
  // An older leakbench wrote Infinity for a two-point fit's interval: kept as a legacy input.
  const auto e =
      lg::evaluate(recorded_run("legacy_infinity_intervals.json"), lg::default_budgets());
  const auto canary = checks_of(e, "Single/leaky", "rss_per_retry");
  ASSERT_EQ(canary.size(), 2u) << "from below and from above";
  for (const auto* c : canary) {
    EXPECT_EQ(c->outcome, lg::verdict::inconclusive);
    EXPECT_NE(c->reason.find("rss_ci95 is unbounded"), std::string::npos) << c->reason;
    EXPECT_FALSE(c->resolution().has_value());
  }
}

TEST(evaluate, a_two_point_fit_without_an_interval_counter_is_inconclusive) {
  // leakbench leaves rss_ci95/heap_ci95 out of a two-point fit (it wrote Infinity once).
  const std::string text = leakbench::test::read_data("runs/two_points.json");
  ASSERT_EQ(text.find("\"rss_ci95\""), std::string::npos) << "recorded by a current leakbench";
  const auto e = lg::evaluate(lr::parse_run(text, "two_points.json"), lg::default_budgets());
  const auto canary = checks_of(e, "Single/leaky", "rss_per_retry");
  ASSERT_EQ(canary.size(), 2u) << "from below and from above";
  EXPECT_EQ(canary[0]->outcome, lg::verdict::inconclusive);
  EXPECT_EQ(canary[0]->reason,
            "no rss_ci95 (the ceiling stopped the run): the fit had two points; run at least "
            "three retries after the warm-up");
}

TEST(evaluate, a_nan_where_a_decision_needs_a_number_fails_with_its_reason) {
  // The recorded run with one counter as Google Benchmark writes a NaN.
  std::string text = leakbench::test::read_data("runs/clean.json");
  const std::string field = "\"heap_ci95\": ";
  const auto at = text.find(field, text.find("Single/fixed")) + field.size();
  text.replace(at, text.find(',', at) - at, "NaN");
  const auto run = lr::parse_run(text, "nan.json");
  const auto e = lg::evaluate(run, lg::default_budgets());
  const auto heap = checks_of(e, "Single/fixed", "heap_per_retry");
  ASSERT_EQ(heap.size(), 1u);
  EXPECT_EQ(heap[0]->outcome, lg::verdict::fail);
  EXPECT_EQ(heap[0]->reason, "heap_ci95 is NaN (the interval)");
}

TEST(evaluate, repetitions_are_each_checked) {
  const auto run = recorded_run("repetitions.json");
  const auto e = lg::evaluate(run, lg::default_budgets());
  const auto fixed = checks_of(e, "Nested/fixed", "rss_per_retry");
  ASSERT_EQ(fixed.size(), 3u);
  for (std::int64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(fixed[i]->repetition, i);
    EXPECT_EQ(fixed[i]->label(), fmt::format("Nested/fixed #{}", i));
    EXPECT_EQ(fixed[i]->outcome, lg::verdict::pass) << fixed[i]->reason;
  }
  EXPECT_EQ(e.checks.size(), 3u * default_checks(run)) << "aggregates are not checked";
}

TEST(evaluate, any_google_benchmark_json_with_the_named_counter_can_be_gated) {
  const auto run = recorded_run("cache_bench.json");
  const auto b = lg::read_budgets(leakbench::test::data_path("budgets/cache_bench.toml"));
  const auto e = lg::evaluate(run, b);
  ASSERT_EQ(e.checks.size(), 2u);
  EXPECT_EQ(e.checks[0].benchmark, "cache_bounded");
  EXPECT_EQ(e.checks[0].outcome, lg::verdict::pass) << e.checks[0].reason;
  EXPECT_EQ(e.checks[1].benchmark, "cache_unbounded");
  EXPECT_EQ(e.checks[1].outcome, lg::verdict::fail);
  EXPECT_EQ(e.checks[1].reason, "1 KiB is above 64 B");
}

TEST(evaluate, a_missing_counter_fails_with_its_name) {
  const auto b =
      budgets_text("[[rule]]\nmatch = \"^cache_\"\ncounter = \"rss_per_retry\"\nmax = 1\n");
  const auto e = lg::evaluate(recorded_run("cache_bench.json"), b);
  ASSERT_EQ(e.checks.size(), 2u);
  EXPECT_EQ(e.checks[0].outcome, lg::verdict::fail);
  EXPECT_EQ(e.checks[0].reason, "no counter 'rss_per_retry' (the value)");
}

TEST(evaluate, a_rule_naming_no_benchmark_is_an_input_error_unless_optional) {
  const auto run = recorded_run("clean.json");
  const auto b = lg::read_budgets(leakbench::test::data_path("budgets/no_match.toml"));
  try {
    lg::evaluate(run, b);
    FAIL() << "evaluated";
  } catch (const lr::input_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("no_match.toml:7: rule \"workers stay small\" (match \"^Worker/\") names "
                        "no benchmark in clean.json"),
              std::string::npos)
        << what;
  }
  const std::string optional =
      "[[rule]]\nmatch = \"^Worker/\"\ncounter = \"peak_rss\"\nmax = 1\noptional = true\n";
  const auto e =
      lg::evaluate(run, budgets_text(optional + "[[rule]]\nmatch = \"^Single/fixed$\"\ncounter = "
                                                "\"ceiling_hit\"\nmax = 0\n"));
  ASSERT_EQ(e.checks.size(), 1u) << "an optional rule may name nothing";
  EXPECT_EQ(e.checks[0].benchmark, "Single/fixed");
  // But a gate whose rules name nothing at all would pass by checking nothing.
  try {
    lg::evaluate(run, budgets_text(optional));
    FAIL() << "evaluated";
  } catch (const lr::input_error& x) {
    EXPECT_STREQ(x.what(),
                 "b.toml: no rule names any benchmark in clean.json: the gate would check nothing");
  }
}

TEST(points_for_half_width, follows_the_t_quantile_and_n_to_the_minus_three_halves) {
  // The half-width of a slope over x = 0..n-1: t(0.975, n-2) * s * sqrt(12 / (n (n^2 - 1))).
  const auto width = [](double n) {
    const boost::math::students_t t(n - 2);
    return boost::math::quantile(boost::math::complement(t, 0.025)) *
           std::sqrt(12 / (n * (n * n - 1)));
  };
  const double hw10 = 3.0;  // at 10 points
  for (const double target : {2.0, 1.0, 0.1, 0.01}) {
    const auto n = lg::points_for_half_width(hw10, 10, target);
    ASSERT_TRUE(n) << target;
    EXPECT_LT(hw10 * width(static_cast<double>(*n)) / width(10), target) << target;
    EXPECT_GE(hw10 * width(static_cast<double>(*n - 1)) / width(10), target) << target;
  }
  EXPECT_EQ(lg::points_for_half_width(3.0, 10, 4.0), 10u) << "already narrow enough";
  EXPECT_FALSE(lg::points_for_half_width(3.0, 10, 0.0)) << "a value on its limit";
  EXPECT_FALSE(lg::points_for_half_width(3.0, 10, 1e-12)) << "beyond any practical run";
  EXPECT_FALSE(lg::points_for_half_width(INFINITY, 10, 1.0));
}

TEST(evaluate, a_run_cut_short_below_its_warm_up_is_still_advised_on) {
  // The ceiling stopped Single/fixed after 4 retries, fewer than the warm-up (2) + 3: leakbench
  // then fits all but one warm-up retry (3 points). A limit in its interval: inconclusive, with
  // the retries a rerun would need, counted from the full warm-up it would have.
  auto run = recorded_run("clean.json");
  ASSERT_EQ(run.context_number("warmup"), 2);
  run.context["warmup"] = "5";
  run = with_counter(std::move(run), "Single/fixed", "retries", 4);
  run = with_counter(std::move(run), "Single/fixed", "rss_per_retry", 2048);
  run = with_counter(std::move(run), "Single/fixed", "rss_ci95", 4096);
  const auto b = budgets_text(
      "[[rule]]\nmatch = \"^Single/fixed$\"\ncounter = \"rss_per_retry\"\nmax = \"4KiB\"\n");
  const auto e = lg::evaluate(run, b);
  ASSERT_EQ(e.checks.size(), 1u);
  EXPECT_EQ(e.checks[0].outcome, lg::verdict::inconclusive);
  // 3 points now (4 retries, warm-up clamped to 1); a half-width under 2 KiB needs more.
  const auto points = lg::points_for_half_width(4096, 3, 2048);
  ASSERT_TRUE(points);
  EXPECT_NE(
      e.checks[0].reason.find(fmt::format("about {} retries (now 4) would decide it", *points + 5)),
      std::string::npos)
      << e.checks[0].reason;
}
