// leakreport as a user runs it: exit codes, one line per bad input, nothing left behind; and
// its page opened by a real headless Chromium: no console message, no request from the page,
// a screenshot with something on it.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fmt/ranges.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "tests/files.hpp"
#include "tests/reports/data.hpp"
#include "tests/reports/process.hpp"

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

/// What Chromium saw of a page: its console, the requests the page made, the screenshot.
struct page_visit {
  int exit_code = -1;
  std::vector<std::string> console;
  std::vector<std::string> page_requests;
  std::size_t screenshot_bytes = 0;
  std::uint32_t width = 0, height = 0;
};

/// Opens `page` in headless Chromium as the README says to: sandbox off (root), a fresh
/// profile, background networking off, and every host and proxy pointed nowhere so nothing
/// leaves the machine even when Chromium phones home by itself.
page_visit visit(const fs::path& page, const fs::path& work) {
  const fs::path shot = work / "shot.png", netlog = work / "netlog.json";
  const auto r = lt::run_process(
      "/usr/bin/chromium",
      {"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
       "--disable-background-networking", "--disable-component-update", "--disable-sync",
       "--user-data-dir=" + (work / "profile").string(), "--host-resolver-rules=MAP * ~NOTFOUND",
       "--proxy-server=127.0.0.1:9", "--window-size=1280,2000", "--screenshot=" + shot.string(),
       "--log-net-log=" + netlog.string(), "--enable-logging=stderr", "--v=0",
       "file://" + page.string()},
      work);
  page_visit v;
  v.exit_code = r.exit_code;
  std::istringstream err(r.err);
  for (std::string line; std::getline(err, line);) {
    if (line.find(":CONSOLE") != std::string::npos) v.console.push_back(line);
  }
  // The browser's own calls home carry its own isolation key; the page's carry file://.
  const auto log = nlohmann::json::parse(lt::slurp(netlog));
  const int start_job = log.at("constants").at("logEventTypes").at("URL_REQUEST_START_JOB");
  for (const auto& e : log.at("events")) {
    if (e.at("type") != start_job || !e.contains("params")) continue;
    const auto& p = e.at("params");
    if (p.value("network_isolation_key", "").starts_with("file://") && p.contains("url")) {
      v.page_requests.push_back(p.at("url"));
    }
  }
  if (fs::exists(shot)) {
    const std::string png = lt::slurp(shot);
    v.screenshot_bytes = png.size();
    if (png.size() > 24 && png.compare(1, 3, "PNG") == 0) {
      const auto be32 = [&](std::size_t at) {
        return (std::uint32_t(std::uint8_t(png[at])) << 24) |
               (std::uint32_t(std::uint8_t(png[at + 1])) << 16) |
               (std::uint32_t(std::uint8_t(png[at + 2])) << 8) | std::uint8_t(png[at + 3]);
      };
      v.width = be32(16);
      v.height = be32(20);
    }
  }
  return v;
}

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

// The page in a real browser: this check needs Debian's chromium, which the test command
// installs.
TEST_F(leakreport, the_page_opens_in_headless_chromium_offline_without_errors) {
  ASSERT_TRUE(fs::exists("/usr/bin/chromium")) << "scripts/install-deps installs chromium";
  const auto r = report({run("clean.json"), "--series", data_path("series/clean"), "--baseline",
                         run("inject_64KiB.json"), "--out", path("out")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  fs::create_directories(path("browser"));
  const auto v = visit(path("out/index.html"), path("browser"));
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_TRUE(v.console.empty()) << v.console.front();
  EXPECT_TRUE(v.page_requests.empty()) << v.page_requests.front();
  EXPECT_EQ(v.width, 1280u);
  EXPECT_EQ(v.height, 2000u);
  EXPECT_GT(v.screenshot_bytes, 60u * 1024) << "a blank page compresses to a few KiB";

  // The same check sees what it is there to see: a page that logs and fetches fails it.
  std::ofstream(path("browser/control.html"))
      << "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>control</title></head>"
         "<body><img src=\"http://example.com/pixel.png\"><script>console.error('seen')"
         "</script></body></html>";
  fs::create_directories(path("control"));
  const auto control = visit(path("browser/control.html"), path("control"));
  EXPECT_EQ(control.console.size(), 1u);
  EXPECT_EQ(control.page_requests, std::vector<std::string>{"http://example.com/pixel.png"});
}

TEST_F(leakreport, the_history_page_opens_in_headless_chromium_too) {
  ASSERT_TRUE(fs::exists("/usr/bin/chromium")) << "scripts/install-deps installs chromium";
  fs::create_directories(path("runs"));
  for (const char* f : {"clean.json", "inject_64KiB.json", "single_only.json"}) {
    fs::copy_file(run(f), path("runs/") + f);
  }
  const auto r = report({"--history", path("runs"), "--out", path("out")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  fs::create_directories(path("browser"));
  const auto v = visit(path("out/index.html"), path("browser"));
  EXPECT_TRUE(v.console.empty()) << v.console.front();
  EXPECT_TRUE(v.page_requests.empty()) << v.page_requests.front();
  EXPECT_GT(v.screenshot_bytes, 40u * 1024);
}
