// leakreport: the picture of a leak (one run) and a dashboard over time (many runs), from
// leakbench's files only.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <optional>

#include "reports/report/history.hpp"
#include "reports/report/output_dir.hpp"
#include "reports/report/run_report.hpp"

namespace lr = leakbench::reports;
namespace rp = leakbench::report;

namespace {

constexpr int k_exit_usage = 2;

int usage_error(std::string what) {
  for (auto& c : what) {
    if (c == '\n') c = ' ';
  }
  std::fprintf(stderr, "leakreport: %s\n", what.c_str());
  return k_exit_usage;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "leakreport: an HTML report of a leakbench run (summary, severity, RSS charts), or a "
      "dashboard over many runs; self-contained pages, no network access.\n"
      "  leakreport RUN.json [--series DIR] [--baseline OLD.json] [--budgets FILE] --out DIR\n"
      "  leakreport --history RUNS_DIR --out DIR\n"
      "Exit codes: 0 written, 2 usage, input or output error (nothing is left behind).",
      "leakreport"};
  std::string run_file, series_dir, baseline_file, history_dir, out_dir, budgets_file;
  app.add_option("RUN", run_file,
                 "leakbench's JSON (--benchmark_out=F --benchmark_out_format=json)");
  app.add_option("--series", series_dir, "the folder of leakbench --series_out=DIR: RSS over time");
  app.add_option("--baseline", baseline_file, "an earlier run's JSON: growth per retry beside it");
  app.add_option("--budgets", budgets_file,
                 "leakgate's budgets TOML for the verdict column (default: the shipped "
                 "reports/budgets.toml)");
  app.add_option("--history", history_dir, "a folder of leakbench JSON files: the dashboard");
  app.add_option("--out", out_dir, "the report's folder (replaced whole, or not at all)")
      ->required();
  app.set_version_flag("--version", "leakreport " LEAKBENCH_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return usage_error(std::string(e.what()) + " (see --help)");
  }
  if (run_file.empty() == history_dir.empty()) {
    return usage_error("give one run (RUN.json) or --history RUNS_DIR");
  }
  if (!history_dir.empty() &&
      (!series_dir.empty() || !baseline_file.empty() || !budgets_file.empty())) {
    return usage_error("--series, --baseline and --budgets go with one run, not with --history");
  }
  try {
    rp::files files;
    if (!history_dir.empty()) {
      files = rp::build_history(history_dir);
    } else {
      const lr::run run = lr::read_run(run_file);
      std::optional<lr::run> baseline;
      if (!baseline_file.empty()) baseline = lr::read_run(baseline_file);
      const auto budgets = budgets_file.empty() ? leakbench::gate::default_budgets()
                                                : leakbench::gate::read_budgets(budgets_file);
      rp::run_inputs in{
          .results = &run, .baseline = baseline ? &*baseline : nullptr, .budgets = &budgets};
      if (!series_dir.empty()) in.series = series_dir;
      files = rp::build_run_report(in);
    }
    rp::write_report(out_dir, files);
    std::printf("leakreport: wrote %s/index.html and %zu more files\n", out_dir.c_str(),
                files.size() - 1);
    return 0;
  } catch (const lr::input_error& e) {
    return usage_error(e.what());
  } catch (const rp::output_error& e) {
    return usage_error(e.what());
  }
}
