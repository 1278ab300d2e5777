// What the shipped budgets bound (every benchmark, on both sides where it should leak), what a
// rule that cannot apply or a gate that checks nothing does, and each condition's operator.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <array>

#include "reports/gate/decide.hpp"
#include "tests/reports/data.hpp"

namespace lg = leakbench::gate;
namespace lr = leakbench::reports;
using leakbench::test::recorded_run;

namespace {

lg::budgets budgets_text(const std::string& text) { return lg::parse_budgets(text, "b.toml"); }

/// `run` with `counter` of benchmark `key` set to `value` (a run edited to make one case).
lr::run with_counter(lr::run run, const std::string& key, const std::string& counter,
                     double value) {
  for (auto& row : run.rows) {
    if (row.key == key) row.numbers[counter] = value;
  }
  return run;
}

/// The checks of `e` on benchmark `key` and `counter`, as (kind, verdict) pairs.
std::vector<std::pair<lg::bound, lg::verdict>> bounds_of(const lg::evaluation& e,
                                                         const std::string& key,
                                                         const std::string& counter) {
  std::vector<std::pair<lg::bound, lg::verdict>> out;
  for (const auto& c : e.checks) {
    if (c.benchmark == key && c.counter == counter) out.emplace_back(c.kind, c.outcome);
  }
  return out;
}

}  // namespace

TEST(evaluate, every_benchmark_is_bounded_from_above_and_from_below_where_it_should_leak) {
  const auto run = recorded_run("clean.json");
  const auto e = lg::evaluate(run, lg::default_budgets());
  const auto keys = run.keys();
  ASSERT_GE(keys.size(), 14u);
  std::size_t leaky_without_expectation = 0;
  for (const auto& key : keys) {
    const double expected = *run.repetitions_of(key).at(0)->number("expected_per_retry");
    const bool should_leak = expected > 0;
    leaky_without_expectation += leakbench::test::is_leaky(key) && !should_leak;
    for (const char* counter : {"rss_per_retry", "heap_per_retry"}) {
      const auto bounds = bounds_of(e, key, counter);
      ASSERT_EQ(bounds.size(), should_leak ? 2u : 1u) << key << " " << counter;
      EXPECT_EQ(bounds.back().first, lg::bound::max) << key << " " << counter;
      if (should_leak) {
        EXPECT_EQ(bounds.front().first, lg::bound::min) << key << " " << counter;
      }
    }
  }
  EXPECT_GE(leaky_without_expectation, 1u) << "LargeResult/leaky expects nothing";
}

TEST(evaluate, a_leaky_benchmark_that_should_keep_nothing_fails_when_it_keeps_a_payload) {
  // LargeResult/leaky keeps no payload in the model; edited to grow 32 MiB per retry.
  const auto run = with_counter(recorded_run("clean.json"), "LargeResult/leaky", "rss_per_retry",
                                32 * 1048576.0);
  ASSERT_EQ(*run.repetitions_of("LargeResult/leaky").at(0)->number("expected_per_retry"), 0);
  const auto e = lg::evaluate(run, lg::default_budgets());
  const auto rss = bounds_of(e, "LargeResult/leaky", "rss_per_retry");
  ASSERT_EQ(rss.size(), 1u);
  EXPECT_EQ(rss[0], std::pair(lg::bound::max, lg::verdict::fail));
  EXPECT_TRUE(e.fails(lg::inconclusive_policy::pass));
}

TEST(evaluate, a_leaky_benchmark_that_grows_ten_times_its_expectation_fails) {
  const auto clean = recorded_run("clean.json");
  const double expected = *clean.repetitions_of("Single/leaky").at(0)->number("expected_per_retry");
  for (const char* counter : {"rss_per_retry", "heap_per_retry"}) {
    const auto run = with_counter(clean, "Single/leaky", counter, 10 * expected);
    const auto e = lg::evaluate(run, lg::default_budgets());
    const auto bounds = bounds_of(e, "Single/leaky", counter);
    ASSERT_EQ(bounds.size(), 2u) << counter;
    EXPECT_EQ(bounds[0], std::pair(lg::bound::min, lg::verdict::pass)) << counter;
    EXPECT_EQ(bounds[1], std::pair(lg::bound::max, lg::verdict::fail)) << counter;
  }
}

TEST(evaluate, the_upper_tolerance_allows_what_the_model_keeps_beside_the_payload) {
  // Generator/leaky at 32 MiB: RSS 32.128 MiB; the heap P plus 8 KiB of model overhead.
  const double p = 32 * 1048576.0;
  auto run = recorded_run("clean.json");
  for (const auto& [counter, value] :
       {std::pair{"expected_per_retry", p}, std::pair{"payload", p},
        std::pair{"rss_per_retry", 32.128 * 1048576}, std::pair{"heap_per_retry", p + 8192}}) {
    run = with_counter(std::move(run), "Generator/leaky", counter, value);
  }
  const auto e = lg::evaluate(run, lg::default_budgets());
  for (const char* counter : {"rss_per_retry", "heap_per_retry"}) {
    const auto bounds = bounds_of(e, "Generator/leaky", counter);
    ASSERT_EQ(bounds.size(), 2u) << counter;
    for (const auto& [kind, v] : bounds) EXPECT_EQ(v, lg::verdict::pass) << counter;
  }
}

