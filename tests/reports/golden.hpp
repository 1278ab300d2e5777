#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "reports/report/run_report.hpp"
#include "tests/reports/data.hpp"

namespace leakbench::test {

/// The first line where `a` and `b` differ, for a readable failure.
inline std::string first_difference(const std::string& a, const std::string& b) {
  std::istringstream x(a), y(b);
  std::string lx, ly;
  for (int line = 1;; ++line) {
    const bool more_x = static_cast<bool>(std::getline(x, lx));
    const bool more_y = static_cast<bool>(std::getline(y, ly));
    if (!more_x && !more_y) return "no difference";
    if (lx != ly || more_x != more_y) {
      return "line " + std::to_string(line) + ":\n  made:   " + (more_x ? lx : "(end)") +
             "\n  golden: " + (more_y ? ly : "(end)");
    }
  }
}

/// Compares a report's files with tests/data/golden/<name>. With LEAKBENCH_UPDATE_GOLDEN=1 in
/// the environment it rewrites the golden files instead (review the diff before committing).
inline void expect_golden(const report::files& made, const std::string& name) {
  namespace fs = std::filesystem;
  const fs::path dir = data_path("golden/" + name);
  if (std::getenv("LEAKBENCH_UPDATE_GOLDEN") != nullptr) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    for (const auto& [file, content] : made) std::ofstream(dir / file, std::ios::binary) << content;
    GTEST_SKIP() << "rewrote " << dir;
  }
  std::set<std::string> golden_names, made_names;
  for (const auto& e : fs::directory_iterator(dir)) golden_names.insert(e.path().filename());
  for (const auto& [file, content] : made) made_names.insert(file);
  EXPECT_EQ(made_names, golden_names);
  for (const auto& [file, content] : made) {
    if (!golden_names.count(file)) continue;
    const std::string golden = read_data("golden/" + name + "/" + file);
    EXPECT_TRUE(content == golden)
        << name << "/" << file << " differs at " << first_difference(content, golden);
  }
}

}  // namespace leakbench::test
