// leakgate: the CI gate on per-retry memory growth, from Google Benchmark JSON only.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>

#include "common/output_file.hpp"
#include "reports/gate/outcome.hpp"

namespace lg = leakbench::gate;
namespace lr = leakbench::reports;

namespace {

constexpr int k_exit_fail = 1, k_exit_usage = 2;

std::string one_line(std::string s) {
  for (auto& c : s) {
    if (c == '\n') c = ' ';
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

int usage_error(const std::string& what) {
  std::fprintf(stderr, "leakgate: %s\n", one_line(what).c_str());
  return k_exit_usage;
}

bool use_color(const std::string& mode) {
  if (mode != "auto") return mode == "always";
  const char* term = std::getenv("TERM");
  return ::isatty(1) == 1 && std::getenv("NO_COLOR") == nullptr &&
         (term == nullptr || std::strcmp(term, "dumb") != 0);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "leakgate: gates per-retry memory growth in Google Benchmark JSON (leakbench's, or any "
      "with memory counters) on the slope and its 95% interval.\n"
      "Exit codes: 0 every rule holds, 1 a rule fails or a baseline regression, 2 usage or "
      "input error.",
      "leakgate"};
  std::string results_file, budgets_file, baseline_file, inconclusive = "fail", color = "auto";
  std::string markdown, junit, bencher, gab, openmetrics;
  bool print_budgets = false;
  app.add_option("RESULTS", results_file,
                 "Google Benchmark JSON (--benchmark_out=F --benchmark_out_format=json, or "
                 "--benchmark_format=json on stdout); - reads standard input");
  app.add_option("--budgets", budgets_file,
                 "budgets TOML (default: reports/budgets.toml, built in)");
  app.add_option("--baseline", baseline_file, "an earlier run's JSON to compare slopes with");
  app.add_option("--inconclusive", inconclusive,
                 "what a check whose interval straddles its limit counts as (default fail)")
      ->check(CLI::IsMember({"fail", "pass"}));
  app.add_option("--markdown", markdown, "write a Markdown summary (a pull-request comment)");
  app.add_option("--junit", junit, "write JUnit XML (one test case per benchmark and rule)");
  app.add_option("--bencher", bencher, "write Bencher Metric Format JSON");
  app.add_option("--github-action-benchmark", gab,
                 "write github-action-benchmark customSmallerIsBetter JSON");
  app.add_option("--openmetrics", openmetrics,
                 "write the Prometheus text format (OpenMetrics-compatible), for a node_exporter "
                 "textfile collector");
  app.add_option("--color", color,
                 "colour the table: auto (a terminal without NO_COLOR), "
                 "always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  app.add_flag("--print-budgets", print_budgets, "print the built-in budgets and exit");
  app.set_version_flag("--version", "leakgate " LEAKBENCH_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version
  } catch (const CLI::ParseError& e) {
    return usage_error(std::string(e.what()) + " (see --help)");
  }
  if (print_budgets) {
    std::fwrite(lg::default_budgets_text().data(), 1, lg::default_budgets_text().size(), stdout);
    return 0;
  }
  if (results_file.empty()) return usage_error("RESULTS is required: leakgate RESULTS.json [...]");

  try {
    const lr::run results = lr::read_run(results_file);
    const lg::budgets budgets =
        budgets_file.empty() ? lg::default_budgets() : lg::read_budgets(budgets_file);
    std::optional<lr::run> baseline;
    if (!baseline_file.empty()) baseline = lr::read_run(baseline_file);

    lg::outcome o;
    o.results = &results;
    o.budgets = &budgets;
    o.policy =
        inconclusive == "pass" ? lg::inconclusive_policy::pass : lg::inconclusive_policy::fail;
    o.eval = lg::evaluate(results, budgets);
    lg::require_checks(o.eval, results, budgets);
    if (baseline) {
      o.baseline = &*baseline;
      o.differences = lr::check_comparable(results, *baseline);
      o.comparisons = lg::compare(results, *baseline, budgets);
    }

    lg::write_table(std::cout, o, use_color(color));
    std::cout.flush();
    const std::pair<const std::string*, void (*)(std::ostream&, const lg::outcome&)> exports[] = {
        {&markdown, lg::write_markdown},
        {&junit, lg::write_junit},
        {&bencher, lg::write_bencher},
        {&gab, lg::write_github_action_benchmark},
        {&openmetrics, lg::write_openmetrics}};
    for (const auto& [file, writer] : exports) {
      if (file->empty()) continue;
      // Rendered whole first: a dashboard never reads half an export.
      std::ostringstream text;
      writer(text, o);
      leakbench::common::write_output(*file, text.str());
    }
    return o.passed() ? 0 : k_exit_fail;
  } catch (const lr::input_error& e) {
    return usage_error(e.what());
  } catch (const leakbench::common::output_error& e) {
    return usage_error(e.what());
  }
}
