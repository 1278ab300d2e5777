#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace leakbench::bench {

/// How to start a child process.
struct spawn_options {
  std::vector<std::string> argv;  ///< argv[0] is the program: a path, or a name looked up on PATH
  std::vector<std::string> env;   ///< NAME=VALUE entries set on top of this process's environment
  bool pipe_stdin = false;        ///< a pipe to the child's standard input (else /dev/null)
  bool pipe_stdout = false;       ///< a pipe from its standard output (else our standard error)
  bool pipe_stderr = false;       ///< a pipe from its standard error (else ours)
  int record_fd = -1;             ///< if set, a pipe from this descriptor number in the child
  /// leakbench's SIGINT/SIGTERM handler forwards the signal to this child while it runs.
  bool forward_signals = false;
};

/// A child process that dies with us: it runs in its own process group (a terminal's signals
/// reach leakbench, which forwards them once), gets SIGKILL when leakbench dies
/// (PR_SET_PDEATHSIG), and is killed and reaped if still running when the object goes.
class child_process {
 public:
  /// Starts the child; throws std::system_error with one line if it cannot be started (the
  /// program missing or not executable included).
  explicit child_process(const spawn_options& opts);
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const { return pid_; }
  int stdin_fd() const { return stdin_; }    ///< -1 unless piped
  int stdout_fd() const { return stdout_; }  ///< -1 unless piped
  int stderr_fd() const { return stderr_; }  ///< -1 unless piped
  int record_fd() const { return record_; }  ///< -1 unless asked for
  /// Closes our end of the child's standard input (it reads EOF).
  void close_stdin();

  /// Sends `sig` if the child has not been reaped.
  void signal(int sig) const;
  /// Waits for the exit; the raw wait status.
  int wait();
  /// The wait status if the child has exited (reaping it), without blocking.
  std::optional<int> poll();
  /// Waits up to `timeout` for the exit; the wait status, or nullopt if still running.
  std::optional<int> wait_for(std::chrono::milliseconds timeout);
  /// SIGTERM, then SIGKILL if it has not exited within `grace`; the wait status.
  int stop(std::chrono::milliseconds grace);
  /// "exited with status 2", "killed by SIGKILL".
  static std::string describe(int status);

 private:
  pid_t pid_ = -1;
  bool forwarded_ = false;
  int stdin_ = -1, stdout_ = -1, stderr_ = -1, record_ = -1;
};

/// Reads `fd` until EOF; throws std::system_error on a read error.
std::string read_all(int fd);

}  // namespace leakbench::bench
