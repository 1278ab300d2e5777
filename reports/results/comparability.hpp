#pragma once

#include <string>
#include <vector>

#include "reports/results/run.hpp"

namespace leakbench::reports {

/// A context key on which two runs differ, with each run's value (or its default).
struct difference {
  std::string key;
  std::string now;
  std::string before;
};

/// The one comparability rule of leakgate --baseline and leakreport (--baseline, --history).
/// Throws input_error, one line naming the key and both values, when the runs differ in what a
/// retry retains: payload, gc, inject_leak, concurrency, depth or target (a run without
/// `target` is a "model" run, without `inject_leak` injected 0). Returns, without refusing, the
/// differences a reader must see: the leakbench version, the Python interpreter and each
/// variant's Dramatiq version, commit and Python version (comparing those is the upgrade
/// question itself), the broker and the retry count.
std::vector<difference> check_comparable(const run& now, const run& before);

/// "retries 12 → 16, dramatiq.installed.version 1.15.0 → 1.17.1": the differences, or "".
std::string describe_differences(const std::vector<difference>& d);

}  // namespace leakbench::reports
