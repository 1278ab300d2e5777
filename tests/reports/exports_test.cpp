// Every export parsed back by a real parser and checked against the JSON it came from.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>
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
  ASSERT_GE(now.keys().size(), 14u);
  EXPECT_EQ(doc.size(), now.keys().size());
  for (const auto& key : now.keys()) {
    const auto& b = doc.at(key);
    EXPECT_EQ(b.size(), 4u) << key << ": rss-per-retry, heap-per-retry, peak-rss, retained";
    const auto& rss = b.at("rss-per-retry");
    EXPECT_EQ(rss.at("value").get<double>(), counter(key, "rss_per_retry")) << key;
    EXPECT_EQ(rss.at("lower_value").get<double>(),
              counter(key, "rss_per_retry") - counter(key, "rss_ci95"));
    EXPECT_EQ(rss.at("upper_value").get<double>(),
              counter(key, "rss_per_retry") + counter(key, "rss_ci95"));
    EXPECT_EQ(b.at("peak-rss").at("value").get<double>(), counter(key, "peak_rss"));
    EXPECT_FALSE(b.at("peak-rss").contains("lower_value")) << "no interval, no bounds";
    for (const auto& [measure, value] : b.items()) {
      EXPECT_TRUE(std::regex_match(measure, std::regex("[a-z0-9]+(-[a-z0-9]+)*")))
          << measure << ": a measure key is a slug";
    }
  }
}

TEST_F(fixture, a_benchmark_cut_short_by_the_ceiling_is_marked_in_every_export) {
  // two_points.json: Single/leaky stopped at --max_rss after two retries, so no interval.
  now = recorded_run("two_points.json");
  before = now;
  decide();
  ASSERT_EQ(counter("Single/leaky", "ceiling_hit"), 1);
  const auto bmf = nlohmann::json::parse(render(lg::write_bencher)).at("Single/leaky");
  EXPECT_EQ(bmf.at("ceiling-hit").at("value"), 1);
  EXPECT_EQ(bmf.at("rss-per-retry").at("value").get<double>(),
            counter("Single/leaky", "rss_per_retry"))
      << "the slope stays, marked, not silently dropped";
  const auto gab = nlohmann::json::parse(render(lg::write_github_action_benchmark));
  std::size_t marked = 0;
  for (const auto& e : gab) {
    if (!e.at("name").get<std::string>().starts_with("Single/leaky ")) continue;
    ++marked;
    EXPECT_NE(e.at("extra").get<std::string>().find("CUT SHORT at --max_rss after 2 retries"),
              std::string::npos)
        << e.at("extra");
  }
  EXPECT_EQ(marked, 2u) << "rss_per_retry and heap_per_retry";
  EXPECT_NE(render(lg::write_openmetrics).find("leakgate_ceiling_hit{benchmark=\"Single/leaky\","),
            std::string::npos);
  EXPECT_NE(render(lg::write_markdown).find("cut short at --max\\_rss (ceiling\\_hit 1)"),
            std::string::npos)
      << render(lg::write_markdown);
  EXPECT_NE(render(lg::write_junit).find("Single/leaky: cut short at --max_rss (ceiling_hit 1)"),
            std::string::npos);
  const std::string table =
      render([](std::ostream& s, const lg::outcome& x) { lg::write_table(s, x, false); });
  EXPECT_NE(table.find("cut short at --max_rss (ceiling_hit 1), their slopes from fewer "
                       "retries: Single/leaky after 2 retries"),
            std::string::npos)
      << table;
}

/// github-action-benchmark's alert for customSmallerIsBetter: a benchmark whose value grew
/// by more than the threshold ratio since the previous run (current / previous > 2 at the
/// default alert-threshold of 200%). The names of the entries that alert.
std::vector<std::string> alerts(const nlohmann::json& previous, const nlohmann::json& current,
                                double threshold = 2.0) {
  std::map<std::string, double> before;
  for (const auto& e : previous) before[e.at("name")] = e.at("value");
  std::vector<std::string> out;
  for (const auto& e : current) {
    const auto it = before.find(e.at("name"));
    if (it != before.end() && e.at("value").get<double>() / it->second > threshold) {
      out.push_back(e.at("name"));
    }
  }
  return out;
}

