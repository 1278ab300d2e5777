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
                         run("inject_64KiB.json"), "--out", path("out")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_EQ(r.out, fmt::format("leakreport: wrote {}/index.html and 15 more files\n", path("out")));
  for (const char* f : {"index.html", "summary.md", "Nested_time.svg", "Nested_retries.svg"}) {
    EXPECT_GT(fs::file_size(path("out/") + f), 500u) << f;
  }
  const auto history = report({"--history", data_path("runs"), "--out", path("history")});
  EXPECT_EQ(history.exit_code, 2) << "tests/data/runs holds other tools' JSON too: " << history.err;
}

TEST_F(leakreport, bad_input_is_one_line_exit_code_2_and_no_partial_report) {
  fs::create_directories(path("empty_series"));
  std::ofstream(path("empty.json")) << R"({"context": {}, "benchmarks": []})";
  std::ofstream(path("a_file")) << "x";
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
  EXPECT_EQ(left, (std::vector<std::string>{"a_file", "empty.json", "empty_series"}));
}
