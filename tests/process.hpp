#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/files.hpp"

extern char** environ;

namespace leakbench::test {

/// A program started as a user starts it (no shell), its standard input, output and error
/// redirected from and to files. Killed if it is still running when the object goes.
class child_process {
 public:
  /// `env`: NAME=VALUE entries that replace or add to this process's environment.
  child_process(const std::string& exe, std::vector<std::string> args, const std::string& in,
                const std::string& out, const std::string& err,
                const std::vector<std::string>& env = {}) {
    args.insert(args.begin(), exe);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, in.c_str(), O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<std::string> entries;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string entry = *e;
      const auto named = [&](const std::string& other) {
        return other.substr(0, other.find('=')) == entry.substr(0, entry.find('='));
      };
      if (std::none_of(env.begin(), env.end(), named)) entries.push_back(entry);
    }
    entries.insert(entries.end(), env.begin(), env.end());
    std::vector<char*> envp;
    for (auto& e : entries) envp.push_back(e.data());
    envp.push_back(nullptr);
    const int rc = posix_spawn(&pid_, exe.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot start " + exe);
  }
  ~child_process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const { return pid_; }
  /// Sends `sig` to the running program.
  void signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
  }
  /// Waits for the exit (a hang shows as the test's timeout); the exit code, or 128 + signal.
  int wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
};

/// What a finished process left: its exit code, standard output and error.
struct process_result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs `exe` with `args` to completion, standard input from `in` if given, standard output
/// and error captured through files in `dir`.
inline process_result run_process(const std::string& exe, std::vector<std::string> args,
                                  const std::filesystem::path& dir, const std::string& in = "") {
  const auto out = dir / "stdout.txt", err = dir / "stderr.txt";
  process_result r;
  r.exit_code = child_process(exe, std::move(args), in.empty() ? "/dev/null" : in, out, err).wait();
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

}  // namespace leakbench::test