/// The github-action-benchmark export of `r` under the shipped budgets.
nlohmann::json gab_of(const lr::run& r) {
  const auto b = lg::default_budgets();
  lg::outcome o{.results = &r, .budgets = &b};
  o.eval = lg::evaluate(r, b);
  std::ostringstream s;
  lg::write_github_action_benchmark(s, o);
  return nlohmann::json::parse(s.str());
}

TEST(github_action_benchmark, noise_between_clean_runs_raises_no_alert_and_a_leak_does) {
  const auto clean = recorded_run("clean.json");
  const auto reps = recorded_run("repetitions_series.json");
  const std::vector<std::pair<lr::run, lr::run>> clean_pairs = {
      {clean, recorded_run("single_only.json")},
      {clean, recorded_run("repetitions.json")},
      {leakbench::test::only_repetitions(reps, {0}, "a"),
       leakbench::test::only_repetitions(reps, {3}, "b")}};
  for (const auto& [a, b] : clean_pairs) {
    const auto x = gab_of(a), y = gab_of(b);
    std::size_t shared = 0;
    for (const auto& e : y) {
      for (const auto& f : x) shared += e.at("name") == f.at("name");
    }
    EXPECT_GE(shared, 4u) << a.source << " and " << b.source << " share benchmarks";
    EXPECT_EQ(alerts(x, y), std::vector<std::string>{}) << a.source << " then " << b.source;
    EXPECT_EQ(alerts(y, x), std::vector<std::string>{}) << b.source << " then " << a.source;
  }
  // The injected 64 KiB: every fixed benchmark alerts, in RSS and on the heap.
  const auto leak = alerts(gab_of(clean), gab_of(recorded_run("inject_64KiB.json")));
  std::size_t fixed = 0;
  for (const auto& key : clean.keys()) {
    if (!key.ends_with("/fixed")) continue;
    ++fixed;
    for (const char* counter : {"rss_per_retry", "heap_per_retry"}) {
      const std::string name = key + " " + counter;
      EXPECT_NE(std::find(leak.begin(), leak.end(), name), leak.end()) << name;
    }
  }
  EXPECT_GE(fixed, 7u);
}

TEST_F(fixture, github_action_benchmark_entries_are_custom_smaller_is_better) {
  const auto doc = nlohmann::json::parse(render(lg::write_github_action_benchmark));
  ASSERT_TRUE(doc.is_array());
  EXPECT_EQ(doc.size(), now.keys().size() * 2) << "rss_per_retry and heap_per_retry";
  std::set<std::string> names;
  for (const auto& e : doc) {
    ASSERT_TRUE(e.at("name").is_string());
    ASSERT_TRUE(e.at("value").is_number());
    EXPECT_GE(e.at("value").get<double>(), 4096) << e.at("name") << ": floored at a page";
    EXPECT_EQ(e.at("unit"), "bytes");
    const std::string extra = e.at("extra");
    for (const char* key : {"payload 1048576", "retries 12", "gc off", "broker memory",
                            "inject_leak 65536", "target model", "git_commit "}) {
      EXPECT_NE(extra.find(key), std::string::npos) << key << " in " << extra;
    }
    EXPECT_NE(extra.find("INJECTED LEAK of 64 KiB per attempt"), std::string::npos) << extra;
    names.insert(e.at("name").get<std::string>());
  }
  EXPECT_EQ(names.size(), doc.size()) << "names are unique";
  std::size_t nested = 0;
  for (const auto& e : doc) {
    if (e.at("name") != "Nested/fixed rss_per_retry") continue;
    ++nested;
    EXPECT_EQ(e.at("value").get<double>(),
              std::max(4096.0, counter("Nested/fixed", "rss_per_retry") +
                                   counter("Nested/fixed", "rss_ci95")));
    EXPECT_TRUE(e.at("range").get<std::string>().starts_with("± "));
  }
  EXPECT_EQ(nested, 1u);
}

