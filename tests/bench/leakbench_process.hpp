#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/files.hpp"

extern char** environ;

namespace leakbench::test {

/// What a finished leakbench run left: exit code, stderr, and its JSON report if written.
struct leakbench_result {
  int exit_code = -1;
  std::string err;
  nlohmann::json report;
};

/// leakbench started as a user starts it (no shell), with JSON output into `dir`.
class leakbench_process {
 public:
  leakbench_process(std::vector<std::string> args, const std::filesystem::path& dir)
      : out_(dir / "out.json"), err_(dir / "stderr.txt") {
    std::filesystem::remove(out_);
    args.insert(args.begin(), LEAKBENCH_EXE);
    args.push_back("--benchmark_out=" + out_.string());
    args.push_back("--benchmark_out_format=json");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int rc = posix_spawn(&pid_, LEAKBENCH_EXE, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot start " LEAKBENCH_EXE);
  }
  ~leakbench_process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  leakbench_process(const leakbench_process&) = delete;
  leakbench_process& operator=(const leakbench_process&) = delete;

  /// Waits for the exit (a hang shows as the test's timeout) and collects the results.
  leakbench_result wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    leakbench_result r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.err = slurp(err_);
    if (std::filesystem::exists(out_) && std::filesystem::file_size(out_) > 0) {
      r.report = nlohmann::json::parse(slurp(out_));
    }
    return r;
  }

 private:
  std::filesystem::path out_, err_;
  pid_t pid_ = -1;
};

/// Runs leakbench to completion.
inline leakbench_result run_leakbench(std::vector<std::string> args,
                                      const std::filesystem::path& dir) {
  return leakbench_process(std::move(args), dir).wait();
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
