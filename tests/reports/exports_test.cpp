// Every export parsed back by a real parser and checked against the JSON it came from.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <pugixml.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "reports/gate/outcome.hpp"
#include "tests/reports/data.hpp"

namespace lg = leakbench::gate;
namespace lr = leakbench::reports;
using leakbench::test::recorded_run;

namespace {

// A rule name with everything the formats must escape.
constexpr const char* k_tricky_budgets = R"(
[[rule]]
name = "a <tricky> & \"quoted\" | \\ rule"
match = "/fixed$"
counter = "heap_per_retry"
max = "1KiB"
)";

/// clean.json standing for a baseline that injected the same leak, so that the two compare.
lr::run as_if_injected(lr::run r) {
  r.context["inject_leak"] = "65536";
  return r;
}

/// inject_64KiB.json gated against clean.json, with the default budgets or `budgets_text`.
struct fixture : ::testing::Test {
  lr::run now = recorded_run("inject_64KiB.json");
  lr::run before = as_if_injected(recorded_run("clean.json"));
  lg::budgets budgets = lg::default_budgets();
  lg::outcome o;

  void decide() {
    o.results = &now;
    o.budgets = &budgets;
    o.baseline = &before;
    o.eval = lg::evaluate(now, budgets);
    o.comparisons = lg::compare(now, before, budgets);
  }
  void SetUp() override { decide(); }

  template <typename Writer>
  std::string render(Writer w) {
    std::ostringstream s;
    w(s, o);
    return s.str();
  }
  double counter(const std::string& key, const std::string& name) {
    return *now.repetitions_of(key).at(0)->number(name);
  }
};

}  // namespace

TEST_F(fixture, bencher_metric_format_carries_each_counter_with_its_interval) {
  const auto doc = nlohmann::json::parse(render(lg::write_bencher));
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc.size(), now.keys().size());
  for (const auto& key : now.keys()) {
    const auto& b = doc.at(key);
    EXPECT_EQ(b.size(), 4u) << key << ": rss_per_retry, heap_per_retry, peak_rss, retained";
    const auto& rss = b.at("rss_per_retry");
    EXPECT_EQ(rss.at("value").get<double>(), counter(key, "rss_per_retry")) << key;
    EXPECT_EQ(rss.at("lower_value").get<double>(),
              counter(key, "rss_per_retry") - counter(key, "rss_ci95"));
    EXPECT_EQ(rss.at("upper_value").get<double>(),
              counter(key, "rss_per_retry") + counter(key, "rss_ci95"));
    EXPECT_EQ(b.at("peak_rss").at("value").get<double>(), counter(key, "peak_rss"));
    EXPECT_FALSE(b.at("peak_rss").contains("lower_value")) << "no interval, no bounds";
  }
}

TEST_F(fixture, github_action_benchmark_entries_are_custom_smaller_is_better) {
  const auto doc = nlohmann::json::parse(render(lg::write_github_action_benchmark));
  ASSERT_TRUE(doc.is_array());
  EXPECT_EQ(doc.size(), now.keys().size() * 4);
  std::set<std::string> names;
  for (const auto& e : doc) {
    ASSERT_TRUE(e.at("name").is_string());
    ASSERT_TRUE(e.at("value").is_number());
    EXPECT_EQ(e.at("unit"), "bytes");
    names.insert(e.at("name").get<std::string>());
  }
  EXPECT_EQ(names.size(), doc.size()) << "names are unique";
  for (const auto& e : doc) {
    if (e.at("name") != "Nested/fixed rss_per_retry") continue;
    EXPECT_EQ(e.at("value").get<double>(), counter("Nested/fixed", "rss_per_retry"));
    EXPECT_TRUE(e.at("range").get<std::string>().starts_with("± "));
  }
}

TEST_F(fixture, junit_has_one_test_case_per_benchmark_and_rule_and_per_comparison) {
  budgets = lg::parse_budgets(std::string(lg::default_budgets_text()) + k_tricky_budgets, "b.toml");
  decide();
  const std::string xml = render(lg::write_junit);
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(xml.c_str())) << xml.substr(0, 300);
  const auto suites = doc.child("testsuites");
  const auto checks = suites.find_child_by_attribute("testsuite", "name", "leakgate");
  const auto base = suites.find_child_by_attribute("testsuite", "name", "leakgate.baseline");
  // One run of each benchmark: a test case per check.
  const auto n = static_cast<int>(o.eval.checks.size());
  EXPECT_EQ(std::distance(checks.children("testcase").begin(), checks.children("testcase").end()),
            n);
  EXPECT_EQ(checks.attribute("tests").as_int(), n);
  std::size_t failing = 0, tricky_failures = 0;
  for (const auto& c : o.eval.checks) {
    failing += c.fails(o.policy);
    tricky_failures += c.rule_name.starts_with("a <tricky>") && c.outcome == lg::verdict::fail;
  }
  EXPECT_GT(tricky_failures, 0u) << "the injected leak fails the tricky rule too";
  EXPECT_EQ(checks.attribute("failures").as_int(), static_cast<int>(failing));
  EXPECT_EQ(base.attribute("tests").as_int(), static_cast<int>(o.comparisons.size()));
  EXPECT_EQ(suites.attribute("failures").as_int(),
            checks.attribute("failures").as_int() + base.attribute("failures").as_int());
  const auto tricky = checks.find_child_by_attribute(
      "testcase", "name", "a <tricky> & \"quoted\" | \\ rule (heap_per_retry)");
  ASSERT_TRUE(tricky) << "the name survives XML escaping";
  EXPECT_STREQ(tricky.attribute("classname").value(), "Single/fixed");
  EXPECT_TRUE(
      std::string(tricky.child("failure").attribute("message").value()).starts_with("64 KiB ± "));
}

