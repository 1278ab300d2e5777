// The dashboard over many runs: ordered by date and commit, a step where a run leaked more, a
// gap where a run lacks a benchmark, and only leakbench runs accepted.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <pugixml.hpp>

#include "reports/report/history.hpp"
#include "reports/results/units.hpp"
#include "tests/files.hpp"
#include "tests/reports/golden.hpp"

namespace fs = std::filesystem;
namespace lr = leakbench::reports;
namespace rp = leakbench::report;
namespace lt = leakbench::test;

namespace {

/// A folder "runs" holding copies of recorded runs under the given names.
fs::path runs_folder(const lt::temp_dir& dir,
                     const std::vector<std::pair<std::string, std::string>>& files) {
  const fs::path runs = dir.path() / "runs";
  fs::create_directories(runs);
  for (const auto& [name, recorded] : files) {
    fs::copy_file(lt::data_path("runs/" + recorded), runs / name);
  }
  return runs;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST(history, orders_runs_by_date_and_shows_a_step_and_a_gap) {
  lt::temp_dir dir;
  // File names sort against the dates on purpose: the context decides the order.
  const auto runs = runs_folder(
      dir,
      {{"a.json", "single_only.json"}, {"b.json", "inject_64KiB.json"}, {"c.json", "clean.json"}});
  const auto files = rp::build_history(runs);
  const std::string& page = files.at("index.html");
  const auto clean = lt::recorded_run("clean.json"), leak = lt::recorded_run("inject_64KiB.json"),
             single = lt::recorded_run("single_only.json");
  ASSERT_LT(*clean.context_value("date"), *leak.context_value("date"));
  ASSERT_LT(*leak.context_value("date"), *single.context_value("date"));
  const auto at_c = page.find("c.json"), at_b = page.find("b.json"), at_a = page.find("a.json");
  EXPECT_LT(at_c, at_b);
  EXPECT_LT(at_b, at_a);

  // Nested/fixed: in runs 1 and 2 only (a gap at 3); run 2 leaked 64 KiB more per retry.
  const std::string& svg = files.at("Nested_fixed_rss_per_retry.svg");
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(svg.c_str()));
  EXPECT_EQ(count(svg, "<title>Nested/fixed, run "), 2u) << "no marker where the run lacks it";
  const double before = *clean.repetitions_of("Nested/fixed")[0]->number("rss_per_retry");
  const double after = *leak.repetitions_of("Nested/fixed")[0]->number("rss_per_retry");
  EXPECT_GT(after - before, 48 * 1024.0);
  EXPECT_NE(svg.find(fmt::format("run 2 ({}, {}, b.json): {} ± ", *leak.context_value("date"),
                                 *leak.context_value("git_commit"), lr::format_bytes(after))),
            std::string::npos);
  // Single/leaky is in all three: three markers and error bars.
  EXPECT_EQ(count(files.at("Single_leaky_rss_per_retry.svg"), "<title>Single/leaky, run "), 3u);
  EXPECT_EQ(files.size(), 1 + 14u * 2);
}

TEST(history, the_same_runs_give_the_same_files) {
  lt::temp_dir dir;
  const auto runs =
      runs_folder(dir, {{"small.json", "stdout.json"}, {"single.json", "single_only.json"}});
  const auto files = rp::build_history(runs);
  EXPECT_EQ(files, rp::build_history(runs));
  lt::expect_golden(files, "history");
}

TEST(history, a_folder_without_leakbench_runs_is_one_clear_error) {
  lt::temp_dir dir;
  const auto what = [](const fs::path& p) {
    try {
      rp::build_history(p);
    } catch (const lr::input_error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(what(dir.path() / "none"), (dir.path() / "none").string() + ": no such folder");
  EXPECT_EQ(what(dir.path()),
            dir.path().string() + ": holds no .json file (leakbench --benchmark_out=F.json)");
  const auto runs = runs_folder(dir, {{"a.json", "clean.json"}, {"b.json", "other_tool.json"}});
  EXPECT_EQ(what(runs), (runs / "b.json").string() +
                            ": not Google Benchmark JSON: no \"benchmarks\" array (top-level "
                            "keys: fileApi, generators, serverMode, tls, version)");
}
