// Budgets files: the shipped defaults, every form of limit, and every mistake a user can make,
// each reported with its file and line.
#include <gtest/gtest.h>

#include "reports/gate/budgets.hpp"
#include "tests/reports/data.hpp"

namespace lg = leakbench::gate;
namespace lr = leakbench::reports;

namespace {

std::string error_of(const std::string& file) {
  try {
    lg::read_budgets(leakbench::test::data_path("budgets/" + file));
  } catch (const lr::input_error& e) {
    // Relative to tests/data, so that the expectations do not depend on the checkout's path.
    std::string what = e.what();
    const std::string prefix = leakbench::test::data_path("");
    if (what.starts_with(prefix)) what.erase(0, prefix.size());
    return what;
  }
  return "";
}

std::string parse_error_of(const std::string& text) {
  try {
    lg::parse_budgets(text, "b.toml");
  } catch (const lr::input_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(budgets, the_shipped_defaults_gate_fixed_variants_and_keep_the_canary) {
  const auto b = lg::default_budgets();
  EXPECT_EQ(b.source, "reports/budgets.toml");
  ASSERT_EQ(b.rules.size(), 9u);
  const auto& rss = b.rules[0];
  EXPECT_EQ(rss.counter, "rss_per_retry");
  EXPECT_EQ(rss.kind, lg::bound::max);
  EXPECT_EQ(rss.limit.amount, 16 * 1024);
  EXPECT_EQ(rss.interval, "rss_ci95") << "from leakbench's built-in counters";
  EXPECT_TRUE(rss.matches("Nested/fixed"));
  EXPECT_FALSE(rss.matches("Nested/leaky"));
  EXPECT_EQ(b.rules[1].interval, "heap_ci95");
  EXPECT_EQ(b.rules[2].counter, "ceiling_hit");
  EXPECT_TRUE(b.rules[2].interval.empty());
  for (const auto* canary : {&b.rules[3], &b.rules[4]}) {
    EXPECT_EQ(canary->kind, lg::bound::min);
    EXPECT_DOUBLE_EQ(canary->limit.fraction, 0.9);
    EXPECT_EQ(canary->limit.amount, 0);
    EXPECT_EQ(canary->limit.of, "expected_per_retry");
    ASSERT_EQ(canary->when.size(), 1u);
    EXPECT_EQ(canary->when[0].counter, "expected_per_retry");
    EXPECT_FALSE(canary->when[0].holds(0));
    EXPECT_TRUE(canary->when[0].holds(1));
  }
  for (const auto* ceiling : {&b.rules[5], &b.rules[6]}) {
    EXPECT_EQ(ceiling->kind, lg::bound::max);
    EXPECT_DOUBLE_EQ(ceiling->limit.fraction, 1.05);
    EXPECT_EQ(ceiling->limit.of, "expected_per_retry");
    EXPECT_DOUBLE_EQ(ceiling->limit.resolve(1048576), 1.05 * 1048576 + ceiling->limit.amount);
    EXPECT_GT(ceiling->limit.amount, 0);
  }
  for (const auto* nothing : {&b.rules[7], &b.rules[8]}) {
    EXPECT_EQ(nothing->kind, lg::bound::max);
    EXPECT_TRUE(nothing->limit.of.empty());
    ASSERT_EQ(nothing->when.size(), 1u);
    EXPECT_TRUE(nothing->when[0].holds(0));
    EXPECT_FALSE(nothing->when[0].holds(1));
  }
  EXPECT_EQ(b.baseline.abs_tolerance, 8 * 1024);
  EXPECT_DOUBLE_EQ(b.baseline.rel_tolerance, 0.05);
  EXPECT_FALSE(b.baseline.missing_fails);
  EXPECT_EQ(b.exported(),
            (std::vector<std::string>{"heap_per_retry", "peak_rss", "retained", "rss_per_retry"}));
}

TEST(budgets, a_limit_may_add_a_size_to_a_fraction) {
  const auto b = lg::parse_budgets(
      "[[rule]]\nmatch = \"x\"\ncounter = \"x\"\nmax = \"105% expected + 64KiB\"\n"
      "[[rule]]\nmatch = \"x\"\ncounter = \"x\"\nmax = \"1 MiB+ 2.5% payload\"\n",
      "b.toml");
  ASSERT_EQ(b.rules.size(), 2u);
  EXPECT_DOUBLE_EQ(b.rules[0].limit.resolve(1000), 1050 + 65536);
  EXPECT_DOUBLE_EQ(b.rules[1].limit.resolve(1000), 25 + 1048576);
  EXPECT_EQ(b.rules[1].limit.of, "payload");
  EXPECT_EQ(parse_error_of("[[rule]]\nmatch = \"x\"\ncounter = \"x\"\nmax = \"1KiB + 2KiB\"\n"),
            "b.toml:4: max = \"1KiB + 2KiB\": two sizes");
}

TEST(budgets, non_finite_and_negative_limits_and_tolerances_are_refused_with_their_line) {
  const std::string rule = "[[rule]]\nmatch = \"x\"\ncounter = \"x\"\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {rule + "max = inf\n", "b.toml:4: max = inf: not a finite number"},
      {rule + "max = nan\n", "b.toml:4: max = nan: not a finite number"},
      {rule + "min = -inf\n", "b.toml:4: min = -inf: not a finite number"},
      {rule + "max = -1\n", "b.toml:4: max = -1: must not be negative"},
      {rule + "max = -0.5\n", "b.toml:4: max = -0.5: must not be negative"},
      {rule + "max = \"-16KiB\"\n",
       "b.toml:4: max = \"-16KiB\": '-16KiB' is not a size: a size has no sign"},
      {rule + "max = \"-16\"\n", "b.toml:4: max = \"-16\": must not be negative"},
      {rule + "min = \"-90% expected\"\n",
       "b.toml:4: min = \"-90% expected\": must not be negative"},
      {rule + "max = \"inf% expected\"\n",
       "b.toml:4: max = \"inf% expected\": 'inf' is not a number"},
      {rule + "max = 1\n[baseline]\nrel_tolerance = \"-5%\"\n",
       "b.toml:6: rel_tolerance = \"-5%\": must not be negative"},
      {rule + "max = 1\n[baseline]\nrel_tolerance = -0.05\n",
       "b.toml:6: rel_tolerance = -0.05: must not be negative"},
      {rule + "max = 1\n[baseline]\nrel_tolerance = inf\n",
       "b.toml:6: rel_tolerance = inf: not a finite number"},
      {rule + "max = 1\n[baseline]\nabs_tolerance = \"-8KiB\"\n",
       "b.toml:6: abs_tolerance = \"-8KiB\": '-8KiB' is not a size: a size has no sign"},
      {rule + "max = 1\n[baseline]\nabs_tolerance = nan\n",
       "b.toml:6: abs_tolerance = nan: not a finite number"},
  };
  ASSERT_EQ(cases.size(), 14u);
  for (const auto& [text, says] : cases) EXPECT_EQ(parse_error_of(text), says) << text;
}

TEST(budgets, a_condition_reads_plain_numbers_of_any_sign_and_sizes) {
  const auto b = lg::parse_budgets(
      "[[rule]]\nmatch = \"x\"\ncounter = \"x\"\nmax = 1\nwhen = [\"rss_r2 > 0.9\", "
      "\"heap_per_retry >= -100\", \"peak_rss < 1.5 MiB\"]\n",
      "b.toml");
  ASSERT_EQ(b.rules.at(0).when.size(), 3u);
  EXPECT_DOUBLE_EQ(b.rules[0].when[0].value, 0.9);
  EXPECT_DOUBLE_EQ(b.rules[0].when[1].value, -100);
  EXPECT_DOUBLE_EQ(b.rules[0].when[2].value, 1.5 * 1048576);
}

TEST(budgets, reads_every_form_of_limit_and_condition) {
  const auto b = lg::read_budgets(leakbench::test::data_path("budgets/every_form.toml"));
  ASSERT_EQ(b.rules.size(), 5u);
  EXPECT_EQ(b.rules[0].name, "rss_per_retry <= 16KiB") << "a default name says what it checks";
  EXPECT_EQ(b.rules[1].name, "plain number");
  EXPECT_EQ(b.rules[1].limit.amount, 0);
  EXPECT_EQ(b.rules[2].limit.amount, 2.5 * 1048576);
  EXPECT_TRUE(b.rules[2].optional);
  EXPECT_EQ(b.rules[3].when.size(), 2u);
  EXPECT_EQ(b.rules[3].when[1].op, ">=");
  EXPECT_DOUBLE_EQ(b.rules[4].limit.fraction, 0.01);
  EXPECT_EQ(b.rules[4].limit.of, "payload");
  EXPECT_EQ(b.rules[4].interval, "rss_ci95") << "a rule's own interval wins";
  EXPECT_FALSE(b.info("retained").exported);
  EXPECT_TRUE(b.info("retained").bytes) << "[counters] changes only what it names";
  EXPECT_TRUE(b.info("my_counter").bytes);
  EXPECT_EQ(b.info("my_counter").interval, "my_ci");
  EXPECT_EQ(b.baseline.counters, (std::vector<std::string>{"rss_per_retry"}));
  EXPECT_EQ(b.baseline.abs_tolerance, 4096);
  EXPECT_DOUBLE_EQ(b.baseline.rel_tolerance, 0.1);
  EXPECT_TRUE(b.baseline.missing_fails);
}

TEST(budgets, a_toml_syntax_error_names_its_line_and_column) {
  const std::string e = error_of("syntax_error.toml");
  EXPECT_TRUE(e.starts_with("budgets/syntax_error.toml:6:")) << e;
  EXPECT_NE(e.find("TOML syntax error"), std::string::npos) << e;
}

TEST(budgets, mistakes_name_the_file_and_line) {
  EXPECT_EQ(error_of("unknown_key.toml"),
            "budgets/unknown_key.toml:4: unknown key 'mx' in a [[rule]] (known: name, match, "
            "counter, max, min, interval, when, optional)");
  EXPECT_TRUE(error_of("bad_regex.toml")
                  .starts_with("budgets/bad_regex.toml:2: match = \"(fixed\" is not a valid regex"))
      << error_of("bad_regex.toml");
  EXPECT_EQ(error_of("bad_unit.toml"),
            "budgets/bad_unit.toml:4: max = \"16KB\": '16KB' has an unknown unit 'KB': use B, KiB, "
            "MiB, GiB or TiB (1024-based)");
}

TEST(budgets, a_rule_must_say_what_and_how_much) {
  EXPECT_EQ(parse_error_of("[[rule]]\ncounter = \"x\"\nmax = 1\n"),
            "b.toml:1: a [[rule]] needs match = \"<regex>\"");
  EXPECT_EQ(parse_error_of("[[rule]]\nmatch = \"x\"\nmax = 1\n"),
            "b.toml:1: a [[rule]] needs counter = \"<name>\"");
  EXPECT_EQ(parse_error_of("[[rule]]\nmatch = \"x\"\ncounter = \"x\"\n"),
            "b.toml:1: a [[rule]] needs exactly one of max or min");
  EXPECT_EQ(parse_error_of("[[rule]]\nmatch = \"x\"\ncounter = \"x\"\nmax = 1\nmin = 0\n"),
            "b.toml:1: a [[rule]] needs exactly one of max or min");
  EXPECT_EQ(parse_error_of("[[rule]]\nmatch = \"x\"\ncounter = \"x\"\nmax = \"5% of payload\"\n"),
            "b.toml:4: max = \"5% of payload\": a fraction names one counter, e.g. \"90% "
            "expected\" or \"105% expected + 64KiB\"");
  EXPECT_EQ(parse_error_of("[[rule]]\nmatch = \"x\"\ncounter = \"x\"\nmax = 1\nwhen = \"x\"\n"),
            "b.toml:5: when = \"x\": expected \"<counter> <op> <value>\", e.g. "
            "\"expected_per_retry > 0\"");
}

TEST(budgets, a_file_without_rules_is_refused) {
  EXPECT_EQ(parse_error_of("# nothing\n"),
            "b.toml: no [[rule]]: a gate with nothing to check passes everything");
  EXPECT_EQ(parse_error_of("[gate]\nx = 1\n"),
            "b.toml:1: unknown key 'gate' (known: [[rule]], [counters], [baseline])");
}
