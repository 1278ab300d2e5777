#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tests/files.hpp"
#include "tests/process.hpp"

namespace leakbench::test {

/// Dramatiq 2.2.0 just before the fix (b0e96f9) and at its merge (7d65704), extracted from
/// ../shared/third_party/dramatiq/ into the build tree at configure time (tests/CMakeLists.txt).
struct dramatiq_commits {
  std::string before;  ///< the folder holding the `dramatiq` package
  std::string after;
};

/// The commits, or why the real-worker tests cannot run here (each then skips, saying so).
inline std::optional<dramatiq_commits> find_dramatiq(std::string* why) {
  const dramatiq_commits c{LEAKBENCH_DRAMATIQ_BEFORE, LEAKBENCH_DRAMATIQ_AFTER};
  for (const auto& dir : {c.before, c.after}) {
    if (dir.empty() || !std::filesystem::exists(std::filesystem::path(dir) / "dramatiq")) {
      *why = fmt::format(
          "Dramatiq's archives were not found or did not verify at configure time "
          "({}): see tests/CMakeLists.txt",
          LEAKBENCH_DRAMATIQ_ARCHIVES);
      return std::nullopt;
    }
  }
  temp_dir d;
  const auto r = run_process("/usr/bin/python3", {"-c", "import redis"}, d.path());
  if (r.exit_code != 0) {
    *why = "/usr/bin/python3 cannot import redis (Debian's python3-redis): " + r.err;
    return std::nullopt;
  }
  const auto s = run_process("/bin/sh", {"-c", "command -v redis-server"}, d.path());
  if (s.exit_code != 0) {
    *why = "no redis-server on PATH (Debian's redis-server)";
    return std::nullopt;
  }
  return c;
}

/// A test against real Dramatiq workers: skipped, saying why, where the commits, Python's redis
/// or redis-server are missing. A fixture that sets up more calls this SetUp first and stops
/// if IsSkipped().
class with_dramatiq : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    commits_ = find_dramatiq(&why);
    if (!commits_) GTEST_SKIP() << why;
  }
  std::optional<dramatiq_commits> commits_;
  temp_dir dir_;
};

}  // namespace leakbench::test
