#pragma once

#include <optional>
#include <string>

namespace leakbench::measure {

/// What every thread of a process is doing, from /proc/<pid>/task/*/stat.
struct thread_states {
  std::size_t threads = 0;  ///< threads found
  std::size_t running = 0;  ///< in state R (running or runnable) or D (uninterruptible I/O)
  /// True when every thread sleeps (S), is stopped or traced: nothing can allocate.
  bool asleep() const { return threads > 0 && running == 0; }
};

/// Reads the states of `pid`'s threads; nullopt once the process is gone.
std::optional<thread_states> read_thread_states(int pid);

}  // namespace leakbench::measure
