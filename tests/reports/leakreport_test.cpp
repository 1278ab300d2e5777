// leakreport as a user runs it: exit codes, one line per bad input, nothing left behind.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fmt/ranges.h>

#include <algorithm>

#include "tests/files.hpp"
#include "tests/process.hpp"
#include "tests/reports/data.hpp"

namespace fs = std::filesystem;
namespace lt = leakbench::test;
using lt::data_path;

namespace {

class leakreport : public ::testing::Test {
 protected:
  lt::process_result report(std::vector<std::string> args) {
    return lt::run_process(LEAKREPORT_EXE, std::move(args), dir_.path());
  }
  std::string path(const std::string& name) const { return (dir_.path() / name).string(); }
  /// Entries of the test folder other than the captured stdout and stderr.
  std::vector<std::string> leftovers() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_.path())) {
      const auto name = e.path().filename().string();
      if (name != "stdout.txt" && name != "stderr.txt") out.push_back(name);
    }
    return out;
  }
  lt::temp_dir dir_;
};

std::string run(const char* name) { return data_path(std::string("runs/") + name); }

}  // namespace

TEST_F(leakreport, writes_a_report_and_its_files) {
  const auto r = report({run("clean.json"), "--series", data_path("series/clean"), "--baseline",
                         run("single_only.json"), "--out", path("out")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  // summary.md and two charts per scenario beside index.html.
  const auto scenarios = (lt::recorded_run("clean.json").keys().size() + 1) / 2;
  EXPECT_EQ(r.out, fmt::format("leakreport: wrote {}/index.html and {} more files\n", path("out"),
                               1 + 2 * scenarios));
  for (const char* f : {"index.html", "summary.md", "Nested_time.svg", "Nested_retries.svg"}) {
    EXPECT_GT(fs::file_size(path("out/") + f), 500u) << f;
  }
  const auto history = report({"--history", data_path("runs"), "--out", path("history")});
  EXPECT_EQ(history.exit_code, 2) << "tests/data/runs holds other tools' JSON too: " << history.err;
  // Again into the same folder: leakreport replaces what it wrote itself.
  const auto again = report({run("clean.json"), "--out", path("out")});
  EXPECT_EQ(again.exit_code, 0) << again.err;
}

TEST_F(leakreport, an_out_that_is_a_symlink_to_a_folder_is_written_through_and_stays_a_link) {
  // site/latest -> 2026-12-07: a previous report there is replaced in place, the link kept.
  const auto first = report({run("single_only.json"), "--out", path("site/2026-12-07")});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::string before = lt::slurp(path("site/2026-12-07/index.html"));
  fs::create_symlink("2026-12-07", path("site/latest"));
  const auto r = report({run("clean.json"), "--out", path("site/latest")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::is_symlink(path("site/latest")));
  EXPECT_EQ(fs::read_symlink(path("site/latest")), "2026-12-07");
  const std::string after = lt::slurp(path("site/2026-12-07/index.html"));
  EXPECT_GT(after.size(), 500u);
  EXPECT_NE(after, before) << "the new report, not the previous one";
  std::vector<std::string> site;
  for (const auto& e : fs::directory_iterator(path("site"))) {
    site.push_back(e.path().filename().string());
  }
  std::sort(site.begin(), site.end());
  EXPECT_EQ(site, (std::vector<std::string>{"2026-12-07", "latest"})) << "no staging folder";
  EXPECT_EQ(leftovers(), std::vector<std::string>{"site"});
}

TEST_F(leakreport, bad_input_is_one_line_exit_code_2_and_no_partial_report) {
  fs::create_directories(path("empty_series"));
  std::ofstream(path("empty.json")) << R"({"context": {}, "benchmarks": []})";
  std::ofstream(path("a_file")) << "x";
  fs::create_directories(path("site"));
  std::ofstream(path("site/index.html")) << "<!DOCTYPE html><title>mine</title>";
  std::ofstream(path("budgets.toml"))
      << "[[rule]]\nmatch = \"/fixed$\"\ncounter = \"x\"\nmax = inf\n";
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{run("clean.json"), "--series", path("no_such"), "--out", path("o")}, "no such folder"},
      {{run("clean.json"), "--series", path("empty_series"), "--out", path("o")},
       "holds no series file"},
      {{run("other_tool.json"), "--out", path("o")}, "not Google Benchmark JSON"},
      {{run("cache_bench.json"), "--out", path("o")}, "not a leakbench run"},
      {{path("empty.json"), "--out", path("o")}, "holds no benchmark results"},
      {{run("clean.json"), "--out", "/proc/leakreport/o"}, "cannot write the report"},
      {{run("clean.json"), "--out", path("a_file/o")}, "cannot write the report"},
      {{run("clean.json")}, "--out is required"},
      {{run("clean.json"), "--out", path("site")}, "its index.html was not written by leakreport"},
      {{run("single_only.json"), "--series", data_path("series/clean"), "--out", path("o")},
       "the series is from another run"},
      {{run("clean.json"), "--baseline", run("inject_64KiB.json"), "--out", path("o")},
       "inject_leak=65536"},
      {{run("clean.json"), "--budgets", path("budgets.toml"), "--out", path("o")},
       "budgets.toml:4: max = inf: not a finite number"},
      {{"--out", path("o")}, "give one run"},
      {{run("clean.json"), "--history", data_path("runs"), "--out", path("o")}, "give one run"},
  };
  for (const auto& [args, says] : cases) {
    const auto r = report(args);
    const std::string what = fmt::format("{}", fmt::join(args, " "));
    EXPECT_EQ(r.exit_code, 2) << what << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << what << ": " << r.err;
    EXPECT_TRUE(r.err.starts_with("leakreport: ")) << r.err;
    EXPECT_NE(r.err.find(says), std::string::npos) << what << ": " << r.err;
  }
  // Nothing but what the test made itself: no report, no staging folder.
  auto left = leftovers();
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"a_file", "budgets.toml", "empty.json", "empty_series",
                                            "site"}));
}
