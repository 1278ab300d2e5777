#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/process.hpp"

namespace leakbench::test {

/// What a finished leakbench run left: exit code, stderr, and its JSON report if written.
struct leakbench_result {
  int exit_code = -1;
  std::string err;
  nlohmann::json report;      ///< null if none was written, or if it is not valid JSON
  bool json_invalid = false;  ///< a file was written but it does not parse
};

/// leakbench started as a user starts it (no shell), with JSON output into `dir`.
class leakbench_process {
 public:
  /// `env`: NAME=VALUE entries on top of this process's environment.
  /// `keep_out`: an out.json already in `dir` is left for leakbench to replace (or keep).
  leakbench_process(std::vector<std::string> args, const std::filesystem::path& dir,
                    const std::vector<std::string>& env = {}, bool keep_out = false)
      : out_(dir / "out.json"),
        console_(dir / "stdout.txt"),
        err_(dir / "stderr.txt"),
        child_(start(std::move(args), env, keep_out)) {}
  /// Its pid.
  pid_t pid() const { return child_.pid(); }

  /// What it printed on standard output so far (the console table, a row per finished run).
  std::string console() const { return slurp(console_); }
  /// What it printed on standard error so far (Google Benchmark's header once running).
  std::string errors() const { return slurp(err_); }
  /// Sends `sig` to it.
  void signal(int sig) const { child_.signal(sig); }

  /// Waits for the exit (a hang shows as the test's timeout) and collects the results.
  leakbench_result wait() {
    leakbench_result r;
    r.exit_code = child_.wait();
    r.err = slurp(err_);
    if (std::filesystem::exists(out_) && std::filesystem::file_size(out_) > 0) {
      r.report = nlohmann::json::parse(slurp(out_), nullptr, false);  // strict: NaN fails
      if (r.report.is_discarded()) {
        r.report = nullptr;
        r.json_invalid = true;
      }
    }
    return r;
  }

 private:
  child_process start(std::vector<std::string> args, const std::vector<std::string>& env,
                      bool keep_out) {
    if (!keep_out) std::filesystem::remove(out_);
    args.push_back("--benchmark_out=" + out_.string());
    args.push_back("--benchmark_out_format=json");
    // Queue records (queue_records.hpp) go in the test's folder, never in the user's home.
    auto with_state = env;
    if (std::none_of(env.begin(), env.end(),
                     [](const std::string& e) { return e.starts_with("XDG_STATE_HOME="); })) {
      with_state.push_back("XDG_STATE_HOME=" + (out_.parent_path() / "state").string());
    }
    return child_process(LEAKBENCH_EXE, std::move(args), "/dev/null", console_, err_, with_state);
  }

  std::filesystem::path out_, console_, err_;
  child_process child_;
};

/// Runs leakbench to completion.
inline leakbench_result run_leakbench(std::vector<std::string> args,
                                      const std::filesystem::path& dir,
                                      const std::vector<std::string>& env = {}) {
  return leakbench_process(std::move(args), dir, env).wait();
}

/// Benchmarks by their name without Google Benchmark's suffixes: "Nested/leaky".
inline std::map<std::string, nlohmann::json> by_name(const nlohmann::json& report) {
  std::map<std::string, nlohmann::json> m;
  for (const auto& b : report.at("benchmarks")) {
    const std::string full = b.at("name");
    const auto second_slash = full.find('/', full.find('/') + 1);
    m[full.substr(0, second_slash)] = b;
  }
  return m;
}

}  // namespace leakbench::test