TEST_F(fixture, junit_has_one_test_case_per_benchmark_and_rule_and_per_comparison) {
  budgets = lg::parse_budgets(std::string(lg::default_budgets_text()) + k_tricky_budgets, "b.toml");
  decide();
  const std::string xml = render(lg::write_junit);
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(xml.c_str())) << xml.substr(0, 300);
  const auto suites = doc.child("testsuites");
  // A suite per input file: merged reports of several runs keep their cases apart.
  const auto checks =
      suites.find_child_by_attribute("testsuite", "name", "leakgate inject_64KiB.json");
  const auto base = suites.find_child_by_attribute(
      "testsuite", "name", "leakgate.baseline inject_64KiB.json against clean.json");
  ASSERT_TRUE(checks);
  ASSERT_TRUE(base);
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
  // Each case takes its benchmark's time; the run's configuration is in the properties.
  const auto* row = now.repetitions_of("Single/fixed").at(0);
  const double seconds =
      *row->seconds() + *row->number("harness_time_per_retry") * *row->number("retries");
  EXPECT_DOUBLE_EQ(tricky.attribute("time").as_double(), std::round(seconds * 1e6) / 1e6);
  EXPECT_GT(tricky.attribute("time").as_double(), 0);
  std::map<std::string, std::string> props;
  for (const auto& p : checks.child("properties").children("property")) {
    props[p.attribute("name").value()] = p.attribute("value").value();
  }
  EXPECT_EQ(props["payload"], "1048576");
  EXPECT_EQ(props["inject_leak"], "65536");
  EXPECT_EQ(props["target"], "model");
  EXPECT_EQ(props["gc"], "off");
  EXPECT_EQ(props["retries"], "12");
  EXPECT_EQ(props["broker"], "memory");
  EXPECT_EQ(props["git_commit"], *now.context_value("git_commit"));
}

TEST(junit, rules_that_do_not_apply_are_skipped_cases) {
  const auto run = lr::parse_run(leakbench::test::dramatiq_run_text(), "dramatiq.json");
  const auto b = lg::default_budgets();
  lg::outcome o{.results = &run, .budgets = &b};
  o.eval = lg::evaluate(run, b);
  std::ostringstream s;
  lg::write_junit(s, o);
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(s.str().c_str()));
  const auto suite = doc.child("testsuites").child("testsuite");
  const auto na = o.eval.count(lg::verdict::not_applicable);
  ASSERT_EQ(na, 3u);
  EXPECT_EQ(suite.attribute("skipped").as_uint(), na);
  std::size_t skipped = 0;
  for (const auto& tc : suite.children("testcase")) {
    if (!tc.child("skipped")) continue;
    ++skipped;
    EXPECT_NE(std::string(tc.child("skipped").attribute("message").value()).find("no heap counter"),
              std::string::npos);
  }
  EXPECT_EQ(skipped, na);
  std::ostringstream m;
  lg::write_markdown(m, o);
  EXPECT_NE(m.str().find("| ➖ n/a |"), std::string::npos) << m.str();
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
  EXPECT_TRUE(families.count("leakgate_run_info"));
  EXPECT_TRUE(families.count("leakgate_ceiling_hit"));
  EXPECT_EQ(samples, now.keys().size() * (6 + 1) + o.eval.checks.size() + 1 + 1)
      << "4 counters + 2 intervals + ceiling_hit per benchmark, checks, run info, gate";
  const double v = counter("Nested/fixed", "heap_per_retry");
  EXPECT_NE(text.find(fmt::format("leakgate_heap_per_retry_bytes{{benchmark=\"Nested/fixed\","
                                  "inject_leak=\"65536\",target=\"model\"}} {:.17g}\n",
                                  v)),
            std::string::npos);
  EXPECT_NE(text.find("leakgate_run_info{payload=\"1048576\",retries=\"12\",gc=\"off\","
                      "broker=\"memory\",inject_leak=\"65536\",target=\"model\",git_commit=\""),
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
  // The name column is as wide as the longest name; then the counter and the value.
  EXPECT_TRUE(std::regex_search(plain, std::regex("\\nSingle/fixed +heap_per_retry  64 KiB ± ")))
      << plain.substr(0, 2000);
  const std::string colored =
      render([](std::ostream& s, const lg::outcome& x) { lg::write_table(s, x, true); });
  EXPECT_NE(colored.find("\033[1;31mFAIL"), std::string::npos);
}
