#pragma once

#include <algorithm>
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

/// `r` with only the measured rows of the given repetitions (aggregates dropped), named
/// `source`: two halves of one recorded run make a baseline and a candidate of one config.
inline reports::run only_repetitions(reports::run r, const std::vector<std::int64_t>& kept,
                                     const std::string& source) {
  std::erase_if(r.rows, [&](const reports::benchmark_row& row) {
    return row.aggregate || std::find(kept.begin(), kept.end(), row.repetition_index) == kept.end();
  });
  r.source = source;
  return r;
}

/// Whether benchmark `key` is a leaky variant: the shipped budgets' leaky rules hold it.
inline bool is_leaky(const std::string& key) { return key.ends_with("/leaky"); }

/// The JSON of a run measured from outside a real Dramatiq worker (target "dramatiq"): RSS
/// counters only, no heap counter, the variants named by the user. Synthetic, because a real
/// one needs Python, Dramatiq and Redis, which the analyzers' tests do not; its keys are those
/// leakbench writes for such a run.
inline std::string dramatiq_run_text() {
  return R"({
  "context": {
    "date": "2026-12-02T02:03:23+00:00", "target": "dramatiq", "python": "/usr/bin/python3",
    "dramatiq.leaky.version": "1.15.0", "dramatiq.leaky.dir": "/opt/dramatiq-1.15.0",
    "dramatiq.leaky.commit": "", "dramatiq.leaky.python": "3.11.2",
    "dramatiq.installed.version": "1.17.1", "dramatiq.installed.dir": "/usr/lib/python3/dist-packages",
    "dramatiq.installed.commit": "4b3ef1a", "dramatiq.installed.python": "3.11.2",
    "payload": "1048576", "retries": "12", "warmup": "2", "gc": "off", "broker": "redis://127.0.0.1:6379",
    "concurrency": "5", "depth": "3", "inject_leak": "0", "leakbench_version": "0.2.0",
    "git_commit": "0123456789ab"
  },
  "benchmarks": [
    {"name": "Single/leaky/iterations:12/manual_time", "run_name": "Single/leaky/iterations:12/manual_time",
     "run_type": "iteration", "repetitions": 1, "repetition_index": 0, "iterations": 12,
     "real_time": 250.0, "time_unit": "ms", "ceiling_hit": 0, "expected_per_retry": 1048576,
     "payload": 1048576, "peak_rss": 60000000, "retained": 13000000, "retries": 12,
     "rss_ci95": 20000, "rss_end": 60000000, "rss_fit_start": 47000000, "rss_per_retry": 1062000,
     "rss_r2": 0.999, "rss_start": 47000000, "harness_time_per_retry": 0.02,
     "label": "retains about 1 MiB per retry"},
    {"name": "Single/installed/iterations:12/manual_time", "run_name": "Single/installed/iterations:12/manual_time",
     "run_type": "iteration", "repetitions": 1, "repetition_index": 0, "iterations": 12,
     "real_time": 240.0, "time_unit": "ms", "ceiling_hit": 0, "expected_per_retry": 0,
     "payload": 1048576, "peak_rss": 48000000, "retained": 40960, "retries": 12,
     "rss_ci95": 3000, "rss_end": 47040960, "rss_fit_start": 47000000, "rss_per_retry": 2100,
     "rss_r2": 0.3, "rss_start": 47000000, "harness_time_per_retry": 0.02}
  ]
})";
}

}  // namespace leakbench::test