TEST(evaluate, fixed_rules_hold_every_variant_but_leaky_whatever_its_name) {
  const auto b = lg::default_budgets();
  std::size_t fixed_rules = 0, leaky_rules = 0;
  for (const auto& r : b.rules) {
    const bool fixed = r.matches("Single/fixed");
    EXPECT_EQ(fixed, r.matches("Single/installed")) << r.name;
    EXPECT_EQ(fixed, r.matches("Nested/v1.17")) << r.name;
    EXPECT_EQ(r.matches("Single/leaky"), !fixed) << r.name << ": one side or the other";
    EXPECT_FALSE(r.matches("Single/leakyish") && !fixed) << r.name;
    fixed_rules += fixed;
    leaky_rules += !fixed;
  }
  EXPECT_EQ(fixed_rules, 3u);
  EXPECT_EQ(leaky_rules, 6u);
}

TEST(evaluate, a_gate_whose_rules_exclude_every_benchmark_they_name_checks_nothing) {
  // A canary (when expected_per_retry > 0) on benchmarks that expect no leak: no check at all.
  const auto run = recorded_run("clean.json");
  const auto b = budgets_text(
      "[[rule]]\nname = \"canary\"\nmatch = \"^LargeResult/leaky$\"\ncounter = "
      "\"rss_per_retry\"\nmin = \"90% expected\"\nwhen = \"expected_per_retry > 0\"\n");
  const auto e = lg::evaluate(run, b);
  EXPECT_EQ(e.checked(), 0u);
  ASSERT_EQ(e.excluded.size(), 1u);
  EXPECT_EQ(e.excluded[0].benchmark, "LargeResult/leaky");
  try {
    lg::require_checks(e, run, b);
    FAIL() << "a gate that checks nothing passed";
  } catch (const lr::input_error& x) {
    EXPECT_STREQ(x.what(),
                 "b.toml: the gate checks nothing in clean.json: rule \"canary\" (b.toml:1) "
                 "excludes LargeResult/leaky by its when (expected_per_retry > 0)");
  }
  EXPECT_NO_THROW(
      lg::require_checks(lg::evaluate(run, lg::default_budgets()), run, lg::default_budgets()));
}

TEST(evaluate, heap_rules_are_not_applicable_to_a_run_measured_from_outside) {
  const auto run = lr::parse_run(leakbench::test::dramatiq_run_text(), "dramatiq.json");
  ASSERT_EQ(run.target(), "dramatiq");
  ASSERT_FALSE(run.has_heap());
  const auto b = lg::default_budgets();
  const auto e = lg::evaluate(run, b);
  // Single/installed is gated as fixed (RSS, heap, ceiling), Single/leaky as a leaky variant
  // with an expectation (RSS and heap, from below and above).
  ASSERT_EQ(e.checks.size(), 3u + 4u);
  std::size_t na = 0;
  for (const auto& c : e.checks) {
    if (lr::is_heap_counter(c.counter)) {
      ++na;
      EXPECT_EQ(c.outcome, lg::verdict::not_applicable) << c.label();
      EXPECT_EQ(c.reason,
                "not applicable: a dramatiq run has no heap counter (the worker is measured "
                "from outside its process)");
      EXPECT_FALSE(c.fails(lg::inconclusive_policy::fail));
    } else {
      EXPECT_EQ(c.outcome, lg::verdict::pass) << c.label() << " " << c.counter << ": " << c.reason;
    }
  }
  EXPECT_EQ(na, 3u);
  EXPECT_EQ(e.checked(), 4u);
  EXPECT_FALSE(e.fails(lg::inconclusive_policy::fail));
  // A user's rule on reclaimed, or on a heap counter alone: rows, but no check.
  const auto heap_only = budgets_text(
      "[[rule]]\nmatch = \".\"\ncounter = \"reclaimed\"\nmax = 0\n[[rule]]\nmatch = "
      "\".\"\ncounter = \"rss_per_retry\"\nmax = \"1MiB\"\nwhen = \"heap_r2 > 0.5\"\n");
  const auto none = lg::evaluate(run, heap_only);
  ASSERT_EQ(none.checks.size(), 4u);
  EXPECT_EQ(none.count(lg::verdict::not_applicable), 4u);
  EXPECT_THROW(lg::require_checks(none, run, heap_only), lr::input_error);
  // The same rules on a model run (no target: a model run) are checks.
  auto model = run;
  model.context.erase("target");
  EXPECT_TRUE(model.has_heap());
  EXPECT_EQ(lg::evaluate(model, heap_only).count(lg::verdict::not_applicable), 0u);
}

TEST(condition, each_operator_holds_exactly_where_it_says_at_its_boundary) {
  const std::vector<std::pair<std::string, std::array<bool, 3>>> table = {
      // below, at, above the value 8
      {"<", {true, false, false}}, {"<=", {true, true, false}},  {">", {false, false, true}},
      {">=", {false, true, true}}, {"==", {false, true, false}}, {"!=", {true, false, true}},
  };
  ASSERT_EQ(table.size(), 6u);
  for (const auto& [op, expect] : table) {
    const auto b = budgets_text(fmt::format(
        "[[rule]]\nmatch = \".\"\ncounter = \"x\"\nmax = 1\nwhen = \"retries {} 8\"\n", op));
    ASSERT_EQ(b.rules.at(0).when.size(), 1u);
    const auto& c = b.rules[0].when[0];
    EXPECT_EQ(c.op, op);
    EXPECT_EQ(c.holds(7), expect[0]) << "7 " << op << " 8";
    EXPECT_EQ(c.holds(8), expect[1]) << "8 " << op << " 8";
    EXPECT_EQ(c.holds(9), expect[2]) << "9 " << op << " 8";
  }
}
