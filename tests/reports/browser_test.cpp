// leakreport's pages opened by a real headless Chromium: no console message, no request from
// the page, a screenshot with something on it; and a control page that fails the same check.
// Needs Debian's chromium, which the test command installs.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/files.hpp"
#include "tests/process.hpp"
#include "tests/reports/data.hpp"

namespace fs = std::filesystem;
namespace lt = leakbench::test;
using lt::data_path;

namespace {

/// What Chromium saw of a page: its console, the requests the page made, the screenshot.
struct page_visit {
  int exit_code = -1;
  std::vector<std::string> console;
  std::vector<std::string> page_requests;
  std::size_t screenshot_bytes = 0;
  std::uint32_t width = 0, height = 0;
};

/// Opens `page` in headless Chromium: sandbox off (CI runs as root), a fresh
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

std::string run(const char* name) { return data_path(std::string("runs/") + name); }

class browser : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists("/usr/bin/chromium")) << "scripts/install-deps installs chromium";
  }
  lt::process_result report(std::vector<std::string> args) {
    return lt::run_process(LEAKREPORT_EXE, std::move(args), dir_.path());
  }
  std::string path(const std::string& name) const { return (dir_.path() / name).string(); }
  lt::temp_dir dir_;
};

}  // namespace

TEST_F(browser, the_page_opens_in_headless_chromium_offline_without_errors) {
  const auto r = report({run("clean.json"), "--series", data_path("series/clean"), "--baseline",
                         run("single_only.json"), "--out", path("out")});
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

TEST_F(browser, the_history_page_opens_in_headless_chromium_too) {
  fs::create_directories(path("runs"));
  // Runs that compare (one payload, gc, injection): the history refuses any others.
  for (const char* f : {"clean.json", "repetitions.json", "single_only.json"}) {
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
