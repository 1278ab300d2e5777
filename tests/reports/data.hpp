#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "reports/gate/budgets.hpp"
#include "reports/results/run.hpp"

namespace leakbench::test {

/// A recorded input under tests/data (see tests/data/record for how each was made).
inline std::string data_path(const std::string& relative) {
  return std::string(LEAKBENCH_TEST_DATA) + "/" + relative;
}

inline std::string read_data(const std::string& relative) {
  std::ifstream in(data_path(relative), std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// A recorded run, named in messages by its path below tests/data.
inline reports::run recorded_run(const std::string& name) {
  return reports::parse_run(read_data("runs/" + name), name);
}

}  // namespace leakbench::test