TEST_F(fixture, openmetrics_follows_the_line_grammar_and_ends_with_eof) {
  budgets = lg::parse_budgets(std::string(lg::default_budgets_text()) + k_tricky_budgets, "b.toml");
  decide();
  const std::string text = render(lg::write_openmetrics);
  const std::regex name(R"([a-zA-Z_:][a-zA-Z0-9_:]*)");
  const std::regex type_line(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (gauge|counter|unknown))");
  const std::regex unit_line(R"(# UNIT ([a-zA-Z_:][a-zA-Z0-9_:]*) ([a-z]+))");
  const std::regex help_line(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*))");
  const std::regex label(R"([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*")");
  const std::regex sample(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*")(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*")*\})? (-?[0-9.e+-]+|NaN|[+-]Inf))");
  std::istringstream in(text);
  std::string line, family;
  std::set<std::string> families;
  std::size_t samples = 0;
  bool eof = false;
  while (std::getline(in, line)) {
    ASSERT_FALSE(eof) << "nothing after # EOF";
    std::smatch m;
    if (line == "# EOF") {
      eof = true;
    } else if (std::regex_match(line, m, type_line)) {
      family = m[1];
      EXPECT_TRUE(families.insert(family).second) << "a family appears once: " << family;
    } else if (std::regex_match(line, m, unit_line)) {
      EXPECT_EQ(m[1], family);
      EXPECT_TRUE(family.ends_with(fmt::format("_{}", m[2].str()))) << "a unit is the suffix";
    } else if (std::regex_match(line, m, help_line)) {
      EXPECT_EQ(m[1], family);
    } else {
      ASSERT_TRUE(std::regex_match(line, m, sample)) << "not a sample: " << line;
      EXPECT_EQ(m[1], family) << "samples follow their family's TYPE";
      ++samples;
    }
  }
  EXPECT_TRUE(eof);
  EXPECT_TRUE(families.count("leakgate_rss_per_retry_bytes"));
  EXPECT_TRUE(families.count("leakgate_rss_per_retry_ci95_bytes"));
  EXPECT_TRUE(families.count("leakgate_check_passed"));
  EXPECT_EQ(samples, now.keys().size() * 6 + o.eval.checks.size() + 1)
      << "4 counters + 2 intervals, checks, gate";
  const double v = counter("Nested/fixed", "heap_per_retry");
  EXPECT_NE(text.find(fmt::format(
                "leakgate_heap_per_retry_bytes{{benchmark=\"Nested/fixed\"}} {:.17g}\n", v)),
            std::string::npos);
  EXPECT_NE(text.find(R"(rule="a <tricky> & \"quoted\" | \\ rule"} 0)"), std::string::npos);
  EXPECT_NE(text.find("leakgate_passed 0\n"), std::string::npos);
}

TEST_F(fixture, markdown_table_rows_keep_their_columns_whatever_the_names) {
  budgets = lg::parse_budgets(std::string(lg::default_budgets_text()) + k_tricky_budgets, "b.toml");
  decide();
  const std::string md = render(lg::write_markdown);
  EXPECT_TRUE(md.starts_with("### leakgate: ❌ FAIL\n"));
  std::istringstream in(md);
  std::string line;
  std::size_t rows = 0;
  while (std::getline(in, line)) {
    if (!line.starts_with("| `")) continue;
    ++rows;
    // Unescaped cell separators: a name's '|' must not add a column.
    std::size_t bars = 0;
    for (std::size_t i = 0; i < line.size(); ++i)
      bars += line[i] == '|' && (i == 0 || line[i - 1] != '\\');
    EXPECT_TRUE(bars == 9 || bars == 7) << line;  // checks: 8 cells; baseline: 6 cells
  }
  EXPECT_EQ(rows, o.eval.checks.size() + o.comparisons.size());
  EXPECT_NE(md.find("a &lt;tricky&gt; &amp; \"quoted\" \\| \\\\ rule"), std::string::npos)
      << "the rule's name, escaped, in its column";
}

TEST_F(fixture, the_table_is_coloured_only_when_asked) {
  const std::string plain =
      render([](std::ostream& s, const lg::outcome& x) { lg::write_table(s, x, false); });
  EXPECT_EQ(plain.find('\033'), std::string::npos);
  EXPECT_NE(plain.find("Single/fixed          heap_per_retry  64 KiB ± "), std::string::npos)
      << plain.substr(0, 2000);
  const std::string colored =
      render([](std::ostream& s, const lg::outcome& x) { lg::write_table(s, x, true); });
  EXPECT_NE(colored.find("\033[1;31mFAIL"), std::string::npos);
}
