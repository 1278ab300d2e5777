#pragma once

#include <optional>
#include <string>
#include <vector>

namespace leakbench::measure {

/// What every thread of a process is doing, from /proc/<pid>/task/*/stat.
struct thread_states {
  std::size_t threads = 0;  ///< threads found
  std::size_t running = 0;  ///< in state R (running or runnable) or D (uninterruptible I/O)
  std::vector<int> busy;    ///< the thread ids of the running ones
  /// True when every thread sleeps (S), is stopped or traced: nothing can allocate.
  bool asleep() const { return threads > 0 && running == 0; }
};

/// Reads the states of `pid`'s threads, leaving out the thread ids in `ignore`; nullopt once
/// the process is gone.
std::optional<thread_states> read_thread_states(int pid, const std::vector<int>& ignore = {});

}  // namespace leakbench::measure
