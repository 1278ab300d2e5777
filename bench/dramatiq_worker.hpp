#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/child_process.hpp"

namespace leakbench::bench {

/// A real worker that did not start, died or stopped answering; what() is one line, `code`
/// the exit code the worker's `error` event named (3 broker, 4 set-up), else 0.
class worker_error : public std::runtime_error {
 public:
  explicit worker_error(const std::string& what, int c = 0) : std::runtime_error(what), code(c) {}
  int code = 0;
};

/// How to start a real worker (scenarios/dramatiq/leakbench_worker.py).
struct worker_launch {
  std::string python;       ///< the interpreter
  std::string script_dir;   ///< where leakbench_worker.py and its modules are
  std::string package_dir;  ///< where its `dramatiq` package is; empty: whatever Python imports
  std::vector<std::string> args;   ///< the worker's own arguments
  std::vector<std::string> paths;  ///< first on PYTHONPATH, before package_dir (--variant)
};

/// A real Dramatiq worker process: JSON lines on its stdout, one command per line on its stdin,
/// its stderr drained (each failed attempt logs a traceback there) and its last lines kept for
/// the error message if it dies. It dies with leakbench: its stdin closes, and the parent-death
/// signal kills it.
class dramatiq_worker {
 public:
  explicit dramatiq_worker(const worker_launch& launch);
  ~dramatiq_worker();
  dramatiq_worker(const dramatiq_worker&) = delete;
  dramatiq_worker& operator=(const dramatiq_worker&) = delete;

  pid_t pid() const { return process_.pid(); }
  /// The next event line (`{"event": ...}`) within `timeout`; throws worker_error if the worker
  /// ends first (with its exit status and last stderr lines), sends an `error` event, or stays
  /// silent (it is then killed when the object goes).
  nlohmann::json next_event(std::chrono::milliseconds timeout);
  /// The next event if one comes before `deadline`, else nothing; throws as next_event does
  /// but for the silence.
  std::optional<nlohmann::json> wait_event(std::chrono::steady_clock::time_point deadline);
  /// Sends `command` (a line) and returns its reply (`{"reply": <first word>, ...}`); events
  /// that come before it are kept for next_event, in order. An `error` reply throws
  /// worker_error; so does silence past `timeout`.
  nlohmann::json command(const std::string& command, std::chrono::milliseconds timeout);
  /// How many lines the worker has written on stderr so far: a mark for last_stderr.
  std::size_t stderr_lines();
  /// True once an answer timed out: the worker is hung or stopped.
  bool unresponsive() const { return unresponsive_; }
  /// The last lines (at most 6) the worker wrote on stderr, from line `since` on, joined by
  /// " | "; "" if none.
  std::string last_stderr(std::size_t since = 0);
  /// Drains stderr and checks the worker still runs; throws worker_error if it has ended.
  void check_alive();
  /// `stop`, then waits up to `grace` for its `stopped` event (its queue flushed), then for the
  /// exit, then kills it; true if it said it stopped.
  bool stop(std::chrono::milliseconds grace);
  /// Kills it at once: a worker that stopped answering gets no grace.
  void kill();
  /// "exited with status 1; its last words: ...".
  std::string ended(int status);

  /// Runs `python leakbench_worker.py --probe` for `launch`; the probe line, or worker_error with
  /// the reason the worker gave (or how it ended).
  static nlohmann::json probe(const worker_launch& launch, std::chrono::milliseconds timeout);

 private:
  /// Reads what is there on stdout and stderr within `timeout`; false on stdout's end.
  bool pump(std::chrono::milliseconds timeout);
  /// The next line as JSON before `deadline` (nothing at it); throws worker_error if the
  /// worker ended or wrote something that is not JSON.
  std::optional<nlohmann::json> next_line(std::chrono::steady_clock::time_point deadline);

  child_process process_;
  std::string out_;                    // stdout not yet split into lines
  std::deque<nlohmann::json> events_;  // events read while waiting for a reply
  std::string err_;                    // the current stderr line
  std::deque<std::string> last_;       // the last stderr lines
  std::size_t err_lines_ = 0;          // stderr lines seen in all
  bool out_closed_ = false;
  bool unresponsive_ = false;  // an answer timed out: killed at once when the object goes
};

/// The environment a real worker runs with: PYTHONPATH with the package's folder first (if
/// any), then the scripts'.
std::vector<std::string> worker_environment(const worker_launch& launch);

}  // namespace leakbench::bench
